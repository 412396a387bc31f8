"""``auth login --browser``: the CLI's consent flow against a sandbox on a port, driven over HTTP by the test.

The CLI runs as a process (as a person runs it) with ``--no-browser`` and an ephemeral ``--port 0``; the test
reads the authorize URL it prints, plays the browser on the sandbox's consent page, and sends the browser's
redirect to the CLI's loopback listener (or pastes it on the CLI's stdin).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from outreach_connector.catalogue_folders import load_manifest
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving


@pytest.fixture(scope="module")
def served():
    sandbox = Sandbox(SandboxConfig(access_token=None))  # only tokens the flow mints work
    with serving(sandbox) as base_url:
        yield sandbox, base_url.removesuffix("/api/v2")


@pytest.fixture
def sandbox(served):
    sandbox, root = served
    sandbox.reset()
    sandbox.root = root
    return sandbox


class Login:
    """The CLI process and what it printed."""

    def __init__(self, sandbox, config_dir: Path, *extra: str, secret: str = "sandbox-client-secret") -> None:
        env = {**os.environ, "OUTREACH_CONNECTOR_CONFIG_DIR": str(config_dir),
               "OUTREACH_CLIENT_ID": "sandbox-client-id", "OUTREACH_CLIENT_SECRET": secret,
               "OUTREACH_TOKEN_URL": f"{sandbox.root}/oauth/token", "OUTREACH_BASE_URL": f"{sandbox.root}/api/v2",
               "OUTREACH_AUTHORIZE_URL": f"{sandbox.root}/oauth/authorize"}
        env.pop("OUTREACH_REFRESH_TOKEN", None)
        env.pop("OUTREACH_ACCESS_TOKEN", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "outreach_connector.cli", "auth", "login", "--browser", "--no-browser",
             "--port", "0", "--timeout", "60", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.err_lines: list[str] = []
        self.authorize_url = self._read_url()

    def _read_url(self) -> str:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.err_lines.append(line)
            if line.startswith("http"):
                return line.strip()
        raise AssertionError(f"no authorize URL printed: {self.err_lines}")

    def finish(self, stdin: str = "") -> tuple[int, str, str]:
        out, err = self.process.communicate(stdin, timeout=60)
        return self.process.returncode, out, "".join(self.err_lines) + err


def consent(authorize_url: str, decision: str = "allow") -> str:
    """The browser on Outreach's consent page: where Outreach sends it back to."""
    with httpx.Client() as browser:
        assert browser.get(authorize_url).status_code == 200
        answer = browser.post(authorize_url, data={"decision": decision})
    assert answer.status_code == 302
    return answer.headers["location"]


def stored(config_dir: Path) -> dict:
    (entry,) = json.loads((config_dir / "credentials.json").read_text())["entries"].values()
    return entry


def test_the_browser_comes_back_to_the_loopback_and_the_profile_is_stored(sandbox, tmp_path):
    config_dir = tmp_path / "config"
    login = Login(sandbox, config_dir, "--profile", "work")
    url = urlsplit(login.authorize_url)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{sandbox.root}/oauth/authorize"
    redirect = query["redirect_uri"][0]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", redirect)
    assert query["response_type"] == ["code"] and query["client_id"] == ["sandbox-client-id"]
    assert query["scope"] == [" ".join(load_manifest().auth["scopes"])]
    back = consent(login.authorize_url)
    assert back.startswith(redirect + "?")
    wrong_state = httpx.get(re.sub(r"state=[^&]+", "state=forged", back))
    assert wrong_state.status_code == 400  # ignored: the login keeps waiting
    page = httpx.get(back)
    assert page.status_code == 200 and "Outreach connected" in page.text
    code, out, err = login.finish()
    assert code == 0, err
    assert json.loads(out)["stored"]["profile"] == "work"
    entry = stored(config_dir)
    assert (entry["client_id"], entry["token_url"], entry["client_secret"]) == (
        "sandbox-client-id", f"{sandbox.root}/oauth/token", "sandbox-client-secret")
    assert entry["refresh_token"].startswith("sbx_rt_") and entry["access_token"].startswith("sbx_at_")
    assert sandbox.tokens.code_exchanges == 1
    assert entry["refresh_token"] not in out + err and "code=" not in err.split(login.authorize_url)[-1]
    call = subprocess.run([sys.executable, "-m", "outreach_connector.cli", "call", "get_stage", '{"stage_id": 2}',
                           "--profile", "work"], capture_output=True, text=True, timeout=60,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("OUTREACH_")},
                               "OUTREACH_CONNECTOR_CONFIG_DIR": str(config_dir)})
    assert call.returncode == 0, call.stderr


def test_with_no_browser_the_redirect_address_may_be_pasted(sandbox, tmp_path):
    login = Login(sandbox, tmp_path / "config", "--scope", "stages.all")
    assert parse_qs(urlsplit(login.authorize_url).query)["scope"] == ["stages.all"]
    back = consent(login.authorize_url)
    code, out, err = login.finish(f"not it\n{back}\n")
    assert code == 0, err
    assert "not the address this login is waiting for" in err
    assert stored(tmp_path / "config")["refresh_token"].startswith("sbx_rt_")


def test_deny_stores_nothing_and_exits_3(sandbox, tmp_path):
    login = Login(sandbox, tmp_path / "config")
    httpx.get(consent(login.authorize_url, "deny"))
    code, out, err = login.finish()
    assert code == 3 and out == ""
    error = json.loads(err.strip().splitlines()[-1])
    assert error["error"] == "BrowserLoginFailed" and "access_denied" in error["message"]
    assert not (tmp_path / "config" / "credentials.json").exists()


def test_a_refused_exchange_stores_nothing_and_never_shows_the_secret(sandbox, tmp_path):
    login = Login(sandbox, tmp_path / "config", secret="wrong-secret-canary")
    httpx.get(consent(login.authorize_url))
    code, out, err = login.finish()
    assert code == 3 and "invalid_client" in err and "wrong-secret-canary" not in err
    assert not (tmp_path / "config" / "credentials.json").exists()


def test_no_answer_in_time_exits_3(cli, monkeypatch, sandbox):
    for name, value in {"OUTREACH_CLIENT_ID": "sandbox-client-id", "OUTREACH_CLIENT_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdin", open(os.devnull))
    result = cli("auth", "login", "--browser", "--no-browser", "--port", "0", "--timeout", "0.2",
                 "--authorize-url", f"{sandbox.root}/oauth/authorize")
    error = json.loads(result.err.strip().splitlines()[-1])  # after the URL and the waiting note
    assert result.code == 3 and "no answer from the browser within 0.2 s" in error["message"]


def test_missing_app_credentials_or_an_unknown_scope_are_local_errors(cli, monkeypatch):
    missing = cli("auth", "login", "--browser", "--no-browser", "--port", "0")
    assert missing.code == 2 and "OUTREACH_CLIENT_ID" in missing.error["message"]
    for name, value in {"OUTREACH_CLIENT_ID": "c", "OUTREACH_CLIENT_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    unknown = cli("auth", "login", "--browser", "--no-browser", "--port", "0", "--scope", "nope.all")
    assert unknown.code == 2 and "nope.all" in unknown.error["message"]


def test_a_busy_port_is_a_local_error(cli, monkeypatch):
    import socket

    for name, value in {"OUTREACH_CLIENT_ID": "c", "OUTREACH_CLIENT_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = cli("auth", "login", "--browser", "--no-browser", "--port", str(busy.getsockname()[1]))
    assert result.code == 2 and "--port" in result.error["message"]

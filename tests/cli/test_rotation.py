"""OAuth credentials survive Outreach's refresh-token rotation across consecutive CLI runs (item 1).

A real sandbox on loopback rotates the refresh token on every refresh, as Outreach does. Between runs the
test revokes the access token the sandbox issued, so each run after the first must refresh again, with
the token the previous run stored.
"""
from __future__ import annotations

import json
import os
import stat

import httpx
import pytest

from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

INITIAL_REFRESH = "sandbox-refresh-token"


@pytest.fixture(scope="module")
def served():
    sandbox = Sandbox(SandboxConfig(access_token=None))  # only OAuth-minted tokens work
    with serving(sandbox) as base_url:
        yield sandbox, base_url


@pytest.fixture
def sandbox(served, monkeypatch):
    sandbox, base_url = served
    sandbox.reset()
    token_url = base_url.removesuffix("/api/v2") + "/oauth/token"
    for name, value in {"OUTREACH_BASE_URL": base_url, "OUTREACH_TOKEN_URL": token_url,
                        "OUTREACH_CLIENT_ID": "sandbox-client-id", "OUTREACH_CLIENT_SECRET": "sandbox-client-secret",
                        "OUTREACH_REFRESH_TOKEN": INITIAL_REFRESH}.items():
        monkeypatch.setenv(name, value)
    sandbox.token_url = token_url
    return sandbox


def stored(config_dir) -> dict:
    (entry,) = json.loads((config_dir / "credentials.json").read_text())["entries"].values()
    return entry


def expire_access_token(sandbox, config_dir) -> None:
    """What two hours between runs would do: the stored access token no longer works."""
    sandbox.tokens.revoke(stored(config_dir)["access_token"])


def test_consecutive_runs_continue_the_rotated_chain(cli, sandbox, config_dir):
    first = cli("call", "get_stage", '{"stage_id": 2}')
    assert (first.code, first.output["data"]["id"], sandbox.token_refreshes) == (0, 2, 1)
    after_first = stored(config_dir)
    assert after_first["refresh_token"] != INITIAL_REFRESH  # rotated, and the new one kept

    expire_access_token(sandbox, config_dir)
    second = cli("call", "get_stage", '{"stage_id": 3}')
    assert (second.code, second.output["data"]["id"], sandbox.token_refreshes) == (0, 3, 2)
    assert stored(config_dir)["refresh_token"] not in (INITIAL_REFRESH, after_first["refresh_token"])

    third = cli("call", "get_stage", '{"stage_id": 2}')  # a valid stored access token: no refresh at all
    assert (third.code, sandbox.token_refreshes) == (0, 2)


def test_without_the_stored_tokens_the_second_run_is_stranded(cli, sandbox, config_dir):
    """The control: what the stored chain prevents (the environment's refresh token is already spent)."""
    assert cli("call", "get_stage", '{"stage_id": 2}').code == 0
    expire_access_token(sandbox, config_dir)
    (config_dir / "credentials.json").unlink()
    stranded = cli("call", "get_stage", '{"stage_id": 2}')
    assert (stranded.code, stranded.error["error"]) == (3, "ReconnectRequired")


def test_a_new_refresh_token_in_the_environment_starts_a_new_chain(cli, sandbox, config_dir, monkeypatch):
    assert cli("call", "get_stage", '{"stage_id": 2}').code == 0
    old_chain = stored(config_dir)
    reauthorised = httpx.post(sandbox.token_url, data={
        "grant_type": "authorization_code", "code": "sandbox-auth-code", "client_id": "sandbox-client-id",
        "client_secret": "sandbox-client-secret"}).json()["refresh_token"]
    monkeypatch.setenv("OUTREACH_REFRESH_TOKEN", reauthorised)
    assert cli("call", "get_stage", '{"stage_id": 2}').code == 0
    new_chain = stored(config_dir)
    assert new_chain["seeded_from"] != old_chain["seeded_from"]
    assert new_chain["refresh_token"] not in (old_chain["refresh_token"], reauthorised)


def test_the_file_is_private_atomic_and_never_printed(cli, sandbox, config_dir):
    result = cli("call", "get_stage", '{"stage_id": 2}', "--verbose")
    entry = stored(config_dir)
    assert stat.S_IMODE(os.stat(config_dir / "credentials.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(config_dir).st_mode) == 0o700
    assert sorted(p.name for p in config_dir.iterdir()) == [".credentials.json.lock", "credentials.json"]
    status = cli("auth", "status")
    for secret in (entry["refresh_token"], entry["access_token"], "sandbox-client-secret", INITIAL_REFRESH):
        assert secret not in result.out + result.err + status.out + status.err
    assert status.output["logins"][0]["client_id"] == "sandbox-client-id"


def test_a_profile_stored_by_auth_login_needs_no_environment(cli, sandbox, config_dir, monkeypatch):
    login = cli("auth", "login", "--profile", "work")
    assert login.code == 0 and login.output["stored"]["profile"] == "work"
    for variable in ("OUTREACH_CLIENT_ID", "OUTREACH_CLIENT_SECRET", "OUTREACH_REFRESH_TOKEN",
                     "OUTREACH_TOKEN_URL", "OUTREACH_BASE_URL"):
        monkeypatch.delenv(variable)
    assert cli("call", "get_stage", '{"stage_id": 2}', "--profile", "work").code == 0
    expire_access_token(sandbox, config_dir)
    assert cli("call", "get_stage", '{"stage_id": 2}', "--profile", "work").code == 0
    assert sandbox.token_refreshes == 2

    assert cli("auth", "logout", "--profile", "work").output == {"removed": 1}
    gone = cli("call", "get_stage", '{"stage_id": 2}', "--profile", "work")
    assert gone.code == 2 and "auth login --profile work" in gone.error["message"]


def test_a_login_stored_after_some_runs_continues_their_chain(cli, sandbox, config_dir):
    """The README's order: calls from the environment first, then auth login from the same environment.
    The exported refresh token is spent by then; the login and the environment share the live chain."""
    assert cli("call", "get_stage", '{"stage_id": 2}').code == 0
    expire_access_token(sandbox, config_dir)
    assert cli("auth", "login", "--profile", "work").code == 0
    assert cli("call", "get_stage", '{"stage_id": 2}', "--profile", "work").code == 0
    entries = json.loads((config_dir / "credentials.json").read_text())["entries"].values()
    for entry in entries:
        sandbox.tokens.revoke(entry["access_token"])
    again = cli("call", "get_stage", '{"stage_id": 3}')  # the environment again, after the profile rotated
    assert (again.code, again.output["data"]["id"], sandbox.token_refreshes) == (0, 3, 3)
    assert cli("call", "get_stage", '{"stage_id": 2}', "--profile", "work").code == 0


def test_a_misspelt_profile_is_suggested(cli, sandbox):
    assert cli("auth", "login", "--profile", "work").code == 0
    result = cli("call", "get_stage", '{"stage_id": 2}', "--profile", "wrok")
    assert result.code == 2 and "did you mean work?" in result.error["message"]


def test_an_unreadable_credentials_file_is_a_local_error(cli, sandbox, config_dir):
    config_dir.mkdir(mode=0o700)
    (config_dir / "credentials.json").write_text("{not json")
    result = cli("call", "get_stage", '{"stage_id": 2}')
    assert result.code == 2 and str(config_dir / "credentials.json") in result.error["message"]
    assert sandbox.requests == []  # nothing was sent


def test_a_run_that_lost_the_race_for_a_refresh_retries_with_the_stored_successor(cli, sandbox, config_dir,
                                                                                 monkeypatch):
    """Two runs start with the same stored token; the other one refreshes first and stores the successor."""
    from outreach_connector.cli import session
    from outreach_connector.cli.credentials_file import CredentialsFile

    assert cli("call", "get_stage", '{"stage_id": 2}').code == 0
    expire_access_token(sandbox, config_dir)
    read_before_the_other_run = CredentialsFile(config_dir).find("default")
    assert cli("call", "get_stage", '{"stage_id": 2}').code == 0  # the other run: spends that refresh token
    expire_access_token(sandbox, config_dir)
    reads = iter([read_before_the_other_run])
    real_continued = CredentialsFile.continued
    monkeypatch.setattr(session.CredentialsFile, "continued",
                        lambda self, entry: next(reads, None) or real_continued(self, entry))
    late = cli("call", "get_stage", '{"stage_id": 3}')
    assert (late.code, late.output["data"]["id"], sandbox.token_refreshes) == (0, 3, 3)


def test_a_dead_refresh_token_says_how_to_reconnect(cli, sandbox, monkeypatch):
    monkeypatch.setenv("OUTREACH_REFRESH_TOKEN", "never-issued")
    result = cli("call", "get_stage", '{"stage_id": 2}')
    assert (result.code, result.error["error"]) == (3, "ReconnectRequired")
    assert result.error["message"].endswith("Then give the CLI the new refresh token (export "
                                            "OUTREACH_REFRESH_TOKEN, or outreach-connector auth login); it "
                                            "stores every rotated one from then on.")
    assert "never-issued" not in result.err

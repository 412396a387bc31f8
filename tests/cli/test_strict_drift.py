"""``call`` on output drift, end to end: a served sandbox sends an attribute of another type than its schema.

The drifted value is the Singer tap's string ``senderNotificationsExcluded`` (judged wrong: the vendor's boolean
stands), put straight into the sandbox's store, since the sandbox refuses it on write as Outreach would.
By default the record comes back as sent and one warning names the path; ``--strict`` (or
``OUTREACH_STRICT_OUTPUT``) fails with ``OutputInvalid`` carrying the raw body.
"""
from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

DRIFTED = "yes-canary"  # a string where Outreach documents a boolean
GET = '{"user_id": 1, "fields": ["senderNotificationsExcluded"]}'
LIST = '{"paginate": true, "page_size": 2, "fields": ["senderNotificationsExcluded"]}'
WARNING = ("get_user: Outreach sent attributes.senderNotificationsExcluded as string, which its output schema does "
           "not allow; the record is returned as sent (further drift on this path is counted, not logged)")


@pytest.fixture(scope="module")
def drifted_url():
    sandbox = Sandbox(SandboxConfig())
    for ident in (1, 3):  # users 1 and 3: the first and the second page of a two-a-page walk
        user = sandbox.store.get("user", ident).copy()
        user.attributes["senderNotificationsExcluded"] = DRIFTED
        sandbox.store.table("user").put(user)
    with serving(sandbox) as url:
        yield url


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("OUTREACH_ACCESS_TOKEN", "sandbox-access-token")
    monkeypatch.delenv("OUTREACH_STRICT_OUTPUT", raising=False)


def test_by_default_the_record_is_returned_as_sent_and_the_drift_logged_once(cli, drifted_url, token, caplog):
    result = cli("call", "get_user", GET, "--base-url", drifted_url)
    assert result.code == 0
    assert result.output["data"]["attributes"] == {"senderNotificationsExcluded": DRIFTED}
    drift = [r for r in caplog.records if r.name == "outreach_connector.drift"]
    assert [(r.levelno, r.getMessage()) for r in drift] == [(logging.WARNING, WARNING)]


@pytest.mark.parametrize("how", [("--strict",), ("env",)])
def test_strict_fails_with_output_invalid_and_the_raw_body(cli, drifted_url, token, monkeypatch, how):
    if how == ("env",):
        monkeypatch.setenv("OUTREACH_STRICT_OUTPUT", "1")
    result = cli("call", "get_user", GET, "--base-url", drifted_url, *(a for a in how if a != "env"))
    assert (result.code, result.out) == (1, "")
    assert result.error["error"] == "OutputInvalid"
    assert [e["path"] for e in result.error["errors"]] == ["data.attributes.senderNotificationsExcluded"]
    assert result.error["raw"]["data"]["attributes"] == {"senderNotificationsExcluded": DRIFTED}


def test_a_lenient_walk_keeps_every_page_and_a_strict_one_stops(cli, drifted_url, token):
    lenient = cli("call", "list_users", LIST, "--base-url", drifted_url)
    assert lenient.code == 0
    values = [u["attributes"]["senderNotificationsExcluded"] for u in lenient.output["data"]]
    assert len(values) == 8 and values[0] == values[2] == DRIFTED
    strict = cli("call", "list_users", LIST, "--base-url", drifted_url, "--strict")
    assert (strict.code, strict.error["error"]) == (1, "OutputInvalid")
    assert strict.error["errors"][0]["path"] == "data[0].attributes.senderNotificationsExcluded"


def test_the_warning_reaches_stderr_without_the_value(drifted_url, config_dir):
    """Outside pytest no logging is configured: the warning still reaches the terminal (Python's last resort)."""
    env = {"OUTREACH_ACCESS_TOKEN": "sandbox-access-token", "OUTREACH_CONNECTOR_PLUGINS": "none",
           "OUTREACH_CONNECTOR_CONFIG_DIR": str(config_dir), "PATH": ""}
    done = subprocess.run([sys.executable, "-m", "outreach_connector.cli", "call", "get_user", GET,
                           "--base-url", drifted_url], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and DRIFTED in done.stdout
    assert done.stderr == WARNING + "\n"

"""Server configuration: flags over environment over defaults; no start without an API key."""
from __future__ import annotations

from pathlib import Path

from outreach_connector.server import main
from outreach_connector.server.settings import settings_from


def test_defaults():
    settings = settings_from([], env={})
    assert (settings.host, settings.port, settings.api_keys, settings.database) == (
        "127.0.0.1", 8080, (), Path("outreach-connector.db"))
    assert settings.outreach_base_url == "https://api.outreach.io/api/v2"
    assert settings.token_url == "https://api.outreach.io/oauth/token"
    assert settings.encryption_key is None
    assert settings.session_check_seconds == 5


def test_the_session_check_interval_is_a_flag():
    assert settings_from(["--session-check-seconds", "0"], env={}).session_check_seconds == 0


def test_environment():
    env = {"OUTREACH_CONNECTOR_API_KEYS": "k1, k2,", "OUTREACH_CONNECTOR_DB": "/tmp/a.db",
           "OUTREACH_CONNECTOR_SECRET_KEY": "key-canary", "OUTREACH_BASE_URL": "http://127.0.0.1:8090/api/v2",
           "OUTREACH_TOKEN_URL": "http://127.0.0.1:8090/oauth/token"}
    settings = settings_from([], env=env)
    assert [k.get_secret_value() for k in settings.api_keys] == ["k1", "k2"]
    assert settings.database == Path("/tmp/a.db")
    assert settings.encryption_key.get_secret_value() == "key-canary"
    assert (settings.outreach_base_url, settings.token_url) == (env["OUTREACH_BASE_URL"], env["OUTREACH_TOKEN_URL"])
    assert "key-canary" not in repr(settings) and "k1" not in repr(settings)


def test_flags_win_over_the_environment():
    env = {"OUTREACH_CONNECTOR_API_KEYS": "env-key", "OUTREACH_CONNECTOR_DB": "/tmp/env.db"}
    settings = settings_from(["--api-key", "a", "--api-key", "b", "--database", "/tmp/flag.db", "--port", "9",
                              "--host", "0.0.0.0", "--outreach-base-url", "http://x/api/v2",
                              "--token-url", "http://x/oauth/token", "--encryption-key", "k"], env=env)
    assert [k.get_secret_value() for k in settings.api_keys] == ["a", "b"]
    assert (settings.database, settings.port, settings.host) == (Path("/tmp/flag.db"), 9, "0.0.0.0")
    assert (settings.outreach_base_url, settings.token_url) == ("http://x/api/v2", "http://x/oauth/token")


def test_main_refuses_to_start_without_an_api_key(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OUTREACH_CONNECTOR_API_KEYS", raising=False)
    assert main(["--database", str(tmp_path / "x.db")]) == 2
    assert "refusing to start without an API key" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_main_reports_a_bad_encryption_key_without_echoing_it(tmp_path, capsys):
    assert main(["--api-key", "settings-test-api-key", "--database", str(tmp_path / "x.db"), "--encryption-key",
                 "bad-key-canary"]) == 2
    err = capsys.readouterr().err
    assert "encryption key" in err and "bad-key-canary" not in err
    assert list(tmp_path.iterdir()) == []  # nothing created on a refused start

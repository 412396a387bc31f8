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


def test_every_serve_flag_is_one_row_of_the_table_and_names_its_variable():
    from outreach_connector.server.settings import OPTIONS, build_parser

    flags = {a.option_strings[0]: a for a in build_parser()._actions if a.option_strings[0] != "-h"}
    assert list(flags) == [option.flag for option in OPTIONS]
    assert len(flags) == 40
    for flag, action in flags.items():
        assert " (env OUTREACH_" in " ".join(action.help.split()), flag


def test_the_variables_new_to_the_table_are_read_and_lists_are_comma_separated():
    env = {"OUTREACH_CONNECTOR_PORT": "9001", "OUTREACH_CONNECTOR_LOG_LEVEL": "debug",
           "OUTREACH_CONNECTOR_ALLOWED_CALLBACK_URLS": "https://a.test/hook, https://b.test/hook",
           "OUTREACH_AUTHORIZE_URL": "http://127.0.0.1:8090/oauth/authorize",
           "OUTREACH_CONNECTOR_ALLOWED_TOKEN_URLS": "https://t1.test/token/,https://t2.test/token"}
    settings = settings_from([], env=env)
    assert (settings.port, settings.log_level, settings.authorize_url) == (
        9001, "debug", "http://127.0.0.1:8090/oauth/authorize")
    assert settings.allowed_callback_urls == ("https://a.test/hook", "https://b.test/hook")
    assert settings.allowed_token_urls == ("https://t1.test/token", "https://t2.test/token")
    assert settings_from(["--port", "9002", "--log-level", "error"], env=env).port == 9002


def test_a_bad_variable_fails_naming_its_setting():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="log_level"):
        settings_from([], env={"OUTREACH_CONNECTOR_LOG_LEVEL": "loud"})


def test_a_previous_key_file_can_come_from_the_environment(tmp_path):
    (tmp_path / "old.key").write_text("old-key\n")
    settings = settings_from([], env={"OUTREACH_CONNECTOR_PREVIOUS_SECRET_KEY_FILE": str(tmp_path / "old.key"),
                                      "OUTREACH_CONNECTOR_PREVIOUS_SECRET_KEY": "ignored-under-the-file"})
    assert [k.get_secret_value() for k in settings.previous_encryption_keys] == ["old-key"]


def test_built_in_python_the_server_reads_no_variable_but_the_plugin_choice(monkeypatch):
    from outreach_connector.server.settings import ServerSettings
    from outreach_connector.settings import Settings

    for name, value in {"OUTREACH_CONNECTOR_PORT": "9", "OUTREACH_CONNECTOR_API_KEYS": "env-key",
                        "OUTREACH_BASE_URL": "https://env.test/api/v2", "OUTREACH_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)
    settings = ServerSettings(api_keys=("k",))
    assert (settings.port, len(settings.api_keys), settings.outreach_base_url) == (
        8080, 1, "https://api.outreach.io/api/v2")
    assert settings.connector.timeout.read == 60 and settings.connector.base_url == settings.outreach_base_url
    assert ServerSettings.model_fields["connector"].default_factory is Settings  # no variable read in a default


def test_the_connector_carries_the_servers_outreach_urls_without_mutating_a_frozen_model():
    from outreach_connector.server.settings import ServerSettings
    from outreach_connector.settings import Settings

    mine = Settings(max_retry_wait=3)
    settings = ServerSettings(api_keys=("k",), outreach_base_url="http://x.test/api/v2/",
                              token_url="http://x.test/oauth/token", connector=mine)
    assert (settings.connector.base_url, settings.connector.token_url) == (
        "http://x.test/api/v2", "http://x.test/oauth/token")
    assert settings.connector.max_retry_wait == 3
    assert mine.base_url == "https://api.outreach.io/api/v2"  # the caller's settings are left as they were


def test_an_outreach_url_flag_hides_its_variable_from_the_connector_settings_too():
    chosen = settings_from(["--api-key", "k", "--outreach-base-url", "https://api.example/api/v2",
                            "--token-url", "https://api.example/oauth/token"],
                           env={"OUTREACH_BASE_URL": "not a url", "OUTREACH_TOKEN_URL": "nope"})
    assert chosen.connector.base_url == chosen.outreach_base_url == "https://api.example/api/v2"
    assert chosen.connector.token_url == chosen.token_url == "https://api.example/oauth/token"

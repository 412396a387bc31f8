"""What a new user meets in the first hour (issue 18, item 10): no traceback for an empty listing, a way out of
a broken plugin, a did-you-mean for a credentials variable set under a wrong name (its name, never its value)."""
from __future__ import annotations

import pytest

from outreach_connector import hookimpl
from outreach_connector.errors import PluginError
from outreach_connector.registry import Registry, get_plugin_manager

WAY_OUT = ("; to start without it: OUTREACH_CONNECTOR_PLUGINS=none (no installed plugins), or name the ones to "
           "load, comma-separated")


def test_operations_from_plugins_with_no_plugin_is_an_empty_listing(cli):
    table = cli("operations", "--origin", "plugin")
    assert (table.code, table.out, table.err) == (0, "", "")  # a table of no rows
    listed = cli("operations", "--origin", "plugin", "--json")
    assert (listed.code, listed.output, listed.err) == (0, [], "")


def test_operations_with_an_unknown_origin_names_the_choices(cli):
    refused = cli("operations", "--origin", "plugins")
    assert refused.code == 2 and refused.out == ""
    assert refused.error == {"error": "UsageError", "message": (
        "outreach-connector operations: argument --origin: invalid choice: 'plugins' (choose from 'seed', "
        "'outreach-schema', 'plugin') (did you mean plugin?); see outreach-connector operations --help")}


def test_a_broken_plugins_error_says_how_to_start_without_it():
    class Broken:
        @hookimpl
        def register_operations(self, register):
            raise RuntimeError("no config")

    with pytest.raises(PluginError) as refused:
        Registry(get_plugin_manager([Broken()], entry_points=False))
    assert refused.value.message.endswith("register_operations failed: RuntimeError: no config" + WAY_OUT)


def test_the_built_in_plugins_error_offers_no_way_out_it_cannot_take():
    """OUTREACH_CONNECTOR_PLUGINS never leaves the built-in catalogue out: its errors do not suggest it."""
    error = PluginError("outreach_connector.default_plugin", "unreadable YAML", "operations/x.yaml")
    assert error.message == "plugin 'outreach_connector.default_plugin' refused (operations/x.yaml): unreadable YAML"


def test_a_misspelt_access_token_variable_is_named_with_the_right_one(cli, monkeypatch):
    monkeypatch.setenv("OUTREACH_ACESS_TOKEN", "secret-canary")
    refused = cli("call", "list_stages", "{}")
    assert (refused.code, refused.error["error"]) == (2, "CredentialsMissing")
    assert refused.error["message"].endswith(
        "Nothing was sent. OUTREACH_ACESS_TOKEN is set: did you mean OUTREACH_ACCESS_TOKEN?")
    assert "secret-canary" not in refused.err


def test_auth_login_names_a_misspelt_refresh_token_variable(cli, monkeypatch, config_dir):
    monkeypatch.setenv("OUTREACH_CLIENT_ID", "client")
    monkeypatch.setenv("OUTREACH_CLIENT_SECRET", "secret-canary")
    monkeypatch.setenv("OUTREACH_REFRESHTOKEN", "secret-canary")
    refused = cli("auth", "login")
    assert refused.code == 2 and "secret-canary" not in refused.err
    assert refused.error == {"error": "ConfigurationInvalid", "message": (
        "auth login needs OUTREACH_REFRESH_TOKEN (the client secret and refresh token are read from the "
        "environment only, never from flags); nothing was stored. OUTREACH_REFRESHTOKEN is set: did you mean "
        "OUTREACH_REFRESH_TOKEN?")}
    assert not config_dir.exists()


def test_other_connector_variables_are_not_taken_for_misspellings(cli, monkeypatch):
    """OUTREACH_BASE_URL looks like OUTREACH_TOKEN_URL but is a variable of its own."""
    monkeypatch.setenv("OUTREACH_BASE_URL", "https://api.outreach.io/api/v2")
    refused = cli("call", "list_stages", "{}")
    assert refused.error["message"].endswith("Nothing was sent.")

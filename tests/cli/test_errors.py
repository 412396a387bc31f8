"""Errors that say what to do (items 3 and 5): JSON on stderr, exit 2 for anything local, suggestions."""
from __future__ import annotations

import io
import sys

import pytest

from outreach_connector.errors import UnknownOperation

NOWHERE = "http://127.0.0.1:9/api/v2"  # nothing listens on port 9: a request would fail, not hang


@pytest.mark.parametrize("argument,fragment", [
    pytest.param("@{tmp}/missing.json", "does not exist", id="missing-file"),
    pytest.param("@{tmp}", "is a directory", id="directory"),
    pytest.param("@{tmp}/empty.json", "is empty", id="empty-file"),
    pytest.param("@", "needs a file name", id="no-file-name"),
    pytest.param("{nope", "is not valid JSON (Expecting property name", id="malformed"),
])
def test_unreadable_input_is_a_json_error_with_exit_2(cli, tmp_path, argument, fragment):
    (tmp_path / "empty.json").write_text("  \n")
    result = cli("call", "get_stage", argument.replace("{tmp}", str(tmp_path)), "--sandbox")
    assert (result.code, result.out, result.error["error"]) == (2, "", "InputUnreadable")
    assert fragment in result.error["message"]


def test_empty_stdin_says_what_to_give(cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    result = cli("call", "get_stage", "-", "--sandbox")
    assert result.code == 2
    assert result.error["message"].startswith("stdin is empty: the operation input is a JSON object; give it")


def test_no_credentials_is_exit_2_and_names_every_way_to_give_them(cli, monkeypatch):
    monkeypatch.setenv("OUTREACH_BASE_URL", NOWHERE)
    result = cli("call", "list_stages", "{}")
    assert (result.code, result.error["error"]) == (2, "CredentialsMissing")
    for named in ("OUTREACH_ACCESS_TOKEN", "OUTREACH_CLIENT_ID", "OUTREACH_CLIENT_SECRET", "OUTREACH_REFRESH_TOKEN",
                  "call list_stages --sandbox", "Nothing was sent"):
        assert named in result.error["message"]
    assert "status_code" not in result.error


def test_a_refresh_token_without_its_client_is_a_local_error(cli, monkeypatch):
    monkeypatch.setenv("OUTREACH_BASE_URL", NOWHERE)
    monkeypatch.setenv("OUTREACH_REFRESH_TOKEN", "r")
    monkeypatch.setenv("OUTREACH_CLIENT_ID", "c")
    result = cli("call", "list_stages", "{}")
    assert (result.code, result.error["error"]) == (2, "ConfigurationInvalid")
    assert "OUTREACH_CLIENT_SECRET is not" in result.error["message"]


def test_a_bad_setting_is_exit_2(cli):
    result = cli("call", "list_stages", "{}", "--base-url", "api.outreach.io")
    assert (result.code, result.error["error"]) == (2, "SettingsInvalid")
    result = cli("call", "list_stages", "{}", "--timeout", "soon")
    assert (result.code, result.error["error"]) == (2, "SettingsInvalid")


def test_network_errors_name_the_host(cli, monkeypatch):
    monkeypatch.setenv("OUTREACH_ACCESS_TOKEN", "t")
    result = cli("call", "list_stages", "{}", "--base-url", NOWHERE, "--max-retry-wait", "0.01")
    assert (result.code, result.error["error"]) == (3, "TransportError")
    assert result.error["message"].startswith("GET http://127.0.0.1:9/api/v2/stages: ConnectError")


def test_unknown_operation_suggests_close_names(cli):
    result = cli("call", "list_prospect", "{}", "--sandbox")
    assert result.code == 2
    assert result.error["message"].startswith("unknown operation 'list_prospect' (did you mean list_prospects, "
                                              "list_prospects_ddl or ")
    assert cli("describe", "get_prospects").error["suggestions"][0] == "get_prospect"


def test_unknown_operation_without_a_close_name_suggests_nothing():
    error = UnknownOperation("frobnicate", ["list_prospects", "get_stage"])
    assert (error.message, error.suggestions) == ("unknown operation 'frobnicate'", [])


def test_python_api_names_the_closest_operation():
    from outreach_connector import Connector

    with pytest.raises(UnknownOperation) as caught:
        Connector(access_token="t").validate("get_stages", {})
    assert caught.value.message == "unknown operation 'get_stages' (did you mean get_stage or get_task?)"


@pytest.mark.parametrize("operation,data,path,message", [
    pytest.param("list_prospects", {"pagesize": 3}, "pagesize", "unknown field (did you mean page_size?)",
                 id="top-level-field"),
    pytest.param("update_stage", {"stage_id": 1, "attributes": {"nam": "x"}}, "attributes.nam",
                 "unknown field (did you mean name?)", id="nested-attribute"),
    pytest.param("list_prospects", {"filters": [{"field": "firstname", "criteria": "Ada"}]}, "filters[0].field",
                 '"firstname" is not one of the 261 known names (did you mean firstName?)',
                 id="filter-field"),
    pytest.param("list_prospects", {"filters": [{"field": "shoeSize", "criteria": 1}]}, "filters[0].field",
                 '"shoeSize" is not one of the 261 known names', id="filter-field-nothing-close"),
    pytest.param("get_stage", {"stage_id": "12a"}, "stage_id", '"12a" is not a positive whole number',
                 id="id-pattern-in-words"),
    pytest.param("list_stages", {"page_size": "abc"}, "page_size", '"abc" is not of type "integer"',
                 id="other-messages-unchanged"),
])
def test_input_errors_say_what_is_wrong_in_words(cli, operation, data, path, message):
    import json

    result = cli("call", operation, json.dumps(data), "--sandbox")
    assert result.code == 2
    assert {"path": path, "message": message} in result.error["errors"]
    assert "other candidates" not in result.err and "^[" not in result.err


@pytest.mark.parametrize("argv,message", [
    pytest.param(["opertions"], "outreach-connector: argument COMMAND: invalid choice: 'opertions' (choose from "
                 "'operations', 'describe', 'schema', 'call', 'auth', 'mcp', 'serve', 'sandbox', 'demo', 'triggers') "
                 "(did you mean operations?); see outreach-connector --help", id="misspelt-command"),
    pytest.param(["call"], "outreach-connector call: the following arguments are required: name; see "
                 "outreach-connector call --help", id="missing-argument"),
    pytest.param(["auth", "lgin"], "outreach-connector auth: argument {login,status,logout}: invalid choice: "
                 "'lgin' (choose from 'login', 'status', 'logout') (did you mean login?); see outreach-connector "
                 "auth --help", id="misspelt-auth-action"),
])
def test_usage_mistakes_are_json_errors_with_suggestions(cli, argv, message):
    result = cli(*argv)
    assert (result.code, result.out, result.error) == (2, "", {"error": "UsageError", "message": message})

"""Plugins add operations and handlers through the same hooks as the built-in ones."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from conftest import FakeOutreach, jsonapi
from outreach_connector import OperationSpec, hookimpl
from outreach_connector.catalogue_folders import load_entries
from outreach_connector.errors import NotFound, OutputInvalid, PluginError, RegistryError
from outreach_connector.handlers import HttpCall
from outreach_connector.registry import Registry, get_plugin_manager

PING_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {"echo": {"type": "string"}}}


def ping_spec(name: str = "ping_outreach", kind: str = "ping") -> OperationSpec:
    return OperationSpec(name=name, title="Ping", description="Ask Outreach who we are.", kind=kind,
                         resource=None, path="/", input_schema=PING_SCHEMA,
                         output_schema={"type": "object", "required": ["pong"]})


def test_a_plugin_adds_an_operation_with_its_own_handler_and_it_runs(make_connector):
    class PingHandler:
        def build(self, spec, data, ctx):
            return HttpCall("GET", "/", params=(("echo", data.get("echo", "")),))

        def parse(self, spec, data, reply, ctx):
            return {"pong": reply.body["meta"]["echo"]}

    class PingPlugin:
        @hookimpl
        def register_operations(self, register):
            register(ping_spec())

        @hookimpl
        def register_handlers(self, register):
            register("ping", PingHandler())

    fake = FakeOutreach(lambda request: jsonapi(200, {"meta": {"echo": request.url.params["echo"]}}))
    conn = make_connector(fake, plugins=[PingPlugin()])

    assert conn.call("ping_outreach", {"echo": "hi"}) == {"pong": "hi"}
    assert [r.url.path for r in fake.requests] == ["/api/v2/"]
    assert len(conn.operations()) == len(load_entries()) + 1


def test_a_duplicate_operation_name_is_refused():
    class Duplicate:
        @hookimpl
        def register_operations(self, register):
            register(ping_spec(name="list_prospects"))

    with pytest.raises(RegistryError, match="'list_prospects' is registered twice"):
        Registry(get_plugin_manager([Duplicate()], entry_points=False))


def test_a_duplicate_handler_kind_is_refused_naming_both_plugins():
    class Duplicate:
        @hookimpl
        def register_handlers(self, register):
            register("list", SimpleNamespace(build=print, parse=print))

    with pytest.raises(RegistryError) as refused:
        Registry(get_plugin_manager([Duplicate()], entry_points=False))
    assert refused.value.message == (  # pluggy calls the later registered first: the plugin, then the core
        f"two plugins register a handler for kind 'list' ({__name__}.{Duplicate.__qualname__} and "
        "outreach_connector.default_plugin)")


def test_a_handler_without_build_and_parse_is_refused():
    class Incomplete:
        @hookimpl
        def register_handlers(self, register):
            register("ping", object())

    with pytest.raises(PluginError, match="the handler for kind 'ping' needs build\\(\\) and parse\\(\\)"):
        Registry(get_plugin_manager([Incomplete()], entry_points=False))


def test_an_operation_whose_kind_has_no_handler_is_refused():
    class Orphan:
        @hookimpl
        def register_operations(self, register):
            register(ping_spec())

    with pytest.raises(RegistryError, match="no handler for kind 'ping'"):
        Registry(get_plugin_manager([Orphan()], entry_points=False))


def test_a_misspelled_hook_fails_at_load():
    class Misspelled:
        @hookimpl
        def register_operation(self, register):  # missing "s"
            pass

    with pytest.raises(Exception, match="unknown hook"):
        get_plugin_manager([Misspelled()], entry_points=False)


def test_a_typo_in_an_entry_fails_at_load():
    with pytest.raises(ValueError, match="titel"):
        OperationSpec.model_validate({"name": "x", "titel": "X", "title": "X", "description": "d", "kind": "list",
                                      "resource": "stage", "path": "/stages", "input_schema": "a",
                                      "output_schema": "b"})


def test_serve_refuses_to_start_on_a_refused_plugin_with_one_line_and_writes_nothing(tmp_path):
    import subprocess
    import sys

    database = tmp_path / "auth.db"
    result = subprocess.run([sys.executable, "-m", "outreach_connector.cli", "serve",
                             "--database", str(database), "--port", "0"], capture_output=True, text=True,
                            timeout=60, env={"PATH": "/usr/bin", "OUTREACH_CONNECTOR_PLUGINS": "missing_plugin",
                                 "OUTREACH_CONNECTOR_API_KEYS": "plugin-test-api-key"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "outreach-connector serve: plugin 'missing_plugin' refused: no installed plugin has this entry-point name")
    assert list(tmp_path.iterdir()) == []


class ProfileHandler:
    """A plugin kind of two requests: the user, then the user's mailbox; a user without one (404) is answered
    with ``mailbox: None`` by the flow itself, which is handed the error."""

    def build(self, spec, data, ctx):
        return HttpCall("GET", f"/users/{data['user_id']}")

    def parse(self, spec, data, reply, ctx):
        return {"user": reply.body["data"]["id"]}

    def flow(self, spec, data, ctx):
        user = yield self.build(spec, data, ctx)
        mailbox_id = user.body["data"]["relationships"]["mailbox"]["data"]["id"]
        try:
            mailbox = yield HttpCall("GET", f"/mailboxes/{mailbox_id}")
        except NotFound:
            return {"user": user.body["data"]["id"], "mailbox": None}
        return {"user": user.body["data"]["id"], "mailbox": mailbox.body["data"]["attributes"]["email"]}


PROFILE_INPUT = {"type": "object", "additionalProperties": False, "required": ["user_id"],
                 "properties": {"user_id": {"type": "integer"}}}
PROFILE_OUTPUT = {"type": "object", "additionalProperties": False, "required": ["user", "mailbox"],
                  "properties": {"user": {"type": "integer"}, "mailbox": {"type": ["string", "null"]}}}


def profile_plugin():
    class ProfilePlugin:
        @hookimpl
        def register_operations(self, register):
            register(OperationSpec(name="get_user_profile", title="User profile", description="A user and mailbox.",
                                   kind="profile", input_schema=PROFILE_INPUT, output_schema=PROFILE_OUTPUT))

        @hookimpl
        def register_handlers(self, register):
            register("profile", ProfileHandler())

    return ProfilePlugin()


def profile_outreach(mailbox_status: int = 200, email: object = "ada@example.com") -> FakeOutreach:
    def respond(request):
        if request.url.path == "/api/v2/users/7":
            return jsonapi(200, {"data": {"type": "user", "id": 7,
                                          "relationships": {"mailbox": {"data": {"type": "mailbox", "id": 3}}}}})
        if mailbox_status != 200:
            return jsonapi(mailbox_status, {"errors": [{"id": "resourceNotFound", "title": "Not found"}]})
        return jsonapi(200, {"data": {"type": "mailbox", "id": 3, "attributes": {"email": email}}})
    return FakeOutreach(respond)


def test_a_plugin_handler_with_a_flow_sends_each_request_it_yields(make_connector):
    fake = profile_outreach()
    conn = make_connector(fake, plugins=[profile_plugin()])
    assert conn.call("get_user_profile", {"user_id": 7}) == {"user": 7, "mailbox": "ada@example.com"}
    assert [(r.method, r.url.path) for r in fake.requests] == [("GET", "/api/v2/users/7"),
                                                                ("GET", "/api/v2/mailboxes/3")]


@pytest.mark.anyio
async def test_an_error_is_thrown_into_the_flow_which_may_answer_it(make_connector):
    fake = profile_outreach(mailbox_status=404)
    conn = make_connector(fake, plugins=[profile_plugin()])
    assert conn.call("get_user_profile", {"user_id": 7}) == {"user": 7, "mailbox": None}
    assert await conn.acall("get_user_profile", {"user_id": 7}) == {"user": 7, "mailbox": None}
    assert [r.url.path for r in fake.requests] == ["/api/v2/users/7", "/api/v2/mailboxes/3"] * 2
    await conn.aclose()


def test_a_flows_output_is_validated_against_the_last_reply(make_connector):
    conn = make_connector(profile_outreach(email=5), plugins=[profile_plugin()])
    with pytest.raises(OutputInvalid) as caught:
        conn.call("get_user_profile", {"user_id": 7})
    assert caught.value.raw == {"data": {"type": "mailbox", "id": 3, "attributes": {"email": 5}}}

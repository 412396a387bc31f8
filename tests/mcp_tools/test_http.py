"""``serve`` mounts the tools at ``/mcp``: behind the API key, stateless, one tenant per request."""
from __future__ import annotations

import secrets
import sys
import time

import anyio
import httpx
import pytest

from outreach_connector.mcp.tools import tool_set
from outreach_connector.server import ServerSettings, create_app

from server.helpers import FakeOutreach
from server.live import LiveServer
from .helpers import http_client, text_json

outreach_sandbox = pytest.importorskip("outreach_sandbox")

KEY = f"mcp-key-{secrets.token_hex(4)}"
OTHER_KEY = f"mcp-other-key-{secrets.token_hex(4)}"
CANARY = f"canary-access-{secrets.token_hex(6)}"


class Env:
    def __init__(self, sandbox, server_url: str) -> None:
        self.sandbox = sandbox
        self.url = f"{server_url}/mcp"
        self.server_url = server_url

    def store(self, key: str) -> str:
        answer = httpx.post(f"{self.server_url}/authentications", headers={"Authorization": f"Bearer {key}"},
                            json={"name": "mcp", "credentials": {"access_token": CANARY}})
        assert answer.status_code == 201
        return answer.json()["id"]

    def requests_seen(self) -> int:
        return len(self.sandbox.request_log) if hasattr(self.sandbox, "request_log") else -1


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    sandbox = outreach_sandbox.Sandbox(outreach_sandbox.SandboxConfig(clock=time.time, access_token=CANARY))
    with LiveServer(sandbox.app) as sandbox_url:
        settings = ServerSettings(api_keys=(KEY, OTHER_KEY), database=tmp_path_factory.mktemp("mcp") / "s.db",
                                  outreach_base_url=f"{sandbox_url}/api/v2", token_url=f"{sandbox_url}/oauth/token",
                                  mcp_tools="all")
        with LiveServer(create_app(settings)) as server_url:
            yield Env(sandbox, server_url)


def run(coroutine_function, *args):
    return anyio.run(coroutine_function, *args)


def test_the_tool_list_is_every_operation_without_an_authentication(env):
    async def listed():
        async with http_client(env.url, {"Authorization": f"Bearer {KEY}"}) as client:
            return await client.list_tools()

    tools = run(listed).tools
    assert [t.name for t in tools] == tool_set("all").names
    assert len(tools) == 261


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_a_call_runs_on_the_authentication_the_header_names(env, mode):
    auth_id = env.store(KEY)

    async def called():
        async with http_client(env.url, {"Authorization": f"Bearer {KEY}", "X-Outreach-Authentication": auth_id},
                               mode) as client:
            return client.protocol_version, await client.call_tool("get_stage", {"stage_id": 2})

    version, result = run(called)
    assert (version == "2026-07-28") is (mode == "auto")
    assert result.is_error is False
    assert result.structured_content["data"]["id"] == 2
    assert text_json(result) == result.structured_content


def call_as(env: Env, key: str, headers: dict[str, str], name: str, arguments: dict):
    async def called():
        async with http_client(env.url, {"Authorization": f"Bearer {key}", **headers}) as client:
            return await client.call_tool(name, arguments)

    return run(called)


@pytest.mark.parametrize("headers, error", [
    pytest.param({}, "AuthenticationRequired", id="no-header"),
    pytest.param({"X-Outreach-Authentication": "00000000-0000-4000-8000-000000000000"}, "AuthenticationNotFound",
                 id="unknown-id"),
    pytest.param({"X-Outreach-Authentication": "not-an-id"}, "AuthenticationNotFound", id="malformed-id"),
])
def test_a_call_without_a_known_authentication_is_an_error_and_sends_nothing(env, headers, error):
    before = len(env.sandbox.requests)
    result = call_as(env, KEY, headers, "get_stage", {"stage_id": 2})
    assert result.is_error is True and text_json(result)["error"] == error
    assert len(env.sandbox.requests) == before


def test_two_tenants_are_isolated(env):
    """Another tenant's authentication answers exactly like one that does not exist; nothing is sent."""
    mine, theirs = env.store(KEY), env.store(OTHER_KEY)
    before = len(env.sandbox.requests)
    refused = call_as(env, KEY, {"X-Outreach-Authentication": theirs}, "get_stage", {"stage_id": 2})
    assert refused.is_error is True
    assert text_json(refused) == {"error": "AuthenticationNotFound",
                                  "message": f"authentication {theirs!r} was not found; nothing was sent"}
    assert len(env.sandbox.requests) == before
    theirs_answered = call_as(env, OTHER_KEY, {"X-Outreach-Authentication": theirs}, "get_stage", {"stage_id": 2})
    assert theirs_answered.is_error is False
    assert call_as(env, KEY, {"X-Outreach-Authentication": mine}, "get_stage", {"stage_id": 2}).is_error is False


def test_a_call_on_an_authentication_marked_reconnect_required_is_an_error_and_sends_nothing(env):
    answer = httpx.post(f"{env.server_url}/authentications", headers={"Authorization": f"Bearer {KEY}"},
                        json={"name": "stale", "credentials": {"access_token": "revoked-token"}})
    auth_id = answer.json()["id"]
    refused = httpx.post(f"{env.server_url}/connectors/outreach/versions/1.0/call",
                         headers={"Authorization": f"Bearer {KEY}"},
                         json={"operation": "get_stage", "authId": auth_id, "input": {"stage_id": 2}})
    assert refused.json()["output"]["response"]["statusCode"] == 401  # Outreach refused it: now marked
    before = len(env.sandbox.requests)
    result = call_as(env, KEY, {"X-Outreach-Authentication": auth_id}, "get_stage", {"stage_id": 2})
    assert result.is_error is True
    error = text_json(result)
    assert error["error"] == "ReconnectNeeded" and error["message"].startswith(
        f"Authentication {auth_id!r} needs reconnecting: Outreach refused its access token (401) at ")
    assert len(env.sandbox.requests) == before


def test_invalid_input_is_an_error_naming_the_field(env):
    auth_id = env.store(KEY)
    before = len(env.sandbox.requests)
    result = call_as(env, KEY, {"X-Outreach-Authentication": auth_id}, "list_stages", {"page_size": 0})
    assert result.is_error is True
    assert [e["path"] for e in text_json(result)["errors"]] == ["page_size"]
    assert len(env.sandbox.requests) == before


@pytest.mark.parametrize("headers", [
    pytest.param({}, id="no-key"),
    pytest.param({"Authorization": "Bearer not-a-key"}, id="wrong-key"),
])
def test_no_api_key_is_401(env, headers):
    answer = httpx.post(env.url, headers={"Accept": "application/json, text/event-stream", **headers},
                        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    assert answer.status_code == 401


def test_stateless_no_session_is_handed_out(env):
    """Any replica answers any request: the server hands out no Mcp-Session-Id to come back with."""
    answer = httpx.post(env.url, headers={"Authorization": f"Bearer {KEY}",
                                          "Accept": "application/json, text/event-stream"},
                        json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                            "protocolVersion": "2025-06-18", "capabilities": {},
                            "clientInfo": {"name": "t", "version": "1"}}})
    assert answer.status_code == 200 and "mcp-session-id" not in answer.headers
    listed = httpx.post(env.url, headers={"Authorization": f"Bearer {KEY}", "MCP-Protocol-Version": "2025-06-18",
                                          "Accept": "application/json, text/event-stream"},
                        json={"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
    assert len(listed.json()["result"]["tools"]) == 261


def test_no_token_reaches_a_result(env):
    auth_id = env.store(KEY)
    result = call_as(env, KEY, {"X-Outreach-Authentication": auth_id}, "get_stage", {"stage_id": 999999})
    assert result.is_error is True and text_json(result)["status_code"] == 404
    assert CANARY not in result.model_dump_json()


def test_without_the_sdk_the_path_says_which_extra(tmp_path, monkeypatch):
    from server.helpers import client_for, make_app

    monkeypatch.setitem(sys.modules, "mcp.server.streamable_http_manager", None)  # the [mcp] extra missing
    app = make_app(tmp_path, FakeOutreach())

    async def posted():
        async with client_for(app) as client:
            return await client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    answer = anyio.run(posted)
    assert (answer.status_code, answer.json()) == (501, {
        "message": "MCP needs the 'mcp' extra on this server: pip install 'outreach-connector[server,mcp]'",
        "code": None})

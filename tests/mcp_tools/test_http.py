"""``serve`` mounts the tools at ``/mcp``: behind the API key, stateless, one tenant per request."""
from __future__ import annotations

import secrets
import time

import anyio
import httpx
import pytest

from outreach_connector.mcp.tools import tool_set
from outreach_connector.server import ServerSettings, create_app

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


def test_a_call_runs_on_the_authentication_the_header_names(env):
    auth_id = env.store(KEY)

    async def called():
        async with http_client(env.url, {"Authorization": f"Bearer {KEY}", "X-Outreach-Authentication": auth_id}) as c:
            return await c.call_tool("get_stage", {"stage_id": 2})

    result = run(called)
    assert result.is_error is False
    assert result.structured_content["data"]["id"] == 2
    assert text_json(result) == result.structured_content

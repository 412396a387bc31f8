"""``outreach-connector mcp`` on stdio, as an agent's MCP client starts it: a subprocess, the SDK's client."""
from __future__ import annotations

import sys

import anyio
import pytest

from outreach_connector.mcp.tools import tool_set

from .helpers import mcp, text_json

pytest.importorskip("outreach_sandbox")


def server(tmp_path, *args: str, **env: str):
    return mcp.StdioServerParameters(
        command=sys.executable, args=["-m", "outreach_connector.cli", "mcp", *args],
        env={"OUTREACH_CONNECTOR_PLUGINS": "none", "OUTREACH_CONNECTOR_CONFIG_DIR": str(tmp_path), **env})


def test_the_sandbox_session_lists_the_default_tools_and_keeps_one_sandbox(tmp_path):
    async def session():
        async with mcp.Client(server(tmp_path, "--sandbox")) as client:
            listed = await client.list_tools()
            created = await client.call_tool("create_stage", {"attributes": {"name": "Agent stage"}})
            stage_id = created.structured_content["data"]["id"]
            fetched = await client.call_tool("get_stage", {"stage_id": stage_id})
            invalid = await client.call_tool("update_stage", {"stage_id": stage_id, "attributes": {"nmae": "x"}})
            return listed, created, fetched, invalid

    listed, created, fetched, invalid = anyio.run(session)
    assert [t.name for t in listed.tools] == tool_set("seed").names
    assert listed.tools[0].annotations.destructive_hint is not None
    assert created.is_error is False
    assert fetched.is_error is False  # the same sandbox for the whole session: what one call made, the next sees
    assert fetched.structured_content["data"]["attributes"]["name"] == "Agent stage"
    assert text_json(fetched) == fetched.structured_content
    assert invalid.is_error is True
    assert [e["path"] for e in text_json(invalid)["errors"]] == ["attributes.nmae"]


def test_without_credentials_the_tools_list_and_a_call_says_what_to_set(tmp_path):
    async def session():
        async with mcp.Client(server(tmp_path, "--tools", "list_stages,get_stage")) as client:
            return await client.list_tools(), await client.call_tool("get_stage", {"stage_id": 1})

    listed, called = anyio.run(session)
    assert [t.name for t in listed.tools] == ["get_stage", "list_stages"]
    assert called.is_error is True
    error = text_json(called)
    assert error["error"] == "CredentialsMissing" and "OUTREACH_ACCESS_TOKEN" in error["message"]

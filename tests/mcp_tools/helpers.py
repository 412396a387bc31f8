"""Helpers: MCP tests use the official SDK's own client: over stdio (a real subprocess) and over streamable HTTP (the
real ``serve`` app under uvicorn on a loopback port), both against the Outreach sandbox."""
from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator

import pytest

mcp = pytest.importorskip("mcp")
httpx2 = pytest.importorskip("httpx2")


@contextlib.asynccontextmanager
async def http_client(url: str, headers: dict[str, str], mode: str = "auto") -> AsyncIterator[Any]:
    """The SDK's client on ``url`` (streamable HTTP), sending ``headers`` with every request; ``mode="legacy"``
    speaks the handshake-era protocol (2025), ``auto`` the newest both sides know."""
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with mcp.Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            yield client


def text_json(result: Any) -> Any:
    import json

    assert len(result.content) == 1 and result.content[0].type == "text"
    return json.loads(result.content[0].text)

"""The MCP server on the official SDK's low-level ``Server``: ``tools/list`` and ``tools/call``, nothing else.

Where each call's connector comes from is the caller's choice (``resolve``): one connector for the process on
stdio, the authentication a request names on HTTP. The SDK validates neither arguments nor results here: the
connector does, with its own messages and field paths (the low-level server runs no JSON Schema on tool
arguments, and ``get_tool_input_schema`` answering ``None`` stops the 2026-07-28 HTTP path from running
``tools/list`` on every call to check ``Mcp-Param-*`` headers, which no tool of ours declares).
"""
from __future__ import annotations

import sys
from typing import Any, Awaitable, Callable

import mcp_types as types
from mcp.server.caching import CacheHint
from mcp.server.lowlevel import Server

from ..catalogue_folders import load_manifest
from .calls import MAX_RESULT_CHARS, call_tool, refused
from .tools import ToolSet

LISTING_TTL_MS = 3_600_000
Resolve = Callable[[Any], Awaitable[Any]]  # request context -> Connector, or a refusal (a result dict)

INSTRUCTIONS = ("Tools for the Outreach sales-engagement API, one per operation. Lists return one page and "
                "next_page_after: pass it as page_after for the next page. Custom fields are custom1..customN.")


def build_server(tools: ToolSet, resolve: Resolve, max_chars: int = MAX_RESULT_CHARS) -> Server:
    manifest = load_manifest()
    # resultType: 2026-07-28 requires it (older protocol versions drop it); ttlMs/cacheScope come from the hint.
    listing = {**tools.listing(), "resultType": "complete"}

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> dict[str, Any]:
        return listing  # one page: the presets are sized for it

    async def call(ctx: Any, params: types.CallToolRequestParams) -> dict[str, Any]:
        if params.name not in tools:  # before any authentication is looked up
            result = await call_tool(None, tools, params.name, params.arguments)
        else:
            connector = await resolve(ctx)
            result = connector if isinstance(connector, dict) else \
                await call_tool(connector, tools, params.name, params.arguments, max_chars)
        return {**result, "resultType": "complete"}

    # The handlers answer dicts in MCP's wire form (the listing is built once); the SDK's runner takes a dict as
    # well as a result model, though its handler types name only the models.
    server = Server(manifest.name, version=str(manifest.version), title=manifest.title,
                    instructions=INSTRUCTIONS, on_list_tools=list_tools, on_call_tool=call,  # type: ignore[arg-type]
                    get_tool_input_schema=lambda name: None,
                    # The list is the same for every caller and for the life of the process.
                    cache_hints={"tools/list": CacheHint(ttl_ms=LISTING_TTL_MS, scope="public")})
    # The SDK's OpenTelemetry middleware costs about 0.4 ms a call even with no exporter installed, a third
    # of what MCP adds to a call in process; the connector configures no tracing, so it goes.
    server.middleware = []
    return server


def one_connector(connector: Any) -> Resolve:
    async def resolve(ctx: Any) -> Any:
        return connector

    return resolve


async def serve_stdio(tools: ToolSet, connector: Any) -> None:
    """Serve on stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    server = build_server(tools, one_connector(connector))
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def announce(tools: ToolSet, where: str) -> None:
    """One line on stderr (stdout is the protocol's): what is served."""
    print(f"outreach-connector mcp: {len(tools.tools)} tools ({tools.listing_bytes():,} bytes of tools/list) "
          f"on {where}", file=sys.stderr)


__all__ = ["build_server", "serve_stdio", "one_connector", "refused"]

"""Case 9, MCP: a tool call against the Python API call it makes, and ``tools/list`` per preset.

The sandbox runs behind uvicorn in its own process; ``outreach-connector mcp`` runs in another, on stdio, as an
agent's client starts it; the SDK's own client talks to it. The floor is ``Connector.acall`` on the same
loopback sandbox: the ratio is what MCP (the client, the pipe, the server's handling) adds to a call.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any, Awaitable, Callable

from ..mcp.tools import PRESETS, tool_set
from .cases import connector
from .results import Result
from .settings import TARGETS, BenchOptions
from .timing import ainterleaved, median_ratio
from .transports import SANDBOX_TOKEN, served_sandbox

TOOL = "get_stage"
ARGUMENTS = {"stage_id": 1}


def mcp_case(settings: BenchOptions) -> list[Result]:
    import anyio

    with served_sandbox(prospects=10) as url:
        return anyio.run(measured, settings, url)


def server_parameters(url: str, preset: str) -> Any:
    from mcp import StdioServerParameters

    env = {"OUTREACH_ACCESS_TOKEN": SANDBOX_TOKEN, "OUTREACH_BASE_URL": url, "PATH": os.environ.get("PATH", ""),
           "OUTREACH_CONNECTOR_PLUGINS": os.environ.get("OUTREACH_CONNECTOR_PLUGINS", "")}
    return StdioServerParameters(command=sys.executable, args=["-m", "outreach_connector.cli", "mcp", "--tools",
                                                               preset], env=env)


async def per_call(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - start) / calls


async def measured(settings: BenchOptions, url: str) -> list[Result]:
    from mcp import Client

    api = connector(base_url=url)
    async with Client(server_parameters(url, "seed")) as client:
        async def tool() -> Any:
            result = await client.call_tool(TOOL, ARGUMENTS)
            assert not result.is_error, result.content
            return result

        async def python() -> Any:
            return await api.acall(TOOL, ARGUMENTS)

        await tool(), await python()  # warm-up: connections, validators, the client's output-schema cache
        floors, mine = await ainterleaved(lambda: per_call(python, settings.mcp_calls),
                                          lambda: per_call(tool, settings.mcp_calls), settings.repeats)
    await api.aclose()
    overhead = Result("mcp_call", f"9. MCP tool call: {TOOL} over stdio", statistics.median(mine),
                      statistics.median(floors), "s", median_ratio(mine, floors), TARGETS["mcp_call"],
                      settings.repeats, f"the SDK's client -> outreach-connector mcp (its own process, stdio) -> "
                                        f"the sandbox on loopback ({url}); floor: Connector.acall on the same "
                                        f"sandbox; {settings.mcp_calls} calls a block; median of per-block ratios; "
                                        f"MCP adds {(statistics.median(mine) - statistics.median(floors)) * 1e3:.1f} "
                                        "ms a call")
    return [overhead, *[await listing(settings, url, preset) for preset in PRESETS]]


async def listing(settings: BenchOptions, url: str, preset: str) -> Result:
    """``tools/list`` over stdio (the client's cache bypassed): its time, and its size against the target."""
    from mcp import Client

    size = tool_set(preset).listing_bytes()
    async with Client(server_parameters(url, preset)) as client:
        async def listed() -> Any:
            return await client.list_tools(cache_mode="refresh")

        await listed()
        times = [await per_call(listed, 1) for _ in range(settings.repeats)]
    dumps = [dump_seconds(preset) for _ in range(settings.repeats)]
    key = f"mcp_list_{preset}"
    return Result(key, f"9. MCP tools/list, {preset}: {len(tool_set(preset).tools)} tools", statistics.median(times),
                  statistics.median(dumps), "s", size / 1000, TARGETS[key], settings.repeats,
                  f"checked value: KB (1000 bytes) of tools/list as compact JSON; time: the median of "
                  f"{settings.repeats} lists over stdio (the SDK client's parsing included); floor: json.dumps of "
                  "the same list in process")


def dump_seconds(preset: str) -> float:
    listing = tool_set(preset).listing()
    start = time.perf_counter()
    json.dumps(listing, separators=(",", ":"))
    return time.perf_counter() - start

"""The five cases. Each times the connector and the raw floor (httpx + ``json.loads``) on one transport.

Case 1 and 2 run on a pre-rendered transport (bytes captured once from the sandbox), case 3 on the sandbox in
process, case 4 on the sandbox behind a real uvicorn socket in another process, case 5 in fresh processes.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any, Callable

from ..connector import Connector
from .results import Result
from .settings import TARGETS, BenchOptions
from .timing import ainterleaved, interleaved, median_ratio, seconds_per_call
from .transports import (SANDBOX_TOKEN, SANDBOX_URL, Captured, Prerendered, raw_async_client,
                         raw_client, served_sandbox)


def connector(transport: Any = None, base_url: str = SANDBOX_URL) -> Connector:
    return Connector(base_url=base_url, access_token=SANDBOX_TOKEN, transport=transport)


def per_call_result(key: str, label: str, floor: Callable[[], Any], ours: Callable[[], Any], calls: int,
                    repeats: int, note: str) -> Result:
    """Time ``calls`` calls per block on each side, ``repeats`` blocks each, after one warm-up call."""
    floor(), ours()
    floors, mine = interleaved(lambda: seconds_per_call(floor, calls), lambda: seconds_per_call(ours, calls),
                               repeats)
    return Result(key, label, statistics.median(mine), statistics.median(floors), "s",
                  median_ratio(mine, floors), TARGETS[key], repeats, note)


def small_call(settings: BenchOptions, captured: Captured) -> Result:
    transport = Prerendered(captured)
    with raw_client(transport) as raw, connector(transport) as conn:
        return per_call_result(
            "small", "1. small call: get_prospect", lambda: json.loads(raw.get("/prospects/1").content),
            lambda: conn.call("get_prospect", {"prospect_id": 1}), settings.small_calls, settings.repeats,
            f"pre-rendered transport: one prospect captured from the sandbox ({len(captured.body):,} bytes, "
            f"{attribute_count(captured)} attributes); time per call, {settings.small_calls} calls a block; "
            "median of the per-block ratios")


def large_page(settings: BenchOptions, captured: Captured) -> Result:
    transport = Prerendered(captured)
    params = {"page[size]": str(settings.page_size)}
    with raw_client(transport) as raw, connector(transport) as conn:
        return per_call_result(
            "page", f"2. large page: list_prospects, {captured.records} records",
            lambda: json.loads(raw.get("/prospects", params=params).content),
            lambda: conn.call("list_prospects", {"page_size": settings.page_size}),
            settings.page_calls, settings.repeats,
            f"pre-rendered transport: one page captured from the sandbox ({len(captured.body) / 1e6:.1f} MB), "
            "output validation included; time per call. Both sides decode with plain json.loads, the cyclic GC "
            "running (the connector's opt-in GC pause is off, its default); median of the per-block ratios")


def attribute_count(captured: Captured) -> int:
    return len(json.loads(captured.body)["data"]["attributes"])


async def limited(call: Callable[[int], Any], calls: int, limit: int) -> None:
    """``calls`` coroutines, at most ``limit`` in flight."""
    gate = asyncio.Semaphore(limit)

    async def one(index: int) -> None:
        async with gate:
            await call(index)

    await asyncio.gather(*(one(i) for i in range(calls)))


def concurrency(settings: BenchOptions) -> Result:
    with served_sandbox(prospects=settings.calls) as url:
        return asyncio.run(concurrent_rounds(settings, url))


async def concurrent_rounds(settings: BenchOptions, url: str) -> Result:
    raw, conn = raw_async_client(base_url=url), connector(base_url=url)

    async def floor(i: int) -> Any:
        return json.loads((await raw.get(f"/prospects/{i + 1}")).content)

    async def ours(i: int) -> Any:
        return await conn.acall("get_prospect", {"prospect_id": i + 1})

    async def timed(call: Callable[[int], Any]) -> float:
        start = time.perf_counter()
        await limited(call, settings.calls, settings.concurrency)
        return time.perf_counter() - start

    try:
        await timed(floor), await timed(ours)  # warm-up: connections opened, validators compiled
        floors, mine = await ainterleaved(lambda: timed(floor), lambda: timed(ours),
                                          settings.concurrency_repeats)
    finally:
        await raw.aclose()
        await conn.aclose()
    return Result("concurrency", f"4. concurrency: {settings.calls} acalls, limit {settings.concurrency}",
                  settings.calls / statistics.median(mine), settings.calls / statistics.median(floors), "calls/s",
                  median_ratio(floors, mine), TARGETS["concurrency"], settings.concurrency_repeats,
                  f"sandbox served by uvicorn on loopback ({url}) in its own process; throughput ratio "
                  "connector / raw httpx.AsyncClient (higher is better), median of the per-round ratios")

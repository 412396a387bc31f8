"""10,000 requests against a sandbox limit of 2,000 per hour: the connector paces itself instead of hitting 429s.

The sandbox and the connector share a virtual clock (each request takes a simulated 50 ms round trip; waits
move the clock), so five rate-limit hours pass in a few seconds of real time, deterministically. Figures are
printed; ``pytest tests/reliability/test_pacing.py -s`` shows them.

Two ideals: the sustained rate (10,000 / 2,000 per hour = 5 h), and the least time a fixed window allows
(four full windows, then the last 2,000 at line speed: 4 h + 100 s). The default pacer spreads the last 50
requests of each window over the time left, so a finite job ends near the first; ``reserve=0`` bursts and
ends near the second. Neither receives a 429; a client without a pacer receives one per window.
"""
from __future__ import annotations

import math
import time

import pytest

from outreach_connector.retry import RatePacer, RetryPolicy
from outreach_sandbox import Sandbox, SandboxConfig

from .conftest import RecordingTransport, VirtualClock, virtual_connector

REQUESTS = 10_000
LIMIT = 2_000
WINDOW = 3600.0
LATENCY = 0.05


BATCH = RetryPolicy(max_total_wait=WINDOW)  # a batch job may wait out a whole window; the default is 60 s


def burst_ideal(requests: int = REQUESTS, limit: int = LIMIT, window: float = WINDOW,
                latency: float = LATENCY) -> float:
    """The least time a fixed window allows: every window used to the last request, the final one at once."""
    windows = math.ceil(requests / limit)
    return (windows - 1) * window + (requests - (windows - 1) * limit) * latency


def sustained_ideal(requests: int = REQUESTS, limit: int = LIMIT, window: float = WINDOW) -> float:
    return requests / limit * window


class NoPacer(RatePacer):
    """No pacing at all: only 429s and their Retry-After slow the client down."""

    def delay(self, limit: float = math.inf) -> float:
        return 0.0


async def run(pacer: RatePacer | None = None, reserve: int = 50, requests: int = REQUESTS,
              limit: int = LIMIT) -> dict:
    clock = VirtualClock(latency=LATENCY)
    sb = Sandbox(SandboxConfig(clock=clock.tick, rate_limit=limit, rate_window=WINDOW))
    transport = RecordingTransport(sb.transport())
    conn = virtual_connector(transport, clock, BATCH, reserve=reserve)
    if pacer is not None:
        conn.sender.pacer = pacer
    started = time.perf_counter()
    for _ in range(requests):
        await conn.acall("get_stage", {"stage_id": 1})
    wall = time.perf_counter() - started
    await conn.aclose()
    return {"requests": requests, "limit_per_hour": limit, "http_requests": len(transport.outcomes),
            "429s": transport.kinds()["429"], "virtual_elapsed_s": round(clock.elapsed, 1), "waits": clock.sleeps,
            "over_sustained_ideal": round(clock.elapsed / sustained_ideal(requests, limit), 4),
            "over_burst_ideal": round(clock.elapsed / burst_ideal(requests, limit), 4), "wall_s": round(wall, 2)}


@pytest.mark.anyio
async def test_ten_thousand_requests_pace_under_the_limit_without_429s():
    figures = await run()
    print(f"\npacing (default, reserve 50): {figures}")
    assert figures["429s"] == 0 and figures["http_requests"] == REQUESTS
    assert figures["over_sustained_ideal"] <= 1.0  # 2,000 an hour, never more, never a refusal


# The comparisons run a fifth of the volume against a fifth of the limit: the same five windows, faster.

@pytest.mark.anyio
async def test_with_no_reserve_the_connector_bursts_to_the_limit_and_waits_for_the_reset():
    figures = await run(reserve=0, requests=REQUESTS // 5, limit=LIMIT // 5)
    print(f"\npacing (reserve 0, burst): {figures}")
    assert figures["429s"] == 0 and figures["http_requests"] == figures["requests"]
    assert figures["over_burst_ideal"] <= 1.001


@pytest.mark.anyio
async def test_without_a_pacer_the_limit_is_hit_once_per_window_and_waited_out():
    """The comparison: no pacer, so each window's limit is found by a 429, whose Retry-After is honoured."""
    figures = await run(NoPacer(), requests=REQUESTS // 5, limit=LIMIT // 5)
    print(f"\nno pacer: {figures}")
    assert figures["429s"] == math.ceil(REQUESTS / LIMIT) - 1
    assert figures["http_requests"] == figures["requests"] + figures["429s"]

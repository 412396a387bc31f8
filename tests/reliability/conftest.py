"""Shared helpers for the reliability tests: a virtual clock, a recording transport, sandbox-wired connectors.

The virtual clock is shared by the sandbox (which reads it once per request, moving it on by a simulated
round trip) and the connector (its pacer, its retry waits and its ``sleep``), so hours of rate-limit windows
and Retry-After waits pass in milliseconds, deterministically.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from outreach_connector import Connector
from outreach_connector.retry import RatePacer, RetryPolicy

SANDBOX_BASE_URL = "http://sandbox.test/api/v2"
SANDBOX_TOKEN = "sandbox-access-token"
START = 1_736_931_600.0  # 2025-01-15T09:00:00Z, where the sandbox's own clock starts


class VirtualClock:
    """Epoch seconds that move only when someone sleeps or the sandbox answers (``latency`` per request)."""

    def __init__(self, start: float = START, latency: float = 0.0) -> None:
        self.start = self.now = start
        self.latency = latency
        self.slept = 0.0
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> float:
        """The sandbox's reading: each request takes ``latency`` seconds."""
        self.now += self.latency
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.now += seconds
        self.slept += seconds
        self.sleeps += 1

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # still let other tasks run

    @property
    def elapsed(self) -> float:
        return self.now - self.start


@dataclass
class Outcome:
    method: str
    path: str
    status: int | None      # None when the connection dropped
    drop: str | None = None  # "before" / "after" (the sandbox says which in its message)


@dataclass
class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps a transport and records what came back for every request that reached it."""

    inner: object
    outcomes: list[Outcome] = field(default_factory=list)

    def _record(self, request: httpx.Request, response: httpx.Response | None, exc: Exception | None) -> None:
        drop = None
        if exc is not None:
            drop = "after" if "after" in str(exc) else "before"
        self.outcomes.append(Outcome(request.method, request.url.path,
                                     None if response is None else response.status_code, drop))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError as exc:
            self._record(request, None, exc)
            raise
        self._record(request, response, None)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError as exc:
            self._record(request, None, exc)
            raise
        self._record(request, response, None)
        return response

    def kinds(self) -> Counter:
        """How many answers of each kind: status codes as strings, ``drop-before`` / ``drop-after``."""
        return Counter(f"drop-{o.drop}" if o.status is None else str(o.status) for o in self.outcomes)


def virtual_connector(transport, clock: VirtualClock, retry: RetryPolicy | None = None, reserve: int = 50,
                      base_url: str = SANDBOX_BASE_URL, token: str = SANDBOX_TOKEN) -> Connector:
    """A connector whose waits, pacing and Retry-After arithmetic all run on ``clock``."""
    conn = Connector(base_url=base_url, access_token=token, transport=transport, retry=retry)
    sender = conn.sender
    sender.clock, sender.sleep, sender.asleep = clock, clock.sleep, clock.asleep
    sender.pacer = RatePacer(reserve=reserve, clock=clock)
    return conn


class CountingSends:
    """Counts the connector's logical sends (one per planned request, before retries)."""

    def __init__(self, conn: Connector) -> None:
        self.count = 0
        sender = conn.sender
        send, asend = sender.send, sender.asend

        def counted(call):
            self.count += 1
            return send(call)

        async def acounted(call):
            self.count += 1
            return await asend(call)

        sender.send, sender.asend = counted, acounted


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()

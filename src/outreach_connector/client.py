"""The one place that talks HTTP: an httpx client factory and the sync/async senders.

The sender turns an ``HttpCall`` into a ``Reply``: it applies pacing, retries what is safe to retry,
and maps error statuses to the connector's errors. Handlers never see httpx.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import OutcomeUnknown, RateLimited, TransportError, UpstreamError
from .handlers import HttpCall, Reply
from .responses import error_for, retry_after_seconds, to_reply
from .retry import RatePacer, RetryPolicy, may_retry_exception, may_retry_status

JSONAPI = "application/vnd.api+json"
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)


class BearerToken(httpx.Auth):
    """A fixed access token. Its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"


@dataclass
class ClientConfig:
    base_url: str
    auth: httpx.Auth
    transport: Any = None
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    user_agent: str = "outreach-connector/1.0"

    def options(self) -> dict[str, Any]:
        return {"auth": self.auth, "timeout": self.timeout, "follow_redirects": False,
                "headers": {"Accept": JSONAPI, "User-Agent": self.user_agent}}


def make_client(config: ClientConfig) -> httpx.Client:
    extra = {"transport": config.transport} if config.transport is not None else {}
    return httpx.Client(**config.options(), **extra)


def make_async_client(config: ClientConfig) -> httpx.AsyncClient:
    extra = {"transport": config.transport} if config.transport is not None else {}
    return httpx.AsyncClient(**config.options(), **extra)


def build_request(client: httpx.Client | httpx.AsyncClient, call: HttpCall, base_url: str) -> httpx.Request:
    url = call.url if call.absolute else base_url.rstrip("/") + call.url
    headers = dict(call.headers)
    if call.json is not None or (call.method in ("POST", "PATCH", "PUT") and call.content is None
                                 and call.data is None and call.files is None):
        headers.setdefault("Content-Type", JSONAPI)
    return client.build_request(call.method, url, params=list(call.params) or None, json=call.json,
                                content=call.content, data=call.data, files=call.files, headers=headers)


@dataclass
class Attempts:
    """The retry bookkeeping of one call: what it waited so far and why it would stop."""

    policy: RetryPolicy
    clock: Any = time.monotonic
    number: int = 0
    waited: float = 0.0
    started: float = field(default=0.0)

    def next_delay(self, reply_headers: dict[str, str] | None) -> float | None:
        """Seconds to wait before the next attempt, or None when the budget is spent."""
        self.number += 1
        if self.number >= self.policy.max_attempts:
            return None
        hinted = retry_after_seconds(reply_headers or {}, time.time())
        delay = hinted if hinted is not None else self.policy.backoff(self.number)
        if self.waited + delay > self.policy.max_total_wait:
            return None
        self.waited += delay
        return delay


def final_error(call: HttpCall, reply: Reply) -> UpstreamError:
    error = error_for(reply, time.time())
    if isinstance(error, RateLimited) and error.retry_after:
        error.message += f" (Outreach asks to wait {error.retry_after:.0f} s, beyond the retry budget)"
        error.args = (error.message,)
    return error


def transport_error(call: HttpCall, exc: Exception) -> TransportError:
    what = f"{call.method} {call.url.split('?')[0]}"
    if call.method not in ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE") and \
            not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return OutcomeUnknown(f"{what}: the connection failed after the request was sent ({type(exc).__name__});"
                              " Outreach may or may not have applied it, so it was not repeated")
    return TransportError(f"{what}: {type(exc).__name__} talking to Outreach")


class Sender:
    """Sends calls with one sync and one async client, sharing pacing and retry decisions."""

    def __init__(self, config: ClientConfig, policy: RetryPolicy | None = None,
                 pacer: RatePacer | None = None, sleep=time.sleep, asleep=asyncio.sleep) -> None:
        self.config = config
        self.policy = policy or RetryPolicy()
        self.pacer = pacer or RatePacer()
        self._sleep, self._asleep = sleep, asleep
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None

    def _outcome(self, call: HttpCall, response: httpx.Response, attempts: Attempts) -> tuple[Reply, float | None]:
        reply = to_reply(response)
        self.pacer.observe(reply.headers)
        if reply.status_code < 400 or call.any_status:
            return reply, None
        if not may_retry_status(call, reply.status_code):
            raise final_error(call, reply)
        delay = attempts.next_delay(reply.headers)
        if delay is None:
            raise final_error(call, reply)
        return reply, delay

    def _failed(self, call: HttpCall, exc: Exception, attempts: Attempts) -> float:
        delay = attempts.next_delay(None) if may_retry_exception(call, exc) else None
        if delay is None:
            raise transport_error(call, exc) from None
        return delay

    def send(self, call: HttpCall) -> Reply:
        if self._client is None:
            self._client = make_client(self.config)
        attempts = Attempts(self.policy)
        while True:
            self._sleep(self.pacer.delay())
            try:
                response = self._client.send(build_request(self._client, call, self.config.base_url))
            except httpx.TransportError as exc:
                self._sleep(self._failed(call, exc, attempts))
                continue
            reply, delay = self._outcome(call, response, attempts)
            if delay is None:
                return reply
            self._sleep(delay)

    async def asend(self, call: HttpCall) -> Reply:
        if self._aclient is None:
            self._aclient = make_async_client(self.config)
        attempts = Attempts(self.policy)
        while True:
            pace = self.pacer.delay()
            if pace:
                await self._asleep(pace)
            try:
                response = await self._aclient.send(build_request(self._aclient, call, self.config.base_url))
            except httpx.TransportError as exc:
                await self._asleep(self._failed(call, exc, attempts))
                continue
            reply, delay = self._outcome(call, response, attempts)
            if delay is None:
                return reply
            await self._asleep(delay)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None

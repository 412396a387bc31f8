"""The one place that talks HTTP: an httpx client factory and the sync/async senders.

The sender turns an ``HttpCall`` into a ``Reply``: it applies pacing, retries what is safe to retry,
and maps error statuses to the connector's errors. Handlers never see httpx.
"""
from __future__ import annotations

import logging
import ssl
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx

from .errors import OutcomeUnknown, RateLimited, TransportError, UpstreamError
from .header_values import bearer
from .wire import DEFAULT_TIMEOUT, HttpCall, Reply, RetryPolicy
from .responses import aread_capped, error_for, read_capped, to_reply
from .retry import (BUDGET_LEFT, IDEMPOTENT, LOCAL_ERRORS, NOT_SENT, Attempts, RatePacer, already_applied,
                    may_retry_exception, may_retry_status)

JSONAPI = "application/vnd.api+json"
# The most of one answer the connector reads, counted after decompression: a small gzip body can expand a
# thousandfold, and a 1000-record page is a few MB.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def default_asleep(seconds: float) -> Any:
    """``asyncio.sleep``, imported on first use: asyncio costs ~15 ms of start-up a sync-only host never needs."""
    import asyncio

    return asyncio.sleep(seconds)


class BearerToken(httpx.Auth):
    """A fixed access token. Its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = bearer(self._token)
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
    event_hooks: dict[str, list[Any]] = field(default_factory=dict)  # e.g. the CLI's --verbose request log
    max_response_bytes: int = MAX_RESPONSE_BYTES

    def options(self) -> dict[str, Any]:
        return {"auth": self.auth, "timeout": self.timeout, "follow_redirects": False,
                "headers": {"Accept": JSONAPI, "User-Agent": self.user_agent}, "event_hooks": self.event_hooks}


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (CA bundle loaded once) for every client in the process: building one costs
    milliseconds and hundreds of kilobytes, and a host may run a session per end user."""
    return httpx.create_ssl_context()


def transport_option(config: ClientConfig) -> dict[str, Any]:
    if config.transport is not None:
        return {"transport": config.transport}
    return {"verify": shared_ssl_context()}


def make_client(config: ClientConfig) -> httpx.Client:
    return httpx.Client(**config.options(), **transport_option(config))


def make_async_client(config: ClientConfig) -> httpx.AsyncClient:
    return httpx.AsyncClient(**config.options(), **transport_option(config))


def build_request(client: httpx.Client | httpx.AsyncClient, call: HttpCall, base_url: str) -> httpx.Request:
    url = call.url if call.absolute else base_url.rstrip("/") + call.url
    headers = dict(call.headers)
    if call.json is not None or (call.method in ("POST", "PATCH", "PUT") and call.content is None
                                 and call.data is None and call.files is None):
        headers.setdefault("Content-Type", JSONAPI)
    return client.build_request(call.method, url, params=list(call.params) or None, json=call.json,
                                content=call.content, data=call.data, files=call.files, headers=headers)


def too_large(call: HttpCall, response: httpx.Response, limit: int) -> UpstreamError:
    return UpstreamError(response.status_code, [], None, message=(
        f"{call.method} {call.url.split('?')[0]}: Outreach's answer is larger than the {_size(limit)} the connector "
        "reads (counted after decompression); ask for less (page_size, fields)"))


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def read_bounded(response: httpx.Response, call: HttpCall, limit: int) -> bytes:
    """The body, decompressed, refusing (and closing) it past ``limit`` bytes."""
    return read_capped(response, limit, lambda: too_large(call, response, limit))


async def aread_bounded(response: httpx.Response, call: HttpCall, limit: int) -> bytes:
    return await aread_capped(response, limit, lambda: too_large(call, response, limit))


def final_error(call: HttpCall, reply: Reply, attempts: Attempts) -> UpstreamError:
    """The error for an answer that ends the call, saying why it was not (or no longer) retried."""
    error = error_for(reply, attempts.clock())
    if may_retry_status(call, reply.status_code, reply.headers):
        note = attempts.describe_stop()
        if error.retry_after is None:
            error.retry_after = attempts.needed
    elif reply.status_code >= 500 and call.method not in IDEMPOTENT:
        note = "not repeated: Outreach may have applied it before failing"
    else:
        return error
    error.message += f" ({note})"
    error.args = (error.message,)
    return error


def paced_out(call: HttpCall, attempts: Attempts) -> RateLimited:
    """Not sent: Outreach's rate limit would make this call wait longer than its retry budget."""
    return RateLimited(429, [], retry_after=attempts.needed, message=(
        f"{call.method} {call.url.split('?')[0]}: not sent: Outreach's rate limit leaves no request for "
        f"{attempts.needed:.0f} s, beyond the retry budget of {attempts.policy.max_total_wait:g} s"))


def transport_error(call: HttpCall, exc: Exception, attempts: Attempts) -> TransportError:
    what = f"{call.method} {_where(call, exc)}"
    if isinstance(exc, LOCAL_ERRORS):  # its text quotes the offending header, which may be a credential
        return TransportError(f"{what}: the request could not be written: a header or the URL holds a value "
                              "HTTP cannot carry; it was not sent again")
    if not may_retry_exception(call, exc):
        return OutcomeUnknown(f"{what}: the connection failed after the request was sent ({type(exc).__name__});"
                              " Outreach may or may not have applied it, so it was not repeated")
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return TransportError(f"{what}: {reason} talking to Outreach; {attempts.describe_stop()}")


def _where(call: HttpCall, exc: Exception) -> str:
    """The URL tried, without query or user info, so a network error names the host it could not reach."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return call.url.split("?")[0]
    return f"{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}{url.path}"


class Sender:
    """Sends calls with one sync and one async client, sharing pacing and retry decisions."""

    def __init__(self, config: ClientConfig, policy: RetryPolicy | None = None,
                 pacer: RatePacer | None = None, sleep=time.sleep, asleep=default_asleep,
                 clock=time.time, pause_gc: bool = False) -> None:
        self.config = config
        self.pause_gc = pause_gc
        self.policy = policy or RetryPolicy()
        self.pacer = pacer or RatePacer(clock=clock)
        # Public seams: a test (or a host with its own scheduler) may swap them, e.g. for a virtual clock.
        self.sleep, self.asleep, self.clock = sleep, asleep, clock
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None

    def _outcome(self, call: HttpCall, response: httpx.Response, body: bytes,
                 attempts: Attempts) -> tuple[Reply, float | None]:
        reply = to_reply(response, body, self.pause_gc)
        self.pacer.observe(reply.headers)
        if reply.status_code < 400 or call.any_status:
            return reply, None
        if already_applied(call, reply.status_code, attempts):
            return Reply(204, reply.headers, None, reply.url), None
        if not may_retry_status(call, reply.status_code, reply.headers):
            raise final_error(call, reply, attempts)
        delay = attempts.next_delay(reply.status_code, reply.headers)
        if delay is None:
            raise final_error(call, reply, attempts)
        return reply, delay

    def _failed(self, call: HttpCall, exc: Exception, attempts: Attempts) -> float:
        attempts.ambiguous = attempts.ambiguous or not isinstance(exc, NOT_SENT)
        delay = attempts.next_delay(None, None) if may_retry_exception(call, exc) else None
        if delay is None:
            raise transport_error(call, exc, attempts) from None
        return delay

    def send(self, call: HttpCall) -> Reply:
        if self._client is None:
            self._client = make_client(self.config)
        attempts = Attempts(self.policy, self.clock)
        while True:
            pace = attempts.pace(self.pacer)
            if pace is None:
                raise paced_out(call, attempts)
            if pace:
                self.sleep(pace)
            try:
                request = build_request(self._client, call, self.config.base_url)
                request.extensions[BUDGET_LEFT] = attempts.left()
                response = self._client.send(request, stream=True)
                body = read_bounded(response, call, self.config.max_response_bytes)
            except httpx.TransportError as exc:
                self.sleep(self._failed(call, exc, attempts))
                continue
            reply, delay = self._outcome(call, response, body, attempts)
            if delay is None:
                return reply
            self.sleep(delay)

    async def asend(self, call: HttpCall) -> Reply:
        if self._aclient is None:
            self._aclient = make_async_client(self.config)
        attempts = Attempts(self.policy, self.clock)
        while True:
            pace = attempts.pace(self.pacer)
            if pace is None:
                raise paced_out(call, attempts)
            if pace:
                await self.asleep(pace)
            try:
                request = build_request(self._aclient, call, self.config.base_url)
                request.extensions[BUDGET_LEFT] = attempts.left()
                response = await self._aclient.send(request, stream=True)
                body = await aread_bounded(response, call, self.config.max_response_bytes)
            except httpx.TransportError as exc:
                await self.asleep(self._failed(call, exc, attempts))
                continue
            reply, delay = self._outcome(call, response, body, attempts)
            if delay is None:
                return reply
            await self.asleep(delay)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None


HTTP_LIBRARY_LOGGERS = ("httpx", "httpcore")


def quiet_http_libraries(debug: bool = False) -> None:
    """httpx logs every request's URL, query string included (filters on e-mail addresses, cursors, dropdown
    searches: customer data), at INFO. Entry points (``serve``, the CLI) call this so that only warnings from
    those libraries reach a log unless debugging was asked for; a host embedding the library keeps its own
    logging untouched."""
    for name in HTTP_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)

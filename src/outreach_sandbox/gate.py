"""The outermost ASGI layer: records every request, then applies the fault rules that fire for it.

It sits outside Starlette's own error handling because a dropped connection must not become a 500.
Over a real socket (uvicorn), a drop aborts the TCP connection: the client sees the peer close without
a response (httpx raises ``RemoteProtocolError: Server disconnected without sending a response``). In
process, there is no socket to abort, so the gate raises :class:`ConnectionDropped`, itself an
``httpx.RemoteProtocolError``: whichever httpx transport runs the app, the client gets a transport error.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx

from .faults import FaultRule, Faults

SECRET_FORM_FIELDS = ("client_secret", "refresh_token", "code", "password")
STATUS_ERRORS = {429: ("rateLimitExceeded", "Rate Limit Exceeded"),
                 500: ("internalServerError", "Internal Server Error"), 502: ("badGateway", "Bad Gateway"),
                 503: ("scheduledServerMaintenance", "Service Unavailable"), 504: ("gatewayTimeout", "Gateway Timeout")}


class ConnectionDropped(httpx.RemoteProtocolError):
    """The sandbox dropped the connection on purpose (fault injection)."""

    def __init__(self, when: str):
        super().__init__(f"Server disconnected without sending a response (sandbox fault: drop {when}).")


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the sandbox received it. The Authorization value is never kept: only whether a bearer came."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    bearer: bool
    body: bytes = field(repr=False)

    def json(self) -> object:
        return json.loads(self.body)


def _redacted(path: str, body: bytes) -> bytes:
    if path != "/oauth/token" or not body:
        return body
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        return b"<redacted>"
    return "&".join(f"{k}={'<redacted>' if k in SECRET_FORM_FIELDS else v}" for k, v in pairs).encode()


def record(scope: dict, body: bytes) -> RecordedRequest:
    headers: dict[str, str] = {}
    bearer = False
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "authorization":
            bearer = value.lower().startswith("bearer ") and bool(value[7:].strip())
            continue
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return RecordedRequest(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                           headers, bearer, _redacted(scope["path"], body))


def page_size(scope: dict) -> int | None:
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if key == "page[size]" and value.isdigit():
            return int(value)
    return None


async def read_body(receive: Callable) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Callable:
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # like a client that stays connected
        return {"type": "http.disconnect"}
    return receive


async def _status_response(send: Callable, rule: FaultRule) -> None:
    status = rule.status if rule.status is not None else 500  # Faults.status always sets one
    code, title = STATUS_ERRORS.get(status, ("serverError", "Server Error"))
    detail = f"Sandbox fault injection answered {status}."
    body = rule.body if rule.body is not None else json.dumps(
        {"errors": [{"id": code, "title": title, "detail": detail}]}).encode()
    headers = [(b"content-type", b"application/vnd.api+json"), (b"content-length", str(len(body)).encode())]
    if rule.retry_after is not None:
        headers.append((b"retry-after", str(int(rule.retry_after)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def drop_connection(send: Callable, when: str) -> None:
    """Abort the client connection if the server exposes it (uvicorn does), else raise ConnectionDropped."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise ConnectionDropped(when)
    transport.abort()
    await asyncio.sleep(0)  # let the server notice the disconnect, so it does not try to answer


async def _discard(_message: dict) -> None:
    return None


class FaultGate:
    """ASGI wrapper: request log + fault rules around the real application."""

    def __init__(self, app: Callable, faults: Faults, log: list[RecordedRequest], log_limit: int):
        self.app = app
        self.faults = faults
        self.log = log
        self.log_limit = log_limit

    def _record(self, scope: dict, body: bytes) -> None:
        if len(self.log) >= self.log_limit:
            del self.log[: self.log_limit // 2]
        self.log.append(record(scope, body))

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body = await read_body(receive)
        self._record(scope, body)
        rules = self.faults.select(scope["method"], scope["path"], page_size(scope))
        delay = sum(rule.delay for rule in rules if rule.kind == "delay")
        if delay:
            await asyncio.sleep(delay)
        fatal = next((rule for rule in rules if rule.kind in ("status", "drop_before")), None)
        if fatal is not None and fatal.kind == "status":
            return await _status_response(send, fatal)
        if fatal is not None:
            return await drop_connection(send, "before the request was applied")
        if any(rule.kind == "drop_after" for rule in rules):
            await self.app(scope, _replay(body), _discard)
            return await drop_connection(send, "after the request was applied")
        await self.app(scope, _replay(body), send)

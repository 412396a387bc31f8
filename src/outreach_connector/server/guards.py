"""ASGI middleware: the API-key gate (which also says which tenant is calling), the request-body limits (size,
time, and bodies in progress per key), and the shield that turns any unexpected exception into a bare 500."""
from __future__ import annotations

import hmac
import logging
import traceback
from collections import Counter
from typing import Any, Iterable

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outreach_connector.server.editor import is_public
from outreach_connector.server.envelopes import problem
from outreach_connector.server.store import owner_of

logger = logging.getLogger("outreach_connector.server")
UNAUTHORIZED = "The request is unauthorized: send the server's API key as 'Authorization: Bearer <key>'"
OPEN_PATHS = frozenset({"/healthz", "/readyz"})  # for load balancers and orchestrators: they hold no key


def is_open(path: str, method: str) -> bool:
    """Health checks and the editor's own files (it holds no data) need no API key."""
    return method in ("GET", "HEAD") and (path in OPEN_PATHS or is_public(path, method))


class ApiKeyGate:
    """Every HTTP request must carry one of the server's API keys as a bearer token (compared in constant time).

    The matching key's digest goes into ``scope["state"]["owner"]``: the tenant whose authentications the
    request may see. The key itself is not kept anywhere beyond this gate.
    """

    def __init__(self, app: ASGIApp, keys: Iterable[str]) -> None:
        self.app = app
        self._keys = [(key.encode(), owner_of(key)) for key in keys]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"], scope["method"]):
            await self.app(scope, receive, send)
            return
        owner = self._owner(scope)
        if owner is None:
            response = problem(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["owner"] = owner
        await self.app(scope, receive, send)

    def _owner(self, scope: Scope) -> str | None:
        header = dict(scope.get("headers", [])).get(b"authorization", b"")
        scheme, _, presented = header.partition(b" ")
        if scheme.lower() != b"bearer" or not presented:
            return None
        # Check every key, no early exit: the time taken does not say which key nearly matched.
        found = None
        for key, owner in self._keys:
            if hmac.compare_digest(presented.strip(), key):
                found = owner
        return found


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413, by Content-Length up front or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return f"The request body is larger than the server accepts ({self.max_bytes} bytes)"

    def _too_large(self) -> Any:
        return problem(413, self._message(), headers={"Connection": "close"})


SLOW_BODY = "The request body did not arrive within {seconds:g} seconds of its headers (--body-timeout)"
TOO_MANY_SENDING = ("This API key already has {count} requests still sending their body (--max-sending-per-key); "
                    "finish those first")


def has_body(scope: Scope) -> bool:
    """Whether a body follows the headers (HTTP/1.1: a non-zero Content-Length, or any Transfer-Encoding)."""
    headers = dict(scope.get("headers", []))
    return b"transfer-encoding" in headers or headers.get(b"content-length", b"0") not in (b"0", b"")


class SlowBodyGuard:
    """The whole body within ``timeout`` seconds of the headers, else 408 and the connection closes; and at
    most ``max_per_key`` requests of one API key still sending their body, beyond which a request gets 429
    at once (and its connection closes), so one tenant's slow clients cannot hold every connection slot.

    A request stops counting once its body is in (or its answer started): long polls and streams that have
    sent their request do not count. Requests without a body never do."""

    def __init__(self, app: ASGIApp, timeout: float, max_per_key: int) -> None:
        self.app, self.timeout, self.max_per_key = app, timeout, max_per_key
        self.sending: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        owner = scope.get("state", {}).get("owner", "")  # "": the open paths, which hold no key
        if owner and self.sending[owner] >= self.max_per_key:
            busy = problem(429, TOO_MANY_SENDING.format(count=self.sending[owner]),
                           headers={"Retry-After": "1", "Connection": "close"})
            await busy(scope, receive, send)
            return
        self.sending[owner] += 1
        deadline = anyio.current_time() + self.timeout
        counted = True

        def body_done() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.sending[owner] -= 1
                if not self.sending[owner]:
                    del self.sending[owner]

        async def timed_receive() -> Message:
            if not counted:  # the body is in: what is left to wait for is the client hanging up
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    body_done()
                return message
            body_done()
            raise HTTPException(408, SLOW_BODY.format(seconds=self.timeout), headers={"Connection": "close"})

        async def answering_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                body_done()
            await send(message)

        try:
            await self.app(scope, timed_receive, answering_send)
        finally:
            body_done()


class InternalErrorShield:
    """Unexpected exceptions become ``500 {"message": "internal error"}``; the log gets the type and frames only.

    The exception's message is left out of the log on purpose: a third-party exception may quote its input,
    and input can hold credentials.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
            log_safely(exc, scope)
            if not started:
                await problem(500, "internal error")(scope, receive, send)


def log_safely(exc: BaseException, scope: Scope) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("internal error on %s %s: %s\n%s", scope.get("method"), scope.get("path"),
                 type(exc).__name__, frames)

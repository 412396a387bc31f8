"""ASGI middleware: the API-key gate (which also says which tenant is calling), the request-body limits (size,
time, and bodies in progress per key), and the shield that turns any unexpected exception into a bare 500."""
from __future__ import annotations

import hmac
import logging
import traceback
from collections import Counter
from typing import Any, Callable, Iterable

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .editor import is_public
from .envelopes import problem

logger = logging.getLogger("outreach_connector.server")
UNAUTHORIZED = "The request is unauthorized: send the server's API key as 'Authorization: Bearer <key>'"
# GET / is where a person's browser goes first: say what is here, and what needs no key.
UNAUTHORIZED_ROOT = (UNAUTHORIZED + ". This is the Outreach Connectors API (it starts at /connectors); "
                     "open /editor in a browser for the solution editor (the page asks for the key); "
                     "/healthz and /readyz need no key")
OPEN_PATHS = frozenset({"/healthz", "/readyz"})  # for load balancers and orchestrators: they hold no key
# Outreach sends the user's browser here; the state in its query is the credential (server/consent.py).
CALLBACK_PATHS = frozenset({"/oauth/callback"})


# Outreach delivers webhook events here; the subscription's signature is the credential (server/subscriptions.py).
RECEIVER_PREFIX = "/webhooks/outreach/"


def is_open(path: str, method: str) -> bool:
    """Health checks, the OAuth callback, the editor's own files (it holds no data) and the webhook receiver
    need no API key."""
    if method == "POST" and path.startswith(RECEIVER_PREFIX):
        return True
    return method in ("GET", "HEAD") and (path in OPEN_PATHS or path in CALLBACK_PATHS or is_public(path, method))


class ApiKeyGate:
    """Every HTTP request must carry one of the server's API keys as a bearer token (compared in constant time).

    The matching key's owner (``owner_of``: the store's keyed digest) goes into ``scope["state"]["owner"]``:
    the tenant whose authentications the request may see. The key itself is not kept anywhere beyond this gate.
    """

    def __init__(self, app: ASGIApp, keys: Iterable[str], owner_of: Callable[[str], str]) -> None:
        self.app = app
        self._keys = [(key.encode(), owner_of(key)) for key in keys]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"], scope["method"]):
            await self.app(scope, receive, send)
            return
        owner = self._owner(scope)
        if owner is None:
            message = UNAUTHORIZED_ROOT if scope["path"] == "/" else UNAUTHORIZED
            response = problem(401, message, headers={"WWW-Authenticate": "Bearer"})
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


SLOW_AFTER_SECONDS = 1.0  # a body not in by then is "still sending"; a burst of prompt requests never is


class SlowBodyGuard:
    """Reads the whole body before the app runs: within ``timeout`` seconds of the headers, else 408 and the
    connection closes. A body not in after ``SLOW_AFTER_SECONDS`` counts as still sending: at most
    ``max_per_key`` of one API key's may, beyond which its requests get 429 at once (and their connections
    close), so one tenant's slow clients cannot hold every connection slot for long.

    Long polls and streams stop counting once their request is in; requests without a body never count.
    It sits inside :class:`BodyLimit`, which bounds what is read here."""

    def __init__(self, app: ASGIApp, timeout: float, max_per_key: int) -> None:
        self.app, self.timeout, self.max_per_key = app, timeout, max_per_key
        self.sending: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        owner = scope.get("state", {}).get("owner", "")  # "": the open paths, which hold no key
        try:
            messages = await self._read_body(owner, receive)
        except Refused as refused:
            await refused.answer(scope, receive, send)
            return
        except HTTPException as exc:  # BodyLimit's 413, raised outside any route's exception handling
            await problem(exc.status_code, str(exc.detail), headers=exc.headers)(scope, receive, send)
            return
        await self.app(scope, replaying(messages, receive), send)

    async def _read_body(self, owner: str, receive: Receive) -> list[Message]:
        """The body's messages as they came, ending with the last chunk (or a disconnect)."""
        messages: list[Message] = []
        if self._full(owner):
            raise self._too_many(owner)
        prompt = min(SLOW_AFTER_SECONDS, self.timeout)
        if await read_within(prompt, receive, messages):
            return messages
        if self._full(owner):
            raise self._too_many(owner)
        self.sending[owner] += 1
        try:
            if await read_within(self.timeout - prompt, receive, messages):
                return messages
        finally:
            self.sending[owner] -= 1
            if not self.sending[owner]:
                del self.sending[owner]
        raise Refused(408, SLOW_BODY.format(seconds=self.timeout), {"Connection": "close"})

    def _full(self, owner: str) -> bool:
        return bool(owner) and self.sending[owner] >= self.max_per_key

    def _too_many(self, owner: str) -> "Refused":
        return Refused(429, TOO_MANY_SENDING.format(count=self.sending[owner]),
                       {"Retry-After": "1", "Connection": "close"})


class Refused(Exception):
    """A request the guard answers itself."""

    def __init__(self, status: int, message: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.answer = problem(status, message, headers=headers)


async def read_within(seconds: float, receive: Receive, messages: list[Message]) -> bool:
    """Appends the body's messages to ``messages`` until the last one (True) or ``seconds`` pass (False)."""
    with anyio.move_on_after(seconds):
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                return True
    return False


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive that hands out ``messages`` first, then waits on the real one (for the client hanging up)."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


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

"""Running the app under uvicorn as an operator needs it: bounded slow clients, a quiet access log, a clear
message when the port is taken.

* A client gets ``header_timeout`` seconds to send each request's headers (uvicorn itself only bounds the
  idle time between requests), and at most ``max_connections`` connections (and requests in flight) are
  served at once: beyond that a request gets 503 with ``Retry-After``.
* A client that takes nothing of an answer still waiting to go out for ``send_timeout`` seconds is dropped
  (``transport.close()`` would wait for it to read, holding the slot and the buffered answer for ever).
* Whatever the server itself answers is the API's error envelope ``{"message", "code": null}``: the 503
  beyond the limit and the 400 for bytes that are not HTTP, which uvicorn would answer in plain text.
* The access log carries paths without their query strings: a query may hold a search term or a cursor.
"""
from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

import h11
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .envelopes import problem
from .guards import RECEIVER_PREFIX  # the webhook receiver (server/subscriptions.py)
from .opening import StartupError

BUSY = "The server is serving as many connections as it may (--max-connections); try again shortly"
NOT_HTTP = "The request is not valid HTTP/1.1"
BUSY_RETRY_AFTER_SECONDS = 1


class ConnectionLimit:
    """Answers 503 ``{"message", "code": null}`` with ``Retry-After`` while more than ``limit`` connections are
    open or requests in flight; ``connections`` and ``tasks`` are uvicorn's server-wide sets (this connection
    and this request are in them already)."""

    def __init__(self, app: ASGIApp, limit: int, connections: set[Any], tasks: set[Any]) -> None:
        self.app, self.limit, self.connections, self.tasks = app, limit, connections, tasks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(RECEIVER_PREFIX):
            await self.app(scope, receive, send)  # Outreach never retries an answered delivery: never refuse one
            return
        if scope["type"] == "http" and (len(self.connections) > self.limit or len(self.tasks) > self.limit):
            logging.getLogger("uvicorn.error").warning("Exceeded --max-connections (%d): answered 503", self.limit)
            busy = problem(503, BUSY, headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS), "Connection": "close"})
            await busy(scope, receive, send)
            return
        await self.app(scope, receive, send)


ABORT = "outreach_connector.abort"


class WithAbort:
    """Puts ``scope["extensions"]["outreach_connector.abort"]`` in each request: a callable that drops the
    connection without a byte of answer (the webhook receiver's way to make Outreach retry)."""

    def __init__(self, app: ASGIApp, protocol: Any) -> None:
        self.app, self.protocol = app, protocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("extensions", {})[ABORT] = self.protocol.transport.abort
        await self.app(scope, receive, send)


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose next request's headers do not arrive in time, with
    our connection limit in place of uvicorn's, and our envelope on its answer to bytes that are not HTTP."""

    header_timeout = 10.0
    max_connections: int | None = None
    send_timeout: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unsent = 0  # bytes of answers waiting in our write buffer at the last look
        self._unsent_since = 0.0  # when that buffer last shrank or emptied
        if self.max_connections is not None:
            self.limit_concurrency = None  # uvicorn's own check answers in plain text: ours replaces it
            self.app = ConnectionLimit(self.app, self.max_connections, self.connections, self.tasks)
        self.app = WithAbort(self.app, self)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request h11 could not parse, as our envelope instead of plain text."""
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):  # an answer was already under way
            self.transport.close()
            return
        body = json.dumps({"message": NOT_HTTP, "code": None}, separators=(",", ":")).encode()  # as JSONResponse
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()

    # uvicorn's signature, as its own override has it: a Transport, narrower than asyncio.Protocol's.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()
        if self.send_timeout is not None:
            self._unsent_since = self.loop.time()
            self.loop.call_later(self.send_timeout / 4, self._check_sending)

    def _check_sending(self) -> None:
        """Drops the connection when its unsent answer has not shrunk for ``send_timeout`` seconds.

        Looks a few times per timeout: a client that reads anything makes the buffer shrink between two looks
        (uvicorn stops the app writing once the buffer is full), one that reads nothing never does."""
        timeout = self.send_timeout
        if timeout is None:  # never scheduled without one
            return
        if self.transport.is_closing() and self.transport.get_write_buffer_size() == 0:
            return  # closed, or closing with nothing left to send: the connection ends by itself
        now, unsent = self.loop.time(), self.transport.get_write_buffer_size()
        if unsent == 0 or unsent < self._unsent:
            self._unsent_since = now
        elif now - self._unsent_since >= timeout:
            logging.getLogger("uvicorn.error").warning(
                "Dropped a client that read nothing of its answer for %g s (--send-timeout)", timeout)
            self.transport.abort()
            return
        self._unsent = unsent
        self.loop.call_later(timeout / 4, self._check_sending)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        waiting_after = self.cycle  # a new request replaces the cycle; if it has not by then, close
        self.loop.call_later(self.header_timeout, self._headers_overdue, waiting_after)

    def _headers_overdue(self, waiting_after: Any) -> None:
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()


def protocol_with_header_timeout(seconds: float, max_connections: int | None = None,
                                 send_timeout: float | None = None) -> type[H11Protocol]:
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,),
                {"header_timeout": seconds, "max_connections": max_connections, "send_timeout": send_timeout})


class PathOnlyAccessLog(logging.Filter):
    """Rewrites uvicorn's access records to carry the path without its query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def quiet_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, PathOnlyAccessLog) for f in access.filters):
        access.addFilter(PathOnlyAccessLog())


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else is created: a busy port leaves no files behind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another with --port "
                           "(nothing was written)") from None
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def uvicorn_config(app: Any, settings: Any) -> Any:
    import uvicorn

    protocol = protocol_with_header_timeout(settings.header_timeout, settings.max_connections,
                                            settings.send_timeout)
    return uvicorn.Config(app, log_level=settings.log_level, http=protocol, timeout_keep_alive=5)

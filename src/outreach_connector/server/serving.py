"""Running the app under uvicorn as an operator needs it: bounded slow clients, a quiet access log, a clear
message when the port is taken.

* A client gets ``header_timeout`` seconds to send each request's headers (uvicorn itself only bounds the
  idle time between requests), and at most ``max_connections`` connections are served at once (uvicorn
  answers 503 beyond that).
* The access log carries paths without their query strings: a query may hold a search term or a cursor.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from outreach_connector.server.opening import StartupError


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose next request's headers do not arrive in time."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        waiting_after = self.cycle  # a new request replaces the cycle; if it has not by then, close
        self.loop.call_later(self.header_timeout, self._headers_overdue, waiting_after)

    def _headers_overdue(self, waiting_after: Any) -> None:
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()


def protocol_with_header_timeout(seconds: float) -> type[H11Protocol]:
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": seconds})


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

    return uvicorn.Config(app, log_level=settings.log_level, http=protocol_with_header_timeout(settings.header_timeout),
                          limit_concurrency=settings.max_connections, timeout_keep_alive=5)

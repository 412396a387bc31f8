"""ASGI middleware: the API-key gate and the shield that turns any unexpected exception into a bare 500."""
from __future__ import annotations

import hmac
import logging
import traceback
from typing import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outreach_connector.server.editor import is_public
from outreach_connector.server.envelopes import problem

logger = logging.getLogger("outreach_connector.server")
UNAUTHORIZED = "The request is unauthorized: send the server's API key as 'Authorization: Bearer <key>'"


class ApiKeyGate:
    """Every HTTP request must carry one of the server's API keys as a bearer token (compared in constant time)."""

    def __init__(self, app: ASGIApp, keys: Iterable[str]) -> None:
        self.app = app
        self._keys = [key.encode() for key in keys]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_public(scope["path"], scope["method"]) and not self._authorized(scope):
            response = problem(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        header = dict(scope.get("headers", [])).get(b"authorization", b"")
        scheme, _, presented = header.partition(b" ")
        if scheme.lower() != b"bearer" or not presented:
            return False
        # Check every key, no early exit: the time taken does not say which key nearly matched.
        matches = [hmac.compare_digest(presented.strip(), key) for key in self._keys]
        return any(matches)


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

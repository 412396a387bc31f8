"""``serve``'s ``/mcp``: streamable HTTP, stateless, behind the server's API key, one tenant per request.

The API-key gate has already run: ``request.state.owner`` is the calling tenant. Each ``tools/call`` names
its authentication in ``X-Outreach-Authentication``; missing, unknown or another tenant's → ``isError`` and
nothing sent. No session lives between requests (``stateless``), so any replica answers any request.
Without the ``mcp`` extra the path answers 501 and says what to install.
"""
from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator

from starlette.types import Receive, Scope, Send

from ..errors import ConnectorError
from ..server.credentials import AuthenticationNotFound
from ..server.envelopes import problem, shown
from ..server.services import known_id

MCP_PATH = "/mcp"
AUTH_HEADER = "X-Outreach-Authentication"
NO_EXTRA = "MCP needs the 'mcp' extra on this server: pip install 'outreach-connector[server,mcp]'"
NOT_STARTED = "MCP is not running: the server's lifespan has not started it"


def resolver(pool: Any) -> Any:
    """Request context -> the connector of the authentication the request names (or an isError refusal)."""
    from .calls import failure, refused

    async def resolve(ctx: Any) -> Any:
        request = ctx.request
        auth_id = request.headers.get(AUTH_HEADER) if request is not None else None
        if not auth_id:
            return refused(f"no authentication named: send the header '{AUTH_HEADER}: <id>' (an id from POST "
                           "/authentications); nothing was sent", "AuthenticationRequired")
        owner = getattr(request.state, "owner", None)
        try:
            if not known_id(auth_id) or owner is None:
                raise AuthenticationNotFound(auth_id)
            return await pool.get(auth_id, owner)
        except AuthenticationNotFound:
            return refused(f"authentication {shown(auth_id)!r} was not found; nothing was sent",
                           "AuthenticationNotFound")
        except ConnectorError as error:  # the store did not answer
            return failure(error.to_dict())

    return resolve


class McpEndpoint:
    """The ASGI app at ``/mcp``: the SDK's stateless session manager, started by :meth:`running`."""

    def __init__(self, pool: Any, tools_choice: str, plugin_names: tuple[str, ...] | None) -> None:
        self.manager: Any = None
        self.started = False
        try:
            from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        except ModuleNotFoundError:
            return
        from .server import build_server
        from .tools import tool_set_for

        server = build_server(tool_set_for(plugin_names, tools_choice), resolver(pool))
        # JSON responses: one answer per request, nothing held open. No DNS-rebinding check: the API key
        # already decides who may call, and a server behind a proxy is reached under any host name.
        self.manager = StreamableHTTPSessionManager(app=server, stateless=True, json_response=True)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self.manager is None:
            yield
            return
        async with self.manager.run():
            self.started = True
            try:
                yield
            finally:
                self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.manager is None:
            await problem(501, NO_EXTRA)(scope, receive, send)
        elif not self.started:
            await problem(503, NOT_STARTED)(scope, receive, send)
        else:
            await self.manager.handle_request(scope, receive, send)

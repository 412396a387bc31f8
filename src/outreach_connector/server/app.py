"""The Connectors API server as a Starlette app (``create_app``) and its command line (``main``)."""
from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any, AsyncIterator, Sequence

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from ..client import quiet_http_libraries
from ..errors import ConnectorError
from ..mcp.http import MCP_PATH, McpEndpoint
from ..oauth import longest_request_seconds
from .secrets_box import EncryptionKeyError
from . import consent, editor, keepalive, routes, subscriptions, trigger_tasks
from .catalogue import Catalogue
from .connections import ConnectorPool
from .envelopes import problem
from .guards import ApiKeyGate, BodyLimit, InternalErrorShield, SlowBodyGuard
from .opening import announce_key_file, key_file_to_generate, open_store
from .store_sql import StoreUnavailable
from .serving import bind, quiet_access_log, uvicorn_config
from .services import Services
from .settings import (NO_API_KEY, ServerSettings, check_api_keys, settings_from,
                                                 warn_about_secrets_on_argv)

CONNECTOR = "/connectors/{name}/versions/{version}"
ROUTES = [
    Route("/connectors", routes.list_connectors, methods=["GET"]),
    Route(CONNECTOR + "/operations", routes.list_operations, methods=["GET"]),
    Route(CONNECTOR + "/call", routes.call_operation, methods=["POST"]),
    Route(CONNECTOR + "/triggers", routes.list_triggers, methods=["GET"]),
    Route("/healthz", routes.healthz, methods=["GET"]),
    Route("/readyz", routes.readyz, methods=["GET"]),
    Route("/authentications/connect", consent.connect, methods=["POST"]),
    Route(consent.CALLBACK_PATH, consent.callback, methods=["GET"]),
    Route("/authentications", routes.create_authentication, methods=["POST"]),
    Route("/authentications", routes.list_authentications, methods=["GET"]),
    Route("/authentications/{auth_id}", routes.get_authentication, methods=["GET"]),
    Route("/authentications/{auth_id}", routes.delete_authentication, methods=["DELETE"]),
    Route("/editor{rest:path}", editor.page, methods=["GET"]),
    # Triggers (server/subscriptions.py)
    Route("/authentications/{auth_id}/subscriptions", subscriptions.create, methods=["POST"]),
    Route("/authentications/{auth_id}/subscriptions", subscriptions.list_for_authentication, methods=["GET"]),
    Route("/subscriptions/{sid}", subscriptions.get_one, methods=["GET"]),
    Route("/subscriptions/{sid}", subscriptions.delete_one, methods=["DELETE"]),
    Route("/subscriptions/{sid}/events", subscriptions.events, methods=["GET"]),
    Route("/subscriptions/{sid}/enable", subscriptions.enable, methods=["POST"]),
    Route("/subscriptions/{sid}/resume", subscriptions.resume, methods=["POST"]),
    Route(subscriptions.RECEIVER_PREFIX + "{sid}", subscriptions.receive, methods=["POST"]),
]


def create_app(settings: ServerSettings, *, transport: Any = None) -> Starlette:
    """The app; ``transport`` (an httpx transport) reaches Outreach in-process in tests."""
    if not settings.api_keys:
        raise ValueError(NO_API_KEY)
    catalogue = Catalogue.load(settings.connector.plugin_names)  # a refused plugin stops us before any file
    keys = tuple(k.get_secret_value() for k in settings.api_keys)
    check_api_keys(keys)
    key = settings.encryption_key.get_secret_value() if settings.encryption_key else None
    previous = tuple(k.get_secret_value() for k in settings.previous_encryption_keys)
    # Waiting for another replica's refresh is bounded like waiting for one in this process (and a refresh
    # lease outlasts it: see store_sql.SqlBackend.lease_seconds).
    lock_timeout = settings.connector.max_retry_wait + longest_request_seconds(settings.connector.timeout)
    store = open_store(settings.database, key, api_keys=keys, lock_timeout=lock_timeout, previous_keys=previous)
    services = Services(catalogue, store, ConnectorPool(store, settings, transport), settings)
    # /mcp: the operations as MCP tools, from the same plugins as the catalogue
    mcp = McpEndpoint(services.pool, settings.mcp_tools, settings.connector.plugin_names)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        keeping_alive = keepalive.start(services)
        triggering = trigger_tasks.start(services, app.state.arrivals)
        async with mcp.running():
            yield
        await trigger_tasks.stop(triggering)
        await keepalive.stop(keeping_alive)
        await services.pool.aclose()
        store.close()

    app = Starlette(routes=[*ROUTES, Route(MCP_PATH, mcp)], lifespan=lifespan,
                    middleware=[Middleware(InternalErrorShield),
                                Middleware(ApiKeyGate, keys=keys, owner_of=store.owner_of),
                                Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
                                Middleware(SlowBodyGuard, timeout=settings.body_timeout,
                                           max_per_key=settings.max_sending_per_key)],
                    exception_handlers={HTTPException: http_problem, StoreUnavailable: store_problem})
    app.state.services = services
    app.state.arrivals = subscriptions.Arrivals()
    app.state.receiver = subscriptions.receiver_state(services)
    return app


async def store_problem(request: Request, exc: Exception) -> Any:
    logging.getLogger("outreach_connector.server").warning("%s %s: %s", request.method, request.url.path, exc)
    return problem(503, "The credential store is not answering; try again shortly", headers={"Retry-After": "5"})


async def http_problem(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


def main(argv: Sequence[str] | None = None) -> int:
    """``outreach-connector serve``: 0 after a clean shutdown, 2 on a configuration or start-up problem.

    The port is bound first and the store opened second, so a busy port or an unusable database leaves no
    file behind; either is one line on stderr.
    """
    import uvicorn

    listener = None
    warn_about_secrets_on_argv(argv)
    try:
        settings = settings_from(argv)
        if not settings.api_keys:
            raise ValueError(NO_API_KEY)
        check_api_keys([k.get_secret_value() for k in settings.api_keys])  # before anything is bound or written
        listener = bind(settings.host, settings.port)
        new_key_file = key_file_to_generate(settings.database, settings.encryption_key)
        app = create_app(settings)
    except (ValidationError, ValueError, ConnectorError) as exc:  # EncryptionKeyError is a ValueError
        if listener is not None:
            listener.close()
        message = _validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
        print(f"outreach-connector serve: {message}", file=sys.stderr)
        return 2
    announce_key_file(new_key_file)
    # uvicorn configures only its own loggers; this gives the server's (and httpx's) records a home.
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    quiet_http_libraries(debug=settings.log_level == "debug")  # their INFO lines carry upstream query strings
    quiet_access_log()
    server = uvicorn.Server(uvicorn_config(app, settings))
    host, port = listener.getsockname()[:2]
    logging.getLogger("outreach_connector.server").info(
        "serving the Connectors API on http://%s:%d (store: %s); the solution editor: http://%s:%d/editor",
        host, port, app.state.services.store.backend.describe(), host, port)
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: the shutdown was clean
        pass
    return 0


def _validation_message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(map(str, error["loc"]))
    return f"{where}: {error['msg']}" if where else str(error["msg"])


__all__ = ["create_app", "main", "EncryptionKeyError"]

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

from outreach_connector.errors import ConnectorError
from outreach_connector.server.credentials import CredentialStore
from outreach_connector.server.secrets_box import EncryptionKeyError
from outreach_connector.server import editor, routes, startup
from outreach_connector.server.catalogue import Catalogue
from outreach_connector.server.connections import ConnectorPool
from outreach_connector.server.envelopes import problem
from outreach_connector.server.guards import ApiKeyGate, InternalErrorShield
from outreach_connector.server.settings import NO_API_KEY, ServerSettings, settings_from

CONNECTOR = "/connectors/{name}/versions/{version}"
ROUTES = [
    Route("/connectors", routes.list_connectors, methods=["GET"]),
    Route(CONNECTOR + "/operations", routes.list_operations, methods=["GET"]),
    Route(CONNECTOR + "/call", routes.call_operation, methods=["POST"]),
    Route("/authentications", routes.create_authentication, methods=["POST"]),
    Route("/authentications", editor.list_authentications, methods=["GET"]),
    Route("/authentications/{auth_id}", routes.get_authentication, methods=["GET"]),
    Route("/authentications/{auth_id}", routes.delete_authentication, methods=["DELETE"]),
    Route("/editor{rest:path}", editor.page, methods=["GET"]),
]


def create_app(settings: ServerSettings, *, transport: Any = None) -> Starlette:
    """The app; ``transport`` (an httpx transport) reaches Outreach in-process in tests."""
    if not settings.api_keys:
        raise ValueError(NO_API_KEY)
    catalogue = Catalogue.load(settings.connector.plugin_names)  # a refused plugin stops us before any file
    key = settings.encryption_key.get_secret_value() if settings.encryption_key else None
    store = CredentialStore(settings.database, encryption_key=key)
    services = routes.Services(catalogue, store, ConnectorPool(store, settings, transport))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await services.pool.aclose()

    app = Starlette(routes=ROUTES, lifespan=lifespan,
                    middleware=[Middleware(InternalErrorShield),
                                Middleware(ApiKeyGate, keys=[k.get_secret_value() for k in settings.api_keys])],
                    exception_handlers={HTTPException: http_problem})
    app.state.services = services
    return app


async def http_problem(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


def main(argv: Sequence[str] | None = None) -> int:
    """``outreach-connector serve``: 0 after a clean shutdown, 2 on a configuration error."""
    import uvicorn

    try:
        settings = settings_from(argv)
        new_key_file = startup.preflight(settings)  # a busy port fails here, before anything is written
        app = create_app(settings)
    except (ValidationError, ValueError, ConnectorError) as exc:  # EncryptionKeyError is a ValueError
        message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        print(f"outreach-connector serve: {message}", file=sys.stderr)
        return 2
    startup.announce_key_file(new_key_file)
    # uvicorn configures only its own loggers; this gives the server's (and httpx's) records a home.
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
    return 0


__all__ = ["create_app", "main", "EncryptionKeyError"]

"""What every route reads beside its body: the server's services, the caller (the API key's owner), and
whether an authentication id could name one at all. Below the routes, so routes, consent, subscriptions and
the MCP endpoint share them without importing one another."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from . import envelopes
from .catalogue import Catalogue
from .connections import ConnectorPool
from .envelopes import shown
from .settings import ServerSettings
from .store import CredentialStore


@dataclass(frozen=True)
class Services:
    catalogue: Catalogue
    store: CredentialStore
    pool: ConnectorPool
    settings: ServerSettings


def services(request: Request) -> Services:
    return request.app.state.services


def owner(request: Request) -> str:
    return request.state.owner


def not_found(auth_id: str) -> Response:
    return envelopes.problem(404, f"Authentication {shown(auth_id)!r} was not found")


def known_id(auth_id: str) -> bool:
    """Ids are UUIDs the server made; anything else cannot exist, and never reaches the database."""
    try:
        return str(uuid.UUID(auth_id)) == auth_id
    except ValueError:
        return False

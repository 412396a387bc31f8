"""Built-in handlers, one per operation kind. The kind -> handler table is explicit and complete."""
from __future__ import annotations

from ..wire import Context, HttpCall, Reply
from .base import Handler
from .bulk import CollectionActionHandler
from .compliance import ComplianceRequestHandler
from .ddl import DdlHandler
from .links import ExecuteLinkHandler, RawHttpHandler
from .resources import (ActionHandler, CreateHandler, DeleteHandler, GetHandler, ListHandler,
                        UpdateHandler)

BUILTIN_HANDLERS: dict[str, Handler] = {
    "list": ListHandler(),
    "get": GetHandler(),
    "create": CreateHandler(),
    "update": UpdateHandler(),
    "delete": DeleteHandler(),
    "action": ActionHandler(),
    "collection_action": CollectionActionHandler(),
    "ddl": DdlHandler(),
    "execute_link": ExecuteLinkHandler(),
    "raw_http": RawHttpHandler(),
    "compliance_request": ComplianceRequestHandler(),
}

__all__ = ["BUILTIN_HANDLERS", "Context", "Handler", "HttpCall", "Reply"]

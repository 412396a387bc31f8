"""Built-in handlers, one per operation kind. The kind -> handler table is explicit and complete.

Every handler is a flow (see resources.py); a plugin's handler may bring only ``build`` and ``parse``, and
``flowing`` gives it the one-step flow when it is registered.
"""
from __future__ import annotations

from typing import Any

from ..spec import OperationSpec
from ..wire import Context, HttpCall, Reply
from .ddl import DdlHandler
from .links import ExecuteLinkHandler, RawHttpHandler
from .resources import (ActionHandler, CallContext, CollectionActionHandler, ComplianceRequestHandler, CreateHandler,
                        DeleteHandler, Flow, GetHandler, Handler, ListHandler, OneStep, UpdateHandler)

BUILTIN_HANDLERS: dict[str, Handler[Any]] = {
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


class PlainHandler(OneStep[OperationSpec]):
    """A plugin's ``build``/``parse`` pair, run as the one-step flow."""

    def __init__(self, pair: Any) -> None:
        self.pair = pair

    def build(self, spec: OperationSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        return self.pair.build(spec, data, ctx)

    def parse(self, spec: OperationSpec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        return self.pair.parse(spec, data, reply, ctx)


def flowing(handler: Any) -> Handler[Any]:
    """The handler as registered: its own ``flow`` when it has one, else the one-step flow of its pair."""
    return handler if callable(getattr(handler, "flow", None)) else PlainHandler(handler)


__all__ = ["BUILTIN_HANDLERS", "CallContext", "Context", "Flow", "Handler", "HttpCall", "OneStep", "Reply",
           "flowing"]

"""The built-in plugin: the connector's operations (the seed's 95 and those generated from Outreach's schema)
and its handlers, registered like any plugin's."""
from __future__ import annotations

from typing import Callable

from .catalog import load_entries
from .handlers import BUILTIN_HANDLERS
from .hookspecs import hookimpl


@hookimpl
def register_operations(register: Callable) -> None:
    for spec in load_entries():
        register(spec)


@hookimpl
def register_handlers(register: Callable) -> None:
    for kind, handler in BUILTIN_HANDLERS.items():
        register(kind, handler)

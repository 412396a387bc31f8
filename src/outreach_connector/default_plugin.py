"""The built-in plugin: the connector's catalogue (the seed's 95 operations and those generated from Outreach's
schema) and its handlers, registered like any plugin's."""
from __future__ import annotations

from .catalogue_folders import core_folder
from .handlers import BUILTIN_HANDLERS
from .hookspecs import RegisterCatalog, RegisterHandler, hookimpl


@hookimpl
def register_catalog(register: RegisterCatalog) -> None:
    register(core_folder().root)


@hookimpl
def register_handlers(register: RegisterHandler) -> None:
    for kind, handler in BUILTIN_HANDLERS.items():
        register(kind, handler)

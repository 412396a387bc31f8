"""The connector's plugin hooks. The built-in operations come in through these same hooks.

A plugin is a module or object with ``@hookimpl`` functions, installed under the entry-point group
``outreach_connector`` (``OUTREACH_CONNECTOR_PLUGINS`` chooses which installed plugins load). Every entry a
plugin brings is checked when the catalogue loads; a broken plugin is refused with a ``PluginError`` naming it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pluggy

PROJECT = "outreach_connector"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

class RegisterCatalog(Protocol):
    def __call__(self, folder: Path | str) -> None: ...

class RegisterOperation(Protocol):
    def __call__(self, spec: Any) -> None: ...

class RegisterTrigger(Protocol):
    def __call__(self, spec: Any) -> None: ...

class RegisterHandler(Protocol):
    def __call__(self, kind: str, handler: Any) -> None: ...

@hookspec
def register_catalog(register: RegisterCatalog) -> None:
    """Call ``register(folder)`` with a folder laid out like the core catalogue.

    The folder holds ``operations/*.yaml``, ``ddl/*.yaml`` and/or ``triggers/*.yaml`` entries and ``schemas/``;
    each entry's schema paths resolve inside that folder, and ``schemas/resources/<type>.json`` files add
    resource types.
    """

@hookspec
def register_operations(register: RegisterOperation) -> None:
    """Call ``register(spec)`` with an ``OperationSpec`` for each operation the plugin builds in code.

    Schemas are given inline (dicts) or as paths under the core catalogue's ``schemas/``. A name already
    registered by another plugin is an error, never silently renamed.
    """

@hookspec
def register_handlers(register: RegisterHandler) -> None:
    """Call ``register(kind, handler)`` for each operation kind the plugin implements.

    A handler has ``build(spec, input, ctx) -> HttpCall`` and ``parse(spec, input, reply, ctx) -> output``,
    pure functions that never touch the network (``HttpCall``, ``Reply`` and ``Context`` are in ``wire``). One
    that needs several requests also has ``flow(spec, input, ctx)``: a generator that yields each ``HttpCall``,
    receives its ``Reply`` and returns the output (handlers/resources.py).
    """

@hookspec
def register_triggers(register: RegisterTrigger) -> None:
    """Call ``register(spec)`` with a ``TriggerSpec`` for each trigger (Outreach webhook event) the plugin
    builds in code. Triggers in a folder given to ``register_catalog`` (``triggers/*.yaml``) need no call.
    A name already registered is an error.
    """

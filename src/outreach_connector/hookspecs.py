"""The connector's plugin hooks. The built-in operations come in through these same hooks.

A plugin is a module or object with ``@hookimpl`` functions, installed under the entry-point group
``outreach_connector`` (``OUTREACH_CONNECTOR_PLUGINS`` chooses which installed plugins load). Every entry a
plugin brings is checked when the catalogue loads; a broken plugin is refused with a ``PluginError`` naming it.

Each hook hands the plugin a ``register`` callable and returns nothing. The registry calls the plugins one at a
time, in the order pluggy would (``tryfirst`` ones first, then the latest registered, ``trylast`` ones last), so
that whatever a plugin registers, or breaks, is known to be its; a ``wrapper=True`` or ``hookwrapper=True``
implementation is refused, since there is no hook call for it to wrap.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

import pluggy

if TYPE_CHECKING:
    from .handlers import Handler
    from .spec import OperationSpec, TriggerSpec

PROJECT: Final = "outreach_connector"  # the marker's project name and the entry-point group
hookspec: Final = pluggy.HookspecMarker(PROJECT)
hookimpl: Final = pluggy.HookimplMarker(PROJECT)


class RegisterCatalog(Protocol):
    def __call__(self, folder: Path | str) -> None: ...


class RegisterOperation(Protocol):
    def __call__(self, spec: OperationSpec) -> None: ...


class RegisterTrigger(Protocol):
    def __call__(self, spec: TriggerSpec) -> None: ...


class RegisterHandler(Protocol):
    def __call__(self, kind: str, handler: Handler) -> None: ...


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
    receives its ``Reply`` and returns the output (handlers/resources.py). A kind registered by two plugins is
    an error.
    """


@hookspec
def register_triggers(register: RegisterTrigger) -> None:
    """Call ``register(spec)`` with a ``TriggerSpec`` for each trigger (Outreach webhook event) the plugin
    builds in code. Triggers in a folder given to ``register_catalog`` (``triggers/*.yaml``) need no call.
    A name already registered is an error.
    """


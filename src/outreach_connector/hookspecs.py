"""The connector's plugin hooks. The built-in operations come in through these same hooks."""
from __future__ import annotations

from typing import Callable

import pluggy

PROJECT = "outreach_connector"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_operations(register: Callable) -> None:
    """Call ``register(spec)`` with an ``OperationSpec`` for each operation the plugin provides.

    A name already registered by another plugin is an error, never silently renamed.
    """


@hookspec
def register_handlers(register: Callable) -> None:
    """Call ``register(kind, handler)`` for each operation kind the plugin implements.

    A handler has ``build(spec, input, ctx) -> HttpCall`` and ``parse(spec, input, reply, ctx) -> output``.
    """

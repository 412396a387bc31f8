"""Collect operations and handlers from every plugin into one lookup table."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable

import pluggy

from . import default_plugin, hookspecs
from .catalog import load_resource
from .errors import RegistryError, UnknownOperation
from .handlers import Handler
from .spec import OperationSpec
from .validation import compile_schema


def get_plugin_manager(plugins: Iterable[Any] = (), *, entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh plugin manager: the built-in plugin, then installed ones, then ``plugins`` given here."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(default_plugin, name="outreach_connector.default")
    if entry_points:
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    for plugin in plugins:
        manager.register(plugin)
    manager.check_pending()  # a misspelled hook name fails here, not silently
    return manager


@dataclass
class Registered:
    """One operation ready to run; its validators are compiled on first use and kept for the process."""

    spec: OperationSpec
    handler: Handler

    @cached_property
    def input_validator(self) -> Any:
        return compile_schema(self.spec.input_schema)

    @cached_property
    def output_validator(self) -> Any:
        return compile_schema(self.spec.output_schema)

    @cached_property
    def read_only(self) -> frozenset[str]:
        """Names Outreach will not take on write, to say so instead of "unknown field"."""
        return load_resource(self.spec.resource).read_only if self.spec.resource else frozenset()


class Registry:
    """Operations by name, each with the handler of its kind."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self._specs: dict[str, OperationSpec] = {}
        self._handlers: dict[str, Handler] = {}
        manager.hook.register_handlers(register=self._add_handler)
        manager.hook.register_operations(register=self._add_operation)
        self._entries = {name: Registered(spec, self._handler_for(spec)) for name, spec in self._specs.items()}

    def _add_handler(self, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise RegistryError(f"two plugins register a handler for kind {kind!r}")
        self._handlers[kind] = handler

    def _add_operation(self, spec: OperationSpec) -> None:
        if not isinstance(spec, OperationSpec):
            raise RegistryError(f"register() takes an OperationSpec, not {type(spec).__name__}")
        if spec.name in self._specs:
            raise RegistryError(f"operation {spec.name!r} is registered twice")
        self._specs[spec.name] = spec

    def _handler_for(self, spec: OperationSpec) -> Handler:
        if spec.kind not in self._handlers:
            raise RegistryError(f"no handler for kind {spec.kind!r} (operation {spec.name!r})")
        return self._handlers[spec.kind]

    def __getitem__(self, name: str) -> Registered:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownOperation(name) from None

    def __iter__(self):
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

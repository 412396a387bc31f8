"""Collect operations and handlers from every plugin into one lookup table, built once per process.

``shared_registry(names)`` is the process-wide catalogue every ``Connector`` uses: plugin manager, entries,
compiled validators and resource metadata are the same for every end user, so they are built once (lazily)
and shared. A registry for explicit plugin objects (tests, hosts with their own plugins) is built apart.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property, partial
from importlib.metadata import entry_points as installed_entry_points
from pathlib import Path
from typing import Any, Callable, Iterable

import pluggy

from . import default_plugin, hookspecs
from .catalog import CORE_OWNER, CatalogFolder, core_folder, folder_of, resource_for, schema_for
from .errors import ConnectorError, PluginError, RegistryError, UnknownOperation, UnknownTrigger
from .handlers import Handler, flowing
from .spec import OperationSpec, TriggerSpec, of_its_kind
from .validation import compile_schema

PluginNames = tuple[str, ...] | None  # None: every installed plugin; (): none


def get_plugin_manager(plugins: Iterable[Any] = (), *, entry_points: bool = True,
                       names: PluginNames = None) -> pluggy.PluginManager:
    """A fresh plugin manager: the built-in plugin, then installed ones (``names`` chooses), then ``plugins``."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(default_plugin, name=CORE_OWNER)
    if entry_points:
        load_installed(manager, names)
    for plugin in plugins:
        manager.register(plugin)
    try:
        manager.check_pending()  # a misspelled hook name fails here, not silently
    except pluggy.PluginValidationError as exc:
        raise PluginError(plugin_label(manager, exc.plugin), str(exc)) from None
    return manager


def load_installed(manager: pluggy.PluginManager, names: PluginNames) -> None:
    """Register the installed plugins of the entry-point group ``outreach_connector`` that ``names`` chooses."""
    found = {ep.name: ep for ep in installed_entry_points(group=hookspecs.PROJECT)}
    for name in found if names is None else names:
        if name not in found:
            raise PluginError(name, "no installed plugin has this entry-point name (installed: "
                              f"{', '.join(sorted(found)) or 'none'})")
        point = found[name]
        try:
            plugin = point.load()
        except Exception as exc:  # a plugin's import error is its own, named, not ours
            raise PluginError(f"{name} ({point.value})", f"cannot be imported: {type(exc).__name__}: {exc}") from None
        manager.register(plugin, name=name)


def plugin_label(manager: pluggy.PluginManager, plugin: Any) -> str:
    """The plugin's registered name and the module or class it is, e.g. ``stage_names (outreach_stage_names)``."""
    name = manager.get_name(plugin) or ""
    module = getattr(plugin, "__name__", type(plugin).__module__ + "." + type(plugin).__qualname__)
    if not name or name.isdigit() or name == module:  # pluggy names an unnamed object by its id()
        return module
    return f"{name} ({module})"


class WithSchemas:
    """An entry's schemas and input validator, read and compiled on first use and kept for the process."""

    spec: Any

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        return schema_for(self.spec, self.spec.input_schema)

    @cached_property
    def output_schema(self) -> dict[str, Any]:
        return schema_for(self.spec, self.spec.output_schema)

    @cached_property
    def input_validator(self) -> Any:
        return compile_schema(self.input_schema)


@dataclass
class Registered(WithSchemas):
    """One operation ready to run; its validators are compiled on first use and kept for the process."""

    spec: OperationSpec
    handler: Handler
    owner: str = CORE_OWNER

    @property
    def origin(self) -> str:
        """``seed`` or ``outreach-schema`` for the core's entries; ``plugin`` for any a plugin brings."""
        return self.spec.origin if self.owner == CORE_OWNER else "plugin"

    @cached_property
    def output_validator(self) -> Any:
        return compile_schema(self.output_schema)

    @cached_property
    def read_only(self) -> frozenset[str]:
        """Names Outreach will not take on write, to say so instead of "unknown field"."""
        return resource_for(self.spec).read_only if self.spec.resource else frozenset()


@dataclass
class RegisteredTrigger(WithSchemas):
    """One trigger (an Outreach webhook event)."""

    spec: TriggerSpec
    owner: str = CORE_OWNER


class Registry:
    """Operations by name, each with the handler of its kind, and triggers by name; every entry checked as it
    loads."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self._specs: dict[str, tuple[OperationSpec, str]] = {}
        self._handlers: dict[str, Handler] = {}
        self._trigger_specs: dict[str, RegisteredTrigger] = {}
        self._each_plugin(manager, "register_handlers", self._add_handler)
        self._each_plugin(manager, "register_catalog", self._add_folder)
        self._each_plugin(manager, "register_operations", self._add_operation)
        self._each_plugin(manager, "register_triggers", self._add_trigger)
        self._entries = {name: Registered(of_its_kind(spec), self._handler_for(spec, owner), owner)
                         for name, (spec, owner) in self._specs.items()}
        for entry in self._entries.values():
            check_entry(entry)
        for trigger in self._trigger_specs.values():
            check_trigger(trigger)
            poll = trigger.spec.poll
            if poll is not None and poll.operation not in self._entries:
                raise PluginError(trigger.owner, f"trigger {trigger.spec.name!r} polls with {poll.operation!r}, "
                                                 "which is not registered", trigger.spec._file)

    @staticmethod
    def _each_plugin(manager: pluggy.PluginManager, hook: str, add: Callable) -> None:
        """Call one hook plugin by plugin, so whatever a plugin registers (or breaks) is known to be its."""
        for impl in getattr(manager.hook, hook).get_hookimpls():
            owner = plugin_label(manager, impl.plugin)
            try:
                impl.function(register=partial(add, owner))
            except ConnectorError:
                raise
            except Exception as exc:
                raise PluginError(owner, f"{hook} failed: {type(exc).__name__}: {exc}") from None

    def _add_handler(self, owner: str, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise RegistryError(f"two plugins register a handler for kind {kind!r} (the second: {owner})")
        if not (callable(getattr(handler, "build", None)) and callable(getattr(handler, "parse", None))):
            raise PluginError(owner, f"the handler for kind {kind!r} needs build() and parse()")
        self._handlers[kind] = flowing(handler)

    def _add_folder(self, owner: str, folder: Path | str) -> None:
        operations, triggers = CatalogFolder(Path(folder), owner).load()
        for spec in operations:
            self._add_operation(owner, spec)
        for trigger in triggers:
            self._add_trigger(owner, trigger)

    def _add_trigger(self, owner: str, spec: TriggerSpec) -> None:
        if not isinstance(spec, TriggerSpec):
            raise PluginError(owner, f"register() takes a TriggerSpec, not {type(spec).__name__}")
        if spec.name in self._trigger_specs:
            raise RegistryError(f"trigger {spec.name!r} is registered twice "
                                f"(by {self._trigger_specs[spec.name].owner} and by {owner})")
        self._trigger_specs[spec.name] = RegisteredTrigger(spec, owner)

    def _add_operation(self, owner: str, spec: OperationSpec) -> None:
        if not isinstance(spec, OperationSpec):
            raise PluginError(owner, f"register() takes an OperationSpec, not {type(spec).__name__}")
        if spec.name in self._specs:
            raise RegistryError(f"operation {spec.name!r} is registered twice "
                                f"(by {self._specs[spec.name][1]} and by {owner})")
        self._specs[spec.name] = (spec, owner)

    def _handler_for(self, spec: OperationSpec, owner: str) -> Handler:
        if spec.kind not in self._handlers:
            raise PluginError(owner, f"no handler for kind {spec.kind!r} (operation {spec.name!r})", spec._file)
        return self._handlers[spec.kind]

    def __getitem__(self, name: str) -> Registered:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownOperation(name, self._entries) from None

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)

    def trigger(self, name: str) -> RegisteredTrigger:
        try:
            return self._trigger_specs[name]
        except KeyError:
            raise UnknownTrigger(name, self._trigger_specs) from None

    def triggers(self) -> list[RegisteredTrigger]:
        return list(self._trigger_specs.values())


def check_entry(entry: Registered) -> None:
    """Refuse an entry whose resource or schemas are missing or broken, naming its plugin and file."""
    if entry.owner == CORE_OWNER:
        check_core_entry(entry.spec)
        return
    if entry.spec.resource:
        resource_for(entry.spec)
    for label, ref in (("input", entry.spec.input_schema), ("output", entry.spec.output_schema)):
        try:
            compile_schema(schema_for(entry.spec, ref))
        except ValueError as exc:
            raise PluginError(entry.owner, f"operation {entry.spec.name!r}: {label} schema does not compile: {exc}",
                              ref if isinstance(ref, str) else None) from None


def check_trigger(trigger: RegisteredTrigger) -> None:
    """Refuse a trigger whose resource, poll operation or schemas are missing or broken (as for operations,
    the core's are only checked to exist)."""
    spec, folder = trigger.spec, folder_of(trigger.spec)
    resource_file = f"resources/{spec.resource}.json"  # only looked for: parsing it would slow every start
    if not folder.has_schema_file(resource_file) and not core_folder().has_schema_file(resource_file):
        raise PluginError(trigger.owner, f"trigger {spec.name!r}: unknown resource type {spec.resource!r}", spec._file)
    for label, ref in (("input", spec.input_schema), ("output", spec.output_schema)):
        if trigger.owner == CORE_OWNER:
            if isinstance(ref, str) and not folder.has_schema_file(ref):
                raise PluginError(CORE_OWNER, f"trigger {spec.name!r}: {ref!r} is missing",
                                  str(folder.root / "schemas"))
            continue
        try:
            compile_schema(schema_for(spec, ref))
        except ValueError as exc:
            raise PluginError(trigger.owner, f"trigger {spec.name!r}: {label} schema does not compile: {exc}",
                              ref if isinstance(ref, str) else None) from None


def check_core_entry(spec: OperationSpec) -> None:
    """The core catalogue is immutable package data that the project's tests read and compile in full; here
    its files are only checked to exist (against one listing of its schemas/), since reading and compiling all
    of its schemas would add about 55 ms to every process start."""
    folder = folder_of(spec)
    wanted = [ref for ref in (spec.input_schema, spec.output_schema) if isinstance(ref, str)]
    wanted += [f"resources/{spec.resource}.json"] if spec.resource else []
    for ref in wanted:
        if not folder.has_schema_file(ref):
            raise PluginError(CORE_OWNER, f"operation {spec.name!r}: {ref!r} is missing", str(folder.root / "schemas"))


_SHARED: dict[PluginNames, Registry] = {}
_SHARED_LOCK = threading.Lock()


def shared_registry(names: PluginNames = None) -> Registry:
    """The process-wide registry for one plugin selection, built on first use."""
    with _SHARED_LOCK:
        if names not in _SHARED:
            _SHARED[names] = Registry(get_plugin_manager(names=names))
        return _SHARED[names]

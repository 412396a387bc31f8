"""Collect operations and handlers from every plugin into one lookup table, built once per process.

``shared_registry(names)`` is the process-wide catalogue every ``Connector`` uses: plugin manager, entries,
compiled validators and resource metadata are the same for every end user, so they are built once (lazily)
and shared. A registry for explicit plugin objects (tests, hosts with their own plugins) is built apart.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property, partial
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as installed_entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator

import pluggy
from pluggy import HookImpl

from . import default_plugin, hookspecs
from .catalogue_folders import CORE_OWNER, CatalogueFolder, core_folder, folder_of, resource_for, schema_for
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
        register_object(manager, plugin)
    try:
        manager.check_pending()  # a misspelled hook name fails here, not silently
    except pluggy.PluginValidationError as exc:
        raise PluginError(plugin_label(manager, exc.plugin), one_line(exc)) from None
    return manager


def load_installed(manager: pluggy.PluginManager, names: PluginNames) -> None:
    """Register the installed plugins of the entry-point group ``outreach_connector`` that ``names`` chooses.

    pluggy's own loader registers each under its entry-point name and keeps the distribution it came from
    (``list_plugin_distinfo``); it is asked for one name at a time, so an import error is known to be that
    plugin's."""
    if names == ():
        return  # none chosen: not even the walk over the installed distributions
    installed = {point.name: point for point in installed_entry_points(group=hookspecs.PROJECT)}
    for name in dict.fromkeys(installed if names is None else names):
        if name not in installed:
            raise PluginError(name, "no installed plugin has this entry-point name (installed: "
                              f"{', '.join(sorted(installed)) or 'none'})")
        point = installed[name]
        try:
            manager.load_setuptools_entrypoints(hookspecs.PROJECT, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(entry_point_label(point), one_line(exc)) from None
        except Exception as exc:  # a plugin's import error is its own, named, not ours
            raise PluginError(entry_point_label(point),
                              f"cannot be imported ({point.value}): {type(exc).__name__}: {exc}") from None


def register_object(manager: pluggy.PluginManager, plugin: Any) -> None:
    """Register a plugin the host hands over under a name that says what it is: a module under its own name
    (pluggy's default), any other object under its class's dotted name, numbered when that is taken (pluggy's
    default would be the object's id(), which no reader can place)."""
    name = free_name(manager, dotted_name(plugin))
    try:
        manager.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(name, one_line(exc)) from None
    except ValueError:  # pluggy refuses a plugin object registered twice
        raise PluginError(manager.get_name(plugin) or name, "is given twice: a plugin is registered once") from None


def dotted_name(plugin: Any) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    kind = plugin if isinstance(plugin, type) else type(plugin)
    return f"{kind.__module__}.{kind.__qualname__}"


def free_name(manager: pluggy.PluginManager, name: str) -> str:
    """``name``, or ``name#2``, ``name#3``... for the second and later objects of one class."""
    taken = {registered for registered, _ in manager.list_name_plugin()}
    number = 1
    candidate = name
    while candidate in taken:
        number += 1
        candidate = f"{name}#{number}"
    return candidate


def plugin_label(manager: pluggy.PluginManager, plugin: Any) -> str:
    """A plugin as errors and ``Registered.owner`` name it: its name in pluggy's registry, and for an installed
    one the distribution pluggy loaded it from, e.g. ``stage_names (outreach-stage-names 0.1.0)``."""
    name = manager.get_name(plugin) or dotted_name(plugin)
    for loaded, distribution in manager.list_plugin_distinfo():
        if loaded is plugin:
            return f"{name} ({distribution.project_name} {distribution.version})"
    return name


def entry_point_label(point: EntryPoint) -> str:
    """An installed plugin that could not be registered, named as ``plugin_label`` would have named it."""
    if point.dist is None:
        return point.name
    return f"{point.name} ({point.dist.name} {point.dist.version})"


def one_line(error: Exception) -> str:
    """pluggy's validation messages span lines; the CLI and the server print one."""
    return " ".join(str(error).split())


def calling_order(manager: pluggy.PluginManager, hook: str) -> list[HookImpl]:
    """A hook's implementations in the order pluggy's own call takes them (it walks ``get_hookimpls()`` from the
    end: ``tryfirst`` ones, then the latest registered, then ``trylast`` ones), refusing any wrapper."""
    caller: pluggy.HookCaller = getattr(manager.hook, hook)
    impls = caller.get_hookimpls()
    for impl in impls:
        if impl.wrapper or impl.hookwrapper:
            raise PluginError(plugin_label(manager, impl.plugin), (
                f"{hook} is a hook wrapper (wrapper=True or hookwrapper=True), which the connector does not run: "
                "it calls each plugin's hook on its own, so that an error names the plugin that broke; "
                "declare it a plain @hookimpl"))
    return impls[::-1]


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
        self._handlers: dict[str, tuple[Handler, str]] = {}
        self._trigger_specs: dict[str, RegisteredTrigger] = {}
        self._each_plugin(manager, "register_handlers", self._add_handler)  # first: any entry may use any kind
        self._each_plugin(manager, "register_catalog", self._add_folder)
        self._each_plugin(manager, "register_operations", self._add_operation)
        self._each_plugin(manager, "register_triggers", self._add_trigger)
        rank = registration_rank(manager)
        self._entries = {name: Registered(of_its_kind(spec), self._handler_for(spec, owner), owner)
                         for name, (spec, owner) in sorted(self._specs.items(), key=lambda item: rank[item[1][1]])}
        self._trigger_specs = dict(sorted(self._trigger_specs.items(), key=lambda item: rank[item[1].owner]))
        for entry in self._entries.values():
            check_entry(entry)
        for trigger in self._trigger_specs.values():
            check_trigger(trigger)
            poll = trigger.spec.poll
            if poll is not None and poll.operation not in self._entries:
                raise PluginError(trigger.owner, f"trigger {trigger.spec.name!r} polls with {poll.operation!r}, "
                                                 "which is not registered", trigger.spec._file)

    @staticmethod
    def _each_plugin(manager: pluggy.PluginManager, hook: str, add: Callable[..., None]) -> None:
        """Call one hook plugin by plugin, as pluggy would order them, so whatever a plugin registers (or breaks)
        is known to be its."""
        for impl in calling_order(manager, hook):
            owner = plugin_label(manager, impl.plugin)
            given = {"register": partial(add, owner)}
            try:
                impl.function(*[given[arg] for arg in impl.argnames])  # pluggy passes only what an impl names
            except ConnectorError:
                raise
            except Exception as exc:
                raise PluginError(owner, f"{hook} failed: {type(exc).__name__}: {exc}") from None

    def _add_handler(self, owner: str, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise RegistryError(f"two plugins register a handler for kind {kind!r} "
                                f"({self._handlers[kind][1]} and {owner})")
        if not (callable(getattr(handler, "build", None)) and callable(getattr(handler, "parse", None))):
            raise PluginError(owner, f"the handler for kind {kind!r} needs build() and parse()")
        self._handlers[kind] = (flowing(handler), owner)

    def _add_folder(self, owner: str, folder: Path | str) -> None:
        operations, triggers = CatalogueFolder(Path(folder), owner).load()
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
        return self._handlers[spec.kind][0]

    def __getitem__(self, name: str) -> Registered:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownOperation(name, self._entries) from None

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Registered]:
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


def registration_rank(manager: pluggy.PluginManager) -> dict[str, int]:
    """Each plugin's place in registration order, by its label: entries are listed plugin by plugin in that
    order (the built-in catalogue first), whatever order the hooks ran in."""
    plugins = [plugin for _, plugin in manager.list_name_plugin() if plugin is not None]  # None: a blocked name
    return {plugin_label(manager, plugin): place for place, plugin in enumerate(plugins)}


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

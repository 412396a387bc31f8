"""Read catalogue folders: ``connector.yaml``, ``operations/*.yaml``, ``ddl/*.yaml``, ``triggers/*.yaml`` and
``schemas/``.

The core catalogue sits at the top of the repository and is packaged inside the wheel as
``outreach_connector/catalogue/`` (in a checkout that folder links to the top-level files), so one loader,
``importlib.resources``, finds it in a checkout, an editable install and an installed wheel alike.
A plugin may register a folder laid out the same way: its entries' schema paths resolve inside that folder,
and its resource files (``schemas/resources/<type>.json``) add resource types of its own.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, TypeVar

from .errors import PluginError
from .spec import Manifest, OperationSpec, TriggerSpec, operation_spec

EntrySpec = TypeVar("EntrySpec", OperationSpec, TriggerSpec)  # the two entry models a catalogue folder holds

CORE_OWNER = "outreach_connector.default_plugin"  # the built-in plugin module, registered under its own name


class YAMLUnreadable(ValueError):
    """A YAML file's text does not parse (the message says where)."""


def parse_yaml(text: str | bytes) -> Any:
    """YAML, with libyaml's parser when the wheel has it (the pure-Python one costs a third of a second at
    start-up). PyYAML is imported here, not with the module: a folder with a current index never needs it,
    which keeps its ~8 ms of imports off a host's cold start."""
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise YAMLUnreadable(str(exc)) from None


def read_yaml(path: Path) -> Any:
    return parse_yaml(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ResourceInfo:
    """What the connector needs to know about one Outreach resource type."""

    type: str
    path: str
    attributes: dict[str, dict[str, Any]]
    relationships: dict[str, dict[str, Any]]

    @property
    def read_only(self) -> frozenset[str]:
        return frozenset(n for n, s in {**self.attributes, **self.relationships}.items() if s.get("readOnly"))

    def writable_attributes(self) -> dict[str, dict[str, Any]]:
        return {n: s for n, s in self.attributes.items() if not s.get("readOnly")}

    def writable_relationships(self) -> dict[str, dict[str, Any]]:
        return {n: s for n, s in self.relationships.items() if not s.get("readOnly") and s.get("x-target")}

    def flagged(self, flag: str) -> list[str]:
        return sorted(n for n, s in self.attributes.items() if s.get(flag))


@dataclass(frozen=True)
class CatalogueFolder:
    """One folder of declarative entries, and who registered it (named in every error about it)."""

    root: Path
    owner: str = CORE_OWNER

    def entry_files(self) -> list[Path]:
        return sorted((self.root / "operations").glob("*.yaml")) + sorted((self.root / "ddl").glob("*.yaml"))

    def trigger_files(self) -> list[Path]:
        return sorted((self.root / "triggers").glob("*.yaml"))

    def indexed_files(self) -> list[Path]:
        """Every declarative file the folder's index covers: operations, DDLs and triggers."""
        return self.entry_files() + self.trigger_files()

    def entries(self) -> tuple[OperationSpec, ...]:
        """Every entry in the folder, in file order, each knowing the folder its schema paths resolve in."""
        return self.load()[0]

    def triggers(self) -> tuple[TriggerSpec, ...]:
        """Every trigger entry in the folder (``triggers/*.yaml``), in file order."""
        return self.load()[1]

    def load(self) -> tuple[tuple[OperationSpec, ...], tuple[TriggerSpec, ...]]:
        """The folder's operation entries and trigger entries, from one read of its files (and index)."""
        if not self.root.is_dir():
            raise PluginError(self.owner, "catalogue folder does not exist", str(self.root))
        sources = [(path, self._read(path)) for path in self.indexed_files()]
        indexed = read_index(self.root, sources)
        operations: list[OperationSpec] = []
        triggers: list[TriggerSpec] = []
        for path, text in sources:
            raw = indexed[self.relative(path)] if indexed is not None else self._parse(path, text)
            if path.parent.name == "triggers":
                triggers.extend(self._specs(path, raw, TriggerSpec.model_validate))
            else:
                operations.extend(self._specs(path, raw, operation_spec))
        return tuple(operations), tuple(triggers)

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise PluginError(self.owner, f"unreadable entry file: {exc.strerror or exc}", str(path)) from None

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _parse(self, path: Path, text: bytes) -> Any:
        try:
            return parse_yaml(text) or []
        except YAMLUnreadable as exc:
            raise PluginError(self.owner, f"unreadable YAML: {exc}", str(path)) from None

    def _specs(self, path: Path, raw_entries: Any, validated: Callable[[Any], EntrySpec]) -> list[EntrySpec]:
        if not isinstance(raw_entries, list):
            raise PluginError(self.owner, "an entry file must hold a list of entries", str(path))
        specs = []
        for raw in raw_entries:
            try:
                spec = validated(raw)
            except ValueError as exc:  # name the file and entry: the pydantic message alone does not
                name = raw.get("name", "?") if isinstance(raw, dict) else "?"
                raise PluginError(self.owner, f"entry {name!r}: {exc}", str(path)) from None
            spec._folder, spec._file = self, str(path)
            specs.append(spec)
        return specs

    def has_schema_file(self, relative: str) -> bool:
        return relative in _schema_files(self.root)

    def schema(self, relative: str) -> dict[str, Any]:
        return _read_schema(self, relative)

    def resource(self, type_name: str) -> ResourceInfo | None:
        if not (self.root / "schemas" / "resources" / f"{type_name}.json").is_file():
            return None
        return _read_resource(self, type_name)


# A folder may carry catalogue-index.json: its entry files already parsed (YAML costs about 17 ms for the
# core's entries, JSON under 1 ms), with a digest of the YAML it came from. It is used only while that
# digest matches the files as they are, so an index left stale by an edit is ignored, never believed.
INDEX_FILE = "catalogue-index.json"


def sources_digest(root: Path, sources: list[tuple[Path, bytes]]) -> str:
    digest = hashlib.sha256()
    for path, text in sources:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + text + b"\0")
    return digest.hexdigest()


def read_index(root: Path, sources: list[tuple[Path, bytes]]) -> dict[str, Any] | None:
    """The parsed entry files by relative path, if the folder's index is current; else None."""
    index = root / INDEX_FILE
    if not index.is_file():
        return None
    try:
        document = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    current = isinstance(document, dict) and document.get("digest") == sources_digest(root, sources)
    return document.get("files") if current else None


@cache
def _schema_files(root: Path) -> frozenset[str]:
    """Every file under the folder's schemas/, relative to it: one walk instead of a stat per schema."""
    base = root / "schemas"
    return frozenset((Path(folder) / name).relative_to(base).as_posix()
                     for folder, _, names in os.walk(base, followlinks=True) for name in names)


@cache
def _read_schema(folder: CatalogueFolder, relative: str) -> dict[str, Any]:
    path = (folder.root / "schemas" / relative).resolve()
    if not path.is_relative_to((folder.root / "schemas").resolve()):  # a plugin may not reach outside
        raise PluginError(folder.owner, f"schema path {relative!r} leaves the folder's schemas/", str(folder.root))
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PluginError(folder.owner, f"schema {relative!r} cannot be read: {type(exc).__name__}: {exc}",
                          str(path)) from None
    if not isinstance(schema, dict):  # a list or a string would fail later, far from the file, without its name
        raise PluginError(folder.owner, f"schema {relative!r} is not a JSON object", str(path))
    return schema


@cache
def _read_resource(folder: CatalogueFolder, type_name: str) -> ResourceInfo:
    schema = folder.schema(f"resources/{type_name}.json")
    try:
        props = schema["properties"]
        return ResourceInfo(type=type_name, path=schema["x-outreach"]["path"],
                            attributes=props["attributes"]["properties"],
                            relationships=props["relationships"]["properties"])
    except (KeyError, TypeError) as exc:
        raise PluginError(folder.owner, f"resource file for {type_name!r} lacks {exc}",
                          f"schemas/resources/{type_name}.json") from None


@cache
def core_folder() -> CatalogueFolder:
    """The connector's own catalogue, packaged inside ``outreach_connector``."""
    return CatalogueFolder(Path(str(resources.files("outreach_connector") / "catalogue")))


@cache
def load_manifest() -> Manifest:
    return Manifest.model_validate(read_yaml(core_folder().root / "connector.yaml"))


@cache
def load_entries() -> tuple[OperationSpec, ...]:
    """Every operation entry shipped with the connector, in file order."""
    return core_folder().entries()


def load_schema(relative: str) -> dict[str, Any]:
    """A schema of the core catalogue, by its path under ``schemas/``."""
    return core_folder().schema(relative)


def load_resource(type_name: str) -> ResourceInfo:
    """A resource type of the core catalogue."""
    found = core_folder().resource(type_name)
    if found is None:
        raise KeyError(f"no resource type {type_name!r} in the core catalogue")
    return found


def folder_of(spec: OperationSpec | TriggerSpec) -> CatalogueFolder:
    """Where a spec's schema paths resolve: its own folder, or the core's for entries registered by code."""
    return spec._folder or core_folder()


def schema_for(spec: OperationSpec | TriggerSpec, ref: str | dict[str, Any]) -> dict[str, Any]:
    return ref if isinstance(ref, dict) else folder_of(spec).schema(ref)


def resource_for(spec: OperationSpec) -> ResourceInfo:
    """The spec's resource type: from its own folder if it ships one, else the core catalogue's."""
    assert spec.resource is not None
    found = folder_of(spec).resource(spec.resource) or core_folder().resource(spec.resource)
    if found is None:
        raise PluginError(folder_of(spec).owner, f"operation {spec.name!r}: unknown resource type {spec.resource!r}",
                          spec._file)
    return found

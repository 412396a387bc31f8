"""The resource catalogue: what each Outreach type looks like, read from ``schemas/resources/<type>.json``.

Those files are generated from Outreach's official OpenAPI and hyper-schema (``tools/gen_resources.py``) and
committed with the project. The sandbox reads them as data only, so one set of generic handlers serves every
type. They are looked for, in order, in ``SandboxConfig.schema_dir``, ``$OUTREACH_SANDBOX_SCHEMAS``, the
project checkout this package lives in, and ``./schemas/resources``.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SCHEMA_ENV = "OUTREACH_SANDBOX_SCHEMAS"

# Vendor-schema errors the sandbox corrects. The OpenAPI gives these a maxLength of 4 while its own description
# lists "finish", "continue" and "pause" as the values: the limit cannot be real.
ERRATA: dict[tuple[str, str], dict] = {
    ("sequence", "primaryReplyAction"): {"max_length": None},
    ("sequence", "secondaryReplyAction"): {"max_length": None},
}


class CatalogueMissing(RuntimeError):
    """No directory of resource schemas could be found."""


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a resource type, with the flags Outreach publishes for it."""

    name: str
    types: tuple[str, ...]  # JSON types, "null" excluded; empty when the vendor left it untyped
    nullable: bool
    format: str | None
    max_length: int | None
    item_type: str | None
    read_only: bool
    write_only: bool
    filterable: bool
    sortable: bool
    # Real Outreach data departs from the vendor documents (the reviewed ``x-observed`` decisions): a union adds
    # the observed types and date formats, which Outreach sends and so accepts back; an attribute only real
    # data shows is sent but unknown on write.
    other_formats: tuple[str, ...] = ()
    observed_only: bool = False


@dataclass(frozen=True, slots=True)
class Relationship:
    """One relationship of a resource type."""

    name: str
    targets: tuple[str, ...]  # several when polymorphic; empty when the vendor documents no target
    to_many: bool
    read_only: bool
    filterable: bool
    links_only: bool


@dataclass(frozen=True)
class ResourceType:
    """A resource type: its collection path, allowed verbs, member actions, attributes and relationships."""

    name: str
    path: str
    methods: frozenset[str]
    actions: tuple[str, ...]
    attributes: dict[str, Attribute]
    relationships: dict[str, Relationship]
    # Members Outreach refuses a create without (reviewed in tools/create_requirements.yaml, written into the
    # resource schema as x-outreach.requiredOnCreate / requiredRelationshipsOnCreate).
    required_attributes: tuple[str, ...] = ()
    required_relationships: tuple[str, ...] = ()

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(self.attributes)

    @property
    def collection(self) -> str:
        return self.path.lstrip("/")


class Catalogue:
    """Every resource type the sandbox serves, by type name and by collection."""

    def __init__(self, types: dict[str, ResourceType]):
        self.types = types
        self.by_collection = {t.collection: t for t in types.values()}

    def __getitem__(self, name: str) -> ResourceType:
        return self.types[name]

    def __contains__(self, name: object) -> bool:
        return name in self.types

    def inverse(self, owner: str, relationship: str) -> str | None:
        """The to-one relationship on the target type that points back at ``owner`` (for related links)."""
        rel = self.types[owner].relationships[relationship]
        if not rel.targets or rel.targets[0] not in self.types:
            return None
        candidates = [r.name for r in self.types[rel.targets[0]].relationships.values()
                      if not r.to_many and owner in r.targets]
        if owner in candidates:
            return owner
        return candidates[0] if len(candidates) == 1 else None

    def link_filter(self, owner: str, relationship: str) -> str | None:
        """The filter on the target collection that lists a to-many relationship's records.

        The to-one inverse when there is one (``mailings?filter[prospect][id]=1``); otherwise a to-many
        relationship pointing back that the sandbox can resolve (``prospects?filter[opportunities][id]=1``).
        """
        inverse = self.inverse(owner, relationship)
        target = self.types[owner].relationships[relationship].targets
        if inverse or not target or target[0] not in self.types:
            return inverse
        for rel in self.types[target[0]].relationships.values():
            if rel.to_many and owner in rel.targets and self.inverse(target[0], rel.name):
                return rel.name
        return None


def _kinds(spec: dict) -> list[str]:
    raw = spec.get("type", [])
    return [raw] if isinstance(raw, str) else list(raw)


def _item_type(spec: dict) -> str | None:
    kinds = [k for k in _kinds(spec.get("items") or {}) if k != "null"]
    return kinds[0] if len(kinds) == 1 else None


def _observed(spec: dict) -> dict:
    """What the reviewed observation adds to the vendor's attribute (nothing when the vendor type stands)."""
    note = spec.get("x-observed") or {}
    if note.get("decision") == "observed":
        return {"observed_only": True, "types": tuple(k for k in _kinds(note) if k != "null"), "nullable": True}
    if note.get("decision") != "union":
        return {}
    kinds = [k for k in _kinds(spec) + _kinds(note) if k != "null"]
    return {"types": tuple(dict.fromkeys(kinds)), "item_type": _item_type(spec) or _item_type(note),
            "other_formats": tuple(f for f in note.get("formats", ()) if f != spec.get("format"))}


def _attribute(type_name: str, name: str, spec: dict) -> Attribute:
    raw = _kinds(spec)
    fields = dict(
        name=name, types=tuple(t for t in raw if t != "null"), nullable="null" in raw or not raw,
        format=spec.get("format"), max_length=spec.get("maxLength"), item_type=_item_type(spec),
        read_only=bool(spec.get("readOnly")), write_only=bool(spec.get("writeOnly")),
        filterable=bool(spec.get("x-filterable")), sortable=bool(spec.get("x-sortable")),
    )
    return Attribute(**{**fields, **_observed(spec), **ERRATA.get((type_name, name), {})})


def _relationship(name: str, spec: dict) -> Relationship:
    targets = spec.get("x-targets") or ([spec["x-target"]] if spec.get("x-target") else [])
    return Relationship(
        name=name, targets=tuple(targets), to_many=bool(spec.get("x-to-many")),
        read_only=bool(spec.get("readOnly")), filterable=bool(spec.get("x-filterable")),
        links_only=bool(spec.get("x-links-only")),
    )


def natural(name: str) -> tuple:
    """Sort key that puts custom2 before custom10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def parse_resource(document: dict) -> ResourceType:
    """Turn one generated resource schema into a :class:`ResourceType`."""
    meta = document["x-outreach"]
    props = document["properties"]
    attrs = props["attributes"].get("properties", {})
    rels = props["relationships"].get("properties", {})
    return ResourceType(
        name=meta["type"], path=meta["path"], methods=frozenset(meta["methods"]),
        actions=tuple(meta.get("actions", ())),
        attributes={n: _attribute(meta["type"], n, attrs[n]) for n in sorted(attrs, key=natural)},
        relationships={n: _relationship(n, rels[n]) for n in sorted(rels, key=natural)},
        required_attributes=tuple(meta.get("requiredOnCreate", ())),
        required_relationships=tuple(meta.get("requiredRelationshipsOnCreate", ())),
    )


def candidate_dirs(explicit: Path | None = None) -> list[Path]:
    """Where resource schemas may live, most specific first."""
    dirs = [explicit] if explicit else []
    if os.environ.get(SCHEMA_ENV):
        dirs.append(Path(os.environ[SCHEMA_ENV]))
    # Packaged with the sandbox (in a checkout, data/resources links to the top-level schemas/resources).
    dirs.append(Path(str(resources.files("outreach_sandbox") / "data" / "resources")))
    return dirs


def find_schema_dir(explicit: Path | None = None) -> Path:
    for directory in candidate_dirs(explicit):
        if directory.is_dir() and any(directory.glob("*.json")):
            return directory
    tried = ", ".join(str(d) for d in candidate_dirs(explicit))
    raise CatalogueMissing(f"no Outreach resource schemas found (tried {tried}); set ${SCHEMA_ENV}")


_CACHE: dict[Path, Catalogue] = {}


def load_catalogue(explicit: Path | None = None) -> Catalogue:
    """Load (once per directory: the files are immutable data) every resource schema into a catalogue."""
    directory = find_schema_dir(explicit)
    if directory not in _CACHE:
        types = {}
        for path in sorted(directory.glob("*.json")):
            resource = parse_resource(json.loads(path.read_text(encoding="utf-8")))
            types[resource.name] = resource
        _CACHE[directory] = Catalogue(types)
    return _CACHE[directory]

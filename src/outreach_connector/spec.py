"""Declarative operation entries and the manifest, as strict frozen pydantic models.

A typo in a YAML entry (unknown key, wrong type, unknown kind) fails when the entry is loaded, not when the
operation is first called.
"""
from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

# Kinds are open (a plugin may bring a handler for a new kind); the registry refuses a kind with no handler.
BUILTIN_KINDS = ("list", "get", "create", "update", "delete", "action", "collection_action", "ddl",
                 "execute_link", "raw_http", "compliance_request")

# Kinds whose per-operation schemas are generated from the resource schemas (the rest are written by hand).
GENERATED_KINDS = frozenset({"list", "get", "create", "update", "delete", "action", "collection_action", "ddl"})

# Where an entry comes from: the seed's 95 documented operations, or generated from Outreach's hyper-schema
# (tools/gen_extended.py). The default is "seed" so the seed's entries stay byte-for-byte as specified; every
# generated entry states its origin explicitly.
Origin = Literal["seed", "outreach-schema"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionSpec(Strict):
    """One member action: its ``actionParams`` (name -> JSON Schema) and which of them are required."""

    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    required: tuple[str, ...] = ()
    # Why the action may answer an empty object instead of the record (the vendor's documents disagree);
    # set, the operation's output accepts ``{}`` as well.
    empty_answer: str | None = None


class BulkSpec(Strict):
    """One collection-level bulk action (``POST /batches/actions/<name>``): the ``data.attributes`` its body
    takes and its ``actionParams`` (name -> JSON Schema each), with the required ones."""

    target: str | None = None  # the resource type whose records it changes (filter fields); None: custom objects
    attributes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    required: tuple[str, ...] = ()  # attributes the action needs (what it adds, assigns...), besides ids
    free_attributes: bool = False  # BulkModify: any attribute name -> its new value, besides ``ids``
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    required_params: tuple[str, ...] = ()


class DdlSpec(Strict):
    """How a DDL turns source records ({id, **attributes}) into dropdown options.

    ``text`` is a list of ``str.format`` templates; the first one whose fields are all present and non-empty
    wins, so a record missing an e-mail still gets a readable label.
    """

    text: tuple[str, ...]
    value: str = "id"
    # Outreach's exact filters, used when a collection is too big for the label index (labels.py):
    # each search field is asked on its own; ``email_field`` instead when the text looks like an address;
    # ``full_name`` (first, last) when the text has two words or more.
    search_field: str | tuple[str, ...]
    email_field: str | None = None
    full_name: tuple[str, str] | None = None
    # Parent filters: input key (e.g. ``sequence_id``) -> the to-one relationship filtered by that id.
    parents: dict[str, str] = Field(default_factory=dict)
    sort: str
    limit: int = Field(default=100, ge=1, le=1000)

    @property
    def search_fields(self) -> tuple[str, ...]:
        return (self.search_field,) if isinstance(self.search_field, str) else self.search_field


class OperationSpec(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str
    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    origin: Origin = "seed"
    resource: str | None = None
    path: str | None = None
    id_input: str | None = None
    actions: dict[str, ActionSpec] | None = None
    bulk: BulkSpec | None = None
    ddl: DdlSpec | None = None
    id_relationships: dict[str, str] | None = None  # flat input key -> relationship name
    required_relationships: tuple[str, ...] = ()
    input_schema: str | dict[str, Any]   # a path under schemas/, or the schema itself (plugins)
    output_schema: str | dict[str, Any]
    # The catalogue folder the entry was read from (its schema paths resolve there); None for code plugins.
    _folder: Any = PrivateAttr(default=None)
    _file: str | None = PrivateAttr(default=None)  # the YAML file it was read from, named in load errors

    @model_validator(mode="after")
    def _kind_needs(self) -> "OperationSpec":
        missing = [name for name in kind_needs(self.kind) if any(getattr(self, f) is None for f in name.split("/"))]
        if missing:
            raise ValueError(f"kind {self.kind!r} needs {', '.join(missing)}")
        return self


# Spec types per kind: a handler reads the fields its kind always has without checking for None. An entry is
# loaded as an ``OperationSpec`` (``_kind_needs`` names what a kind misses), then registered as its kind's type.


class ResourceSpec(OperationSpec):
    """An operation on one resource type at one path: list, create, compliance request."""

    resource: str
    path: str


class MemberSpec(ResourceSpec):
    """An operation on one record, named by its id input: get, update, delete."""

    id_input: str


class MemberActionSpec(MemberSpec):
    actions: dict[str, ActionSpec]


class BulkActionSpec(ResourceSpec):
    bulk: BulkSpec


class DropdownSpec(ResourceSpec):
    ddl: DdlSpec


KIND_SPECS: dict[str, type[OperationSpec]] = {
    "list": ResourceSpec, "create": ResourceSpec, "compliance_request": ResourceSpec,
    "get": MemberSpec, "update": MemberSpec, "delete": MemberSpec, "action": MemberActionSpec,
    "collection_action": BulkActionSpec, "ddl": DropdownSpec,
}


@cache
def kind_needs(kind: str) -> tuple[str, ...]:
    """The fields ``kind``'s type requires and ``OperationSpec`` leaves optional, as an error names them:
    "resource/path" last, the others in alphabetical order."""
    model = KIND_SPECS.get(kind, OperationSpec)
    optional = {name for name, field in OperationSpec.model_fields.items() if not field.is_required()}
    required = {name for name, field in model.model_fields.items() if field.is_required()} & optional
    at = ["resource/path"] if {"resource", "path"} <= required else []
    return (*sorted(required - {"resource", "path"}), *at)


def operation_spec(raw: Any) -> OperationSpec:
    """An entry read from a file, validated once as its kind's type. When that fails, ``OperationSpec``'s own
    validation says why in the words a catalogue author knows ("kind 'get' needs id_input")."""
    model = KIND_SPECS.get(str(raw.get("kind")), OperationSpec) if isinstance(raw, dict) else OperationSpec
    try:
        return model.model_validate(raw)
    except ValueError:
        if model is OperationSpec:
            raise
        OperationSpec.model_validate(raw)  # raises with the kind's needs named
        raise


def of_its_kind(spec: OperationSpec) -> OperationSpec:
    """The spec as its kind's type (a kind no table names, such as a plugin's, keeps ``OperationSpec``)."""
    model = KIND_SPECS.get(spec.kind, OperationSpec)
    if isinstance(spec, model):
        return spec
    # No second validation: ``_kind_needs`` has checked that the fields the kind's type requires are set, and
    # validating 261 entries again was a tenth of a cold start's registry build.
    typed = model.model_construct(spec.model_fields_set, **dict(spec))
    typed._folder, typed._file = spec._folder, spec._file
    return typed


class Manifest(Strict):
    name: str
    version: str
    title: str
    description: str
    service: dict[str, str]
    base_url: str
    auth: dict[str, Any]


class PollSpec(Strict):
    """How a trigger can be polled instead of received: its resource's list operation, the timestamp attribute
    whose range finds new events (filterable and sortable there), and the state the record must be in."""

    operation: str
    timestamp: str
    state: str | None = None


class TriggerSpec(Strict):
    """One Outreach webhook event (``<resource>.<action>``) as a trigger: ``triggers/*.yaml``.

    ``filters`` maps an input key (``sequence_id``) to the to-one relationship it filters (``sequence``).
    ``poll`` is None where polling cannot see the event (a deleted record, a step advance).
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str
    resource: str
    action: str = Field(pattern=r"^[a-z]+$")
    filters: dict[str, str] = Field(default_factory=dict)
    poll: PollSpec | None = None
    input_schema: str | dict[str, Any]
    output_schema: str | dict[str, Any]
    _folder: Any = PrivateAttr(default=None)
    _file: str | None = PrivateAttr(default=None)

    @property
    def event(self) -> str:
        """Outreach's ``meta.eventName``: ``prospect.created``."""
        return f"{self.resource}.{self.action}"

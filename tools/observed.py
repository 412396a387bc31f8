"""Compare Outreach's documented attribute types with the types observed in real tenants' data.

The evidence is two connectors' stream schemas, both built from records of real Outreach orgs: the Singer tap
(``singer-io-tap-outreach``) and Airbyte's source (``airbyte-source-outreach``). Their records are flattened
(attributes, ``id``, and relationships as ``<name>`` / ``<name>Id`` keys), so keys naming a vendor relationship
are not attributes. What to do with each disagreement is a reviewed decision in ``observed_overlay.yaml``;
this module only finds the disagreements and what each source says.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
OVERLAY = HERE / "observed_overlay.yaml"
SOURCES = ("singer-io-tap-outreach", "airbyte-source-outreach")


@dataclass
class Observation:
    """What the evidence says about one attribute of one type, merged over every source that shows it."""

    type_name: str
    attribute: str
    types: set[str] = field(default_factory=set)  # JSON types, "null" left out
    formats: set[str] = field(default_factory=set)
    items: dict | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.type_name}.{self.attribute}"


def load_overlay(path: Path = OVERLAY) -> dict:
    return yaml.safe_load(path.read_text())


def non_null(kind: str | list | None) -> set[str]:
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    return {k for k in kinds if k != "null"}


def is_relationship_key(name: str, relationships: set[str]) -> bool:
    stem = name.removesuffix("Ids").removesuffix("Id") if name.endswith(("Id", "Ids")) else name
    return name in relationships or stem in relationships


def observations(reference: Path, streams: dict[str, str], vendor: dict) -> dict[str, Observation]:
    """Every attribute the evidence types, keyed ``type.attribute`` (types the connector does not use skipped)."""
    found: dict[str, Observation] = {}
    for source in SOURCES:
        for path in sorted((reference / source).glob("*.json")):
            type_name = streams.get(path.stem)
            if type_name not in vendor:
                continue
            rels = set(vendor[f"{type_name}Relationships"].get("properties", {})) \
                if f"{type_name}Relationships" in vendor else set()
            attrs = vendor[type_name].get("properties", {})
            for name, schema in json.loads(path.read_text())["properties"].items():
                if name == "id" or (name not in attrs and is_relationship_key(name, rels)):
                    continue
                seen = found.setdefault(f"{type_name}.{name}", Observation(type_name, name))
                seen.types |= non_null(schema.get("type"))
                seen.formats |= {schema["format"]} if schema.get("format") else set()
                seen.items = seen.items or schema.get("items")
                seen.sources.append(f"{source}/{path.name}")
    return found


def disagrees(vendor_attr: dict, seen: Observation) -> bool:
    """True when the evidence shows a value the vendor's type (or date format) would refuse."""
    if not vendor_attr.get("type") or not seen.types:
        return False  # one side says nothing about the type
    allowed = {vendor_attr["type"]} | ({"integer"} if vendor_attr["type"] == "number" else set())
    if seen.types - allowed:
        return True
    return vendor_attr.get("format") == "date" and "date-time" in seen.formats


def disagreements(reference: Path, streams: dict[str, str], vendor: dict) -> dict[str, Observation]:
    """``type.attribute`` -> observation, for attributes the vendor types differently or lacks altogether."""
    out = {}
    for key, seen in observations(reference, streams, vendor).items():
        attrs = vendor[seen.type_name].get("properties", {})
        if seen.attribute not in attrs or disagrees(attrs[seen.attribute], seen):
            out[key] = seen
    return out


def observed_schema(seen: Observation) -> dict:
    """The JSON types (always nullable: both sources declare null everywhere), string formats and array items."""
    schema: dict = {"type": sorted(seen.types | {"null"})} if seen.types else {}
    if seen.formats:
        schema["formats"] = sorted(seen.formats)
    if seen.items and "array" in seen.types:
        schema["items"] = seen.items
    return schema

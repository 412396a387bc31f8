"""Records as JSON:API resource objects, the way Outreach returns them.

Every known attribute is present (null when unset; write-only ones are always null). Relationships follow the
resource schema: to-one as ``{"data": {"type", "id"} | null}``; links-only to-many as
``{"links": {"related": "<collection>?filter[<inverse>][id]=<id>"}}``; other to-many with ``data`` arrays,
derived from the records that point back when the target type is served. Links are absolute, built from the
base URL of the request being answered.
"""
from __future__ import annotations

from dataclasses import dataclass

from .schema import Catalogue, ResourceType
from .store import Record, Store


@dataclass(frozen=True, slots=True)
class RelationshipPlan:
    """How to render one relationship: ``mode`` is one, links, derived or stored."""

    name: str
    mode: str
    target: str = ""  # the three others are set for the modes that use them
    collection: str = ""
    inverse: str = ""


def plural(type_name: str) -> str:
    """Outreach's collection name for a type the sandbox does not serve (batch -> batches)."""
    if type_name.endswith("y"):
        return type_name[:-1] + "ies"
    if type_name.endswith(("s", "x", "ch", "sh")):
        return type_name + "es"
    return type_name + "s"


def _plan(catalogue: Catalogue, rtype: ResourceType, name: str) -> RelationshipPlan:
    rel = rtype.relationships[name]
    target = rel.targets[0] if rel.targets else None
    if not rel.to_many or target is None:
        return RelationshipPlan(name, "one")
    served = target in catalogue
    inverse = catalogue.inverse(rtype.name, name)
    if rel.links_only:
        collection = catalogue[target].collection if served else plural(target)
        link_filter = catalogue.link_filter(rtype.name, name) or rtype.name
        return RelationshipPlan(name, "links", target, collection, link_filter)
    if served and inverse:
        return RelationshipPlan(name, "derived", target, inverse=inverse)
    return RelationshipPlan(name, "stored", target)


class Renderer:
    """Builds resource objects; per-type plans are computed once."""

    def __init__(self, catalogue: Catalogue, store: Store):
        self._catalogue = catalogue
        self._store = store
        self._nulls = {name: dict.fromkeys(t.attribute_names) for name, t in catalogue.types.items()}
        self._hidden = {name: tuple(a.name for a in t.attributes.values() if a.write_only)
                        for name, t in catalogue.types.items()}
        self._plans = {name: tuple(_plan(catalogue, t, rel) for rel in t.relationships)
                       for name, t in catalogue.types.items()}

    def resource(self, type_name: str, record: Record, base: str, fields: frozenset[str] | None = None) -> dict:
        rtype = self._catalogue[type_name]
        return {
            "type": type_name,
            "id": record.id,
            "attributes": self._attributes(type_name, record, fields),
            "relationships": self._relationships(type_name, record, base, fields),
            "links": {"self": f"{base}/{rtype.collection}/{record.id}"},
        }

    def _attributes(self, type_name: str, record: Record, fields: frozenset[str] | None) -> dict:
        attrs = dict(self._nulls[type_name])
        attrs.update(record.attributes)
        for name in self._hidden[type_name]:
            attrs[name] = None
        if fields is not None:
            attrs = {k: v for k, v in attrs.items() if k in fields}
        return attrs

    def _relationships(self, type_name: str, record: Record, base: str, fields: frozenset[str] | None) -> dict:
        out = {}
        for plan in self._plans[type_name]:
            if fields is None or plan.name in fields:
                out[plan.name] = self._relationship(type_name, record, plan, base)
        return out

    def _relationship(self, type_name: str, record: Record, plan: RelationshipPlan, base: str) -> dict:
        if plan.mode == "one":
            ref = record.relationships.get(plan.name)
            return {"data": {"type": ref[0], "id": ref[1]} if ref else None}
        if plan.mode == "links":
            return {"links": {"related": f"{base}/{plan.collection}?filter[{plan.inverse}][id]={record.id}"}}
        if plan.mode == "derived":
            ids = self._store.related_ids(plan.target, plan.inverse, type_name, record.id)
            return {"data": [{"type": plan.target, "id": i} for i in ids]}
        refs = record.relationships.get(plan.name) or []
        return {"data": [{"type": t, "id": i} for t, i in refs]}

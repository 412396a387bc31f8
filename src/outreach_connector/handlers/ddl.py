"""DDL handler: a bounded, searchable list turned into ``{"result": [{"text", "value"}]}`` options."""
from __future__ import annotations

from string import Formatter
from typing import Any

from .. import jsonapi
from ..catalog import resource_for
from ..spec import DdlSpec, OperationSpec
from ..wire import Context, HttpCall, Reply


def template_fields(template: str) -> list[str]:
    """``'{name} <{emails[0]}>'`` -> ``['name', 'emails']``."""
    names = [field for _, field, _, _ in Formatter().parse(template) if field]
    return [name.split("[", 1)[0].split(".", 1)[0] for name in names]


def render(template: str, record: dict[str, Any]) -> str | None:
    """The template filled from the record, or None when a field it needs is missing or empty."""
    if any(record.get(name) in (None, "", []) for name in template_fields(template)):
        return None
    try:
        return template.format_map(record)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def option(mapping: DdlSpec, record: dict[str, Any]) -> dict[str, Any]:
    value = record.get(mapping.value)
    text = next((t for t in (render(tpl, record) for tpl in mapping.text) if t), None)
    return {"text": text or str(value), "value": value if isinstance(value, (int, str)) else str(value)}


def options(mapping: DdlSpec, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Dropdown options from flat source records ({id, **attributes})."""
    return {"result": [option(mapping, r) for r in records if r.get(mapping.value) is not None]}


def needed_fields(spec: OperationSpec) -> list[str]:
    """Attributes the labels use (sample-only names such as a step's ``title`` are not asked for)."""
    known = resource_for(spec).attributes
    return sorted({f for tpl in spec.ddl.text for f in template_fields(tpl)} & set(known))


class DdlHandler:
    def build(self, spec: OperationSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        mapping = spec.ddl
        params = [("page[size]", str(mapping.limit)), ("sort", mapping.sort), ("count", "false")]
        fields = needed_fields(spec)
        if fields:  # ask only for what the labels need: dropdowns load fast on big orgs
            params.append((f"fields[{spec.resource}]", ",".join(fields)))
        if data.get("search"):
            params.append((f"filter[{mapping.search_field}]", data["search"]))
        return HttpCall("GET", spec.path, params=tuple(params))

    def parse(self, spec: OperationSpec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        records = (reply.body or {}).get("data") or []
        return options(spec.ddl, [jsonapi.flatten(r) for r in records])

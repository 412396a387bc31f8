"""Outreach's JSON:API wire format: identifiers, relationship payloads and list query parameters."""
from __future__ import annotations

from typing import Any

from .catalogue_folders import ResourceInfo
from .wire import cursor_of


def record_id(value: int | str) -> int:
    """Outreach ids are integers; inputs may carry them as digit strings."""
    return int(value)


def identifier(type_name: str, value: int | str) -> dict[str, Any]:
    return {"type": type_name, "id": record_id(value)}


def relationship(resource: ResourceInfo, name: str, value: Any) -> dict[str, Any]:
    """One relationship member from the connector's input form (id, [ids], {type, id} or null)."""
    target = resource.relationships[name]["x-target"]
    if value is None:
        return {"data": None}
    if isinstance(value, list):
        return {"data": [identifier(target, v) for v in value]}
    if isinstance(value, dict):
        return {"data": identifier(value["type"], value["id"])}
    return {"data": identifier(target, value)}


def resource_document(resource: ResourceInfo, attributes: dict | None, relationships: dict | None,
                      id_value: int | str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": resource.type}
    if id_value is not None:
        data["id"] = record_id(id_value)
    if attributes:
        data["attributes"] = attributes
    if relationships:
        data["relationships"] = {n: relationship(resource, n, v) for n, v in relationships.items()}
    return {"data": data}


def criteria_text(criteria: Any) -> str:
    if isinstance(criteria, list):
        return ",".join(criteria_text(c) for c in criteria)
    if isinstance(criteria, bool):
        return "true" if criteria else "false"
    return str(criteria)


def filter_params(filters: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``owner.id`` filters a relationship (``filter[owner][id]``); other names are attributes."""
    params = []
    for item in filters:
        key = "][".join(item["field"].split("."))
        params.append((f"filter[{key}]", criteria_text(item["criteria"])))
    return params


def sort_param(sort: dict | list[dict]) -> str:
    keys = sort if isinstance(sort, list) else [sort]
    return ",".join(("-" if k.get("sort_direction") == "desc" else "") + k["sort_by"] for k in keys)


def list_params(type_name: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if "page_size" in data:
        params.append(("page[size]", str(data["page_size"])))
    if data.get("page_after"):
        params.append(("page[after]", cursor_of(data["page_after"])))
    params += filter_params(data.get("filters", []))
    if data.get("sort"):
        params.append(("sort", sort_param(data["sort"])))
    if data.get("fields"):
        params.append((f"fields[{type_name}]", ",".join(data["fields"])))
    if data.get("count") is False:
        params.append(("count", "false"))
    return params


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON:API resource object as one flat record: ``{id, **attributes}``."""
    return {**(record.get("attributes") or {}), "id": record.get("id")}

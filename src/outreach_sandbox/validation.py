"""Checking a create or update document against the resource schema, collecting every problem at once.

Structural problems (not JSON, no ``data`` object) are 400; a ``type`` or ``id`` that contradicts the URL is
409 and a client-chosen id on create is 403, as JSON:API prescribes; everything about the content is one 422
listing each problem with its ``source.pointer``: unknown or read-only members, wrong JSON types, strings
over ``maxLength``, malformed dates, missing required members, and relationships to records that do not exist.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .clock import is_date, normalize_datetime
from .errors import Issue, bad_request, conflict, forbidden, validation_failed
from .schema import Attribute, Catalogue, Relationship, ResourceType
from .store import Ref, Store

_JSON_KINDS = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
               "array": (list,), "object": (dict,)}


@dataclass
class WriteInput:
    """The validated, normalised members of a write."""

    attributes: dict[str, Any]
    relationships: dict[str, Ref | list[Ref] | None]


def humanize(name: str) -> str:
    """``firstName`` -> ``First name``, for Rails-style messages such as "Name can't be blank."."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    return words[:1].upper() + words[1:]


def parse_document(body: bytes) -> dict:
    """The ``data`` object of a request document (400 when there is none)."""
    try:
        document = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise bad_request("The request body must be a JSON:API document with a 'data' object.", pointer="/data")
    data = document["data"]
    for member in ("attributes", "relationships"):
        if not isinstance(data.get(member, {}), dict):
            raise bad_request(f"'{member}' must be an object.", pointer=f"/data/{member}")
    return data


def check_identity(rtype: ResourceType, data: dict, ident: int | None) -> None:
    """``data.type`` must name the collection's type; ``data.id`` must match the URL (and is refused on create)."""
    if "type" not in data:
        raise bad_request("'data.type' is required.", pointer="/data/type")
    if data["type"] != rtype.name:
        raise conflict(f"Type '{data['type']}' does not match this endpoint ('{rtype.name}').", "/data/type")
    if ident is None and "id" in data:
        raise forbidden("Client-generated ids are not supported.", "/data/id")
    if ident is not None and str(data.get("id")) != str(ident):
        raise conflict(f"'data.id' must be {ident}, the id in the URL.", "/data/id")


def _type_problem(attr: Attribute, value: Any) -> str | None:
    if value is None:
        return None if attr.nullable else "can't be null"
    if attr.types and not any(isinstance(value, _JSON_KINDS[k]) and not (isinstance(value, bool) and k in
                                                                       ("integer", "number")) for k in attr.types):
        return f"must be {' or '.join(attr.types)}"
    if isinstance(value, list) and attr.item_type in _JSON_KINDS and \
            not all(isinstance(v, _JSON_KINDS[attr.item_type]) for v in value):
        return f"must be an array of {attr.item_type}s"
    return None


def check_attribute(attr: Attribute, value: Any) -> tuple[Any, str | None]:
    """The normalised value and a problem description (None when fine)."""
    problem = _type_problem(attr, value)
    if problem or not isinstance(value, str):
        return value, problem
    if attr.max_length is not None and len(value) > attr.max_length:
        return value, f"is too long (maximum is {attr.max_length} characters)"
    if attr.format == "date" and "date-time" in attr.other_formats and "T" in value:
        return _date_time(value)  # Outreach sends these dates as date-times, so it takes them back
    if attr.format == "date-time":
        return _date_time(value)
    if attr.format == "date" and not is_date(value):
        return value, "is not a date (YYYY-MM-DD)"
    return value, None


def _date_time(value: str) -> tuple[str, str | None]:
    normalized = normalize_datetime(value)
    return (value, "is not an ISO-8601 date-time") if normalized is None else (normalized, None)


def _attributes(rtype: ResourceType, given: dict, issues: list[Issue]) -> dict:
    out = {}
    for name, value in given.items():
        pointer = f"/data/attributes/{name}"
        attr = rtype.attributes.get(name)
        if attr is None or attr.observed_only:
            issues.append(Issue(pointer, f"Unknown attribute '{name}' for {rtype.name}."))
        elif attr.read_only:
            issues.append(Issue(pointer, f"{humanize(name)} is read-only."))
        else:
            out[name], problem = check_attribute(attr, value)
            if problem:
                issues.append(Issue(pointer, f"{humanize(name)} {problem}."))
    return out


def _identifier(rel: Relationship, item: Any, pointer: str, issues: list[Issue]) -> Ref | None:
    if not isinstance(item, dict) or "type" not in item or "id" not in item:
        issues.append(Issue(pointer, "A resource identifier needs 'type' and 'id'."))
        return None
    if rel.targets and item["type"] not in rel.targets:
        issues.append(Issue(f"{pointer}/type", f"{humanize(rel.name)} must be of type {' or '.join(rel.targets)}."))
        return None
    ident = item["id"]
    if isinstance(ident, bool) or not (isinstance(ident, int) or (isinstance(ident, str) and ident.isdigit())):
        issues.append(Issue(f"{pointer}/id", f"{humanize(rel.name)} id must be an integer."))
        return None
    return item["type"], int(ident)


def _relationship_value(rel: Relationship, value: Any, pointer: str, issues: list[Issue]) -> Any:
    if not isinstance(value, dict) or "data" not in value:
        issues.append(Issue(pointer, f"{humanize(rel.name)} must be an object with 'data'."))
        return None
    data = value["data"]
    if rel.to_many:
        if not isinstance(data, list):
            issues.append(Issue(f"{pointer}/data", f"{humanize(rel.name)} must be an array of identifiers."))
            return None
        return [_identifier(rel, item, f"{pointer}/data/{n}", issues) for n, item in enumerate(data)]
    return None if data is None else _identifier(rel, data, f"{pointer}/data", issues)


def _relationships(catalogue: Catalogue, store: Store, rtype: ResourceType, given: dict, issues: list[Issue]) -> dict:
    out = {}
    for name, value in given.items():
        pointer = f"/data/relationships/{name}"
        rel = rtype.relationships.get(name)
        if rel is None:
            issues.append(Issue(pointer, f"Unknown relationship '{name}' for {rtype.name}."))
            continue
        if rel.read_only:
            issues.append(Issue(pointer, f"{humanize(name)} is read-only."))
            continue
        inverse = catalogue.inverse(rtype.name, name) if rel.to_many else None
        if inverse:  # rendered from the records pointing back, so a write here would be silently lost
            issues.append(Issue(pointer, f"{humanize(name)} follows {rel.targets[0]}.{inverse}: set it there."))
            continue
        out[name] = _relationship_value(rel, value, pointer, issues)
        refs = out[name] if isinstance(out[name], list) else [out[name]]
        for ref in refs:
            if ref and ref[0] in catalogue and store.get(*ref) is None:
                issues.append(Issue(pointer, f"{humanize(name)} refers to {ref[0]} {ref[1]}, which does not exist."))
    return out


def _required(rtype: ResourceType, write: WriteInput, issues: list[Issue]) -> None:
    for name in rtype.required_attributes:
        if write.attributes.get(name) in (None, ""):
            issues.append(Issue(f"/data/attributes/{name}", f"{humanize(name)} can't be blank."))
    for name in rtype.required_relationships:
        if write.relationships.get(name) is None:
            issues.append(Issue(f"/data/relationships/{name}", f"{humanize(name)} can't be blank."))


def validate_write(catalogue: Catalogue, store: Store, rtype: ResourceType, data: dict, creating: bool) -> WriteInput:
    """Every problem of the document's members as one 422; otherwise the normalised members."""
    issues: list[Issue] = []
    write = WriteInput(_attributes(rtype, data.get("attributes", {}), issues),
                       _relationships(catalogue, store, rtype, data.get("relationships", {}), issues))
    if creating:
        _required(rtype, write, issues)
    if issues:
        raise validation_failed(issues)
    return write

"""Compiled JSON Schema validators and readable error lists.

Validation runs on every call and on every 1000-record page, so schemas are compiled once per process with
jsonschema-rs (a compiled validator; pure-Python jsonschema costs tens of milliseconds per large page).
"""
from __future__ import annotations

from typing import Any

from .catalog import load_schema


def schema_of(ref: str | dict[str, Any]) -> dict[str, Any]:
    """A schema given inline, or by its path under the core catalogue's ``schemas/``."""
    return ref if isinstance(ref, dict) else load_schema(ref)


def compile_schema(ref: str | dict[str, Any]) -> Any:
    import jsonschema_rs  # on first compile: listing operations or printing a schema never needs it

    return jsonschema_rs.validator_for(schema_of(ref))


def dotted(path: list[Any]) -> str:
    """``['filters', 0, 'field']`` -> ``filters[0].field``; the root is ``input``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "input"


def missing_members(error: Any, schema: str | dict[str, Any] | None) -> list[str]:
    """A missing object whose own schema requires members (``attributes`` of a create): those members."""
    if schema is None:
        return []
    node: Any = schema_of(schema)
    try:
        for part in list(error.schema_path)[:-1]:
            node = node[part]
        sub = node["properties"][error.kind.property]
    except (KeyError, IndexError, TypeError):  # a path through a reference: say only what is missing
        return []
    return list(sub.get("required", [])) if isinstance(sub, dict) else []


def describe(error: Any, read_only: frozenset[str],
             schema: str | dict[str, Any] | None = None) -> list[dict[str, str]]:
    """One jsonschema-rs error as one or more {path, message}, naming each offending field itself."""
    path = list(error.instance_path)
    kind = type(error.kind).__name__
    if kind == "AdditionalProperties":
        return [{"path": dotted(path + [name]),
                 "message": "read-only in Outreach: it cannot be written" if name in read_only and path
                 else "unknown field"}
                for name in error.kind.unexpected]
    if kind == "OneOfNotValid":  # report the alternative that came closest, not "none matched"
        closest = min(error.kind.context, key=len)
        return [item for sub in closest for item in describe(sub, read_only)]
    if kind == "Required":
        inner = [[error.kind.property, name] for name in missing_members(error, schema)]
        return [{"path": dotted(path + p), "message": "required field is missing"}
                for p in inner or [[error.kind.property]]]
    return [{"path": dotted(path), "message": error.message}]


def errors_for(validator: Any, instance: Any, read_only: frozenset[str] = frozenset(),
               schema: str | dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Every problem with ``instance``, or an empty list when it fits the compiled schema. Given the schema
    (or its path) too, a missing object is reported by the members it requires."""
    if validator.is_valid(instance):
        return []
    found: list[dict[str, str]] = []
    for error in validator.iter_errors(instance):
        for item in describe(error, read_only, schema):
            if item not in found:
                found.append(item)
    return found

"""Reduce the connector's JSON Schemas (draft-07) to what draft-04-era form builders read.

The Connectors API contract allows ``type, properties, required, items, enum, oneOf, additionalProperties,
title, description, default, format, minimum, maximum`` plus the UI extras ``lookup`` and ``advanced``.
Everything else is dropped, after translating what can be kept without changing what a form offers:

* ``const: v`` becomes ``enum: [v]``;
* ``allOf`` is merged into its parent (its conditional ``if``/``then`` parts reduce to nothing);
* ``anyOf`` of bare types becomes a ``type`` list, ``anyOf`` of shapes becomes ``oneOf``, and an ``anyOf`` that
  only constrains which keys are present (``[{"required": [a]}, {"required": [b]}]``) is dropped: the
  connector still enforces it when the call arrives, and names the field.

The result is looser than the source, never stricter: input the connector accepts fits the served schema.
"""
from __future__ import annotations

from typing import Any

VERBATIM = ("title", "description", "default", "format", "minimum", "maximum", "enum", "lookup", "advanced")
TYPE_ONLY_KEYS = frozenset({"type", "title", "description"})


def to_form_schema(schema: Any) -> Any:
    """The draft-04 subset of ``schema``; booleans (``true``/``false`` schemas) pass through."""
    if not isinstance(schema, dict):
        return schema
    reduced: dict[str, Any] = {key: schema[key] for key in VERBATIM if key in schema}
    if "const" in schema and "enum" not in schema:
        reduced["enum"] = [schema["const"]]
    if "type" in schema:
        reduced["type"] = schema["type"]
    _reduce_children(schema, reduced)
    for part in schema.get("allOf", []):
        _merge(reduced, to_form_schema(part))
    if "anyOf" in schema:
        _merge(reduced, _from_any_of([to_form_schema(part) for part in schema["anyOf"]]))
    return reduced


def _reduce_children(schema: dict[str, Any], reduced: dict[str, Any]) -> None:
    if isinstance(schema.get("properties"), dict):
        reduced["properties"] = {name: to_form_schema(sub) for name, sub in schema["properties"].items()}
    if schema.get("required"):  # draft-04 forbids an empty list
        reduced["required"] = list(schema["required"])
    if "items" in schema:
        items = schema["items"]
        reduced["items"] = [to_form_schema(s) for s in items] if isinstance(items, list) else to_form_schema(items)
    if "additionalProperties" in schema:
        reduced["additionalProperties"] = to_form_schema(schema["additionalProperties"])
    if "oneOf" in schema:
        reduced["oneOf"] = [to_form_schema(part) for part in schema["oneOf"]]


def _from_any_of(parts: list[Any]) -> dict[str, Any]:
    shapes = [part for part in parts if isinstance(part, dict) and ("type" in part or "properties" in part)]
    if len(shapes) != len(parts):
        return {}  # some alternative only constrains presence: not expressible, enforced at call time
    if all(set(part) <= TYPE_ONLY_KEYS for part in shapes):
        types: list[str] = []
        for part in shapes:
            for name in part["type"] if isinstance(part["type"], list) else [part["type"]]:
                if name not in types:
                    types.append(name)
        return {"type": types}
    return {"oneOf": shapes}


def _merge(target: dict[str, Any], part: dict[str, Any]) -> None:
    """Fold an ``allOf`` member into its parent; the parent's own keywords win."""
    for key, value in part.items():
        if key == "properties":
            target["properties"] = {**value, **target.get("properties", {})}
        elif key == "required":
            target["required"] = list(dict.fromkeys([*target.get("required", []), *value]))
        else:
            target.setdefault(key, value)

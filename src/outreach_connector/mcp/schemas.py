"""The catalogue's JSON Schemas made affordable for agents, who pay for every byte of a tool list.

Input schemas (guidance for the model; the connector still validates every call with its full schema):

* editor-only keywords go (``$id``, ``$schema``, ``title``, ``lookup``, ``advanced``, ``x-*``): a property's
  name already says what its title said;
* Outreach's custom fields ``custom1`` ... ``customN`` fold into one ``patternProperties`` entry, and the same
  names in an ``enum`` (``fields``, ``filters[].field``, ``sort_by``) into one pattern beside the other names;
* a subschema repeated within one tool (a record id, a sort key, a filter) is written once under ``$defs``
  and referred to with a local ``$ref``: the schema stays self-contained, and a description is never repeated.

Output schemas keep the structure the connector enforces (``data``, ``id``, ``type``, links) and let
``attributes`` be any object: the connector returns an attribute whose type drifted as Outreach sent it, so
a client validating the result against the schema must not refuse what a call returns.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterator

DROPPED = frozenset({"$id", "$schema", "title", "lookup", "advanced", "x-filterable", "x-sortable", "x-observed"})
CUSTOM = re.compile(r"^custom([1-9][0-9]*)$")
CUSTOM_PATTERN = "^custom[1-9][0-9]*$"
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs")
SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf")
SUBSCHEMA_KEYS = ("items", "additionalProperties", "not", "if", "then", "else")
# In outputs, these objects are any object: attributes may drift; the rest is JSON:API plumbing an agent reads
# from the result itself.
LOOSE_OUTPUT_KEYS = frozenset({"attributes", "relationships", "links", "meta"})
MIN_SHARED_BYTES = 60
MIN_FACTORED_ENUM = 20  # a repeat this small costs less written out than as a $ref


def input_schema(schema: dict[str, Any], tool_description: str = "") -> dict[str, Any]:
    compact = trimmed(schema)
    if compact.get("description") == tool_description:
        del compact["description"]
    return shared(shared_descriptions(factored_enums(compact)))


def output_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The loosened output schema, or None when the output is not always a JSON object."""
    if schema.get("type") != "object":
        return None
    compact = trimmed(schema, output=True)
    compact.pop("description", None)
    return shared(compact)


def trimmed(schema: Any, output: bool = False, key: str = "") -> Any:
    """``schema`` without editor keywords, custom fields folded; in outputs, attributes as any object."""
    if isinstance(schema, list):
        return [trimmed(item, output) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if output and key in LOOSE_OUTPUT_KEYS and schema.get("type") == "object":
        return {"type": "object"}
    out: dict[str, Any] = {}
    for name, value in schema.items():
        if name in DROPPED or (output and name == "description") or (name == "required" and not value):
            continue
        if name in SUBSCHEMA_MAPS and isinstance(value, dict):
            out[name] = {child: trimmed(sub, output, child) for child, sub in value.items()}
        elif name in SUBSCHEMA_KEYS or name in SUBSCHEMA_LISTS:
            out[name] = trimmed(value, output, key)
        else:
            out[name] = value
    fold_custom_properties(out)
    fold_custom_enum(out)
    return out


def custom_numbers(names: list[str]) -> list[int]:
    """``["custom10", "custom2"]`` -> ``[2, 10]`` (every name matches ``CUSTOM``)."""
    return sorted(int(name[len("custom"):]) for name in names)


def fold_custom_properties(schema: dict[str, Any]) -> None:
    """``custom1`` ... ``customN`` with one shared schema -> one ``patternProperties`` entry."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    customs = [name for name in properties if CUSTOM.match(name)]
    if len(customs) < 2 or len({canonical(properties[name]) for name in customs}) != 1:
        return
    numbers = custom_numbers(customs)
    folded = dict(properties[customs[0]])
    folded["description"] = f"Custom fields custom{numbers[0]} to custom{numbers[-1]}."
    schema["properties"] = {name: sub for name, sub in properties.items() if name not in customs}
    schema["patternProperties"] = {**schema.get("patternProperties", {}), CUSTOM_PATTERN: folded}


def fold_custom_enum(schema: dict[str, Any]) -> None:
    """An enum of names with ``custom1`` ... ``customN`` -> the other names, or one pattern for the customs."""
    options = schema.get("enum")
    if not isinstance(options, list):
        return
    customs = [o for o in options if isinstance(o, str) and CUSTOM.match(o)]
    if len(customs) < 2:
        return
    numbers = custom_numbers(customs)
    named = {"enum": [o for o in options if o not in customs]}
    pattern = {"type": "string", "pattern": CUSTOM_PATTERN,
               "description": f"custom{numbers[0]} to custom{numbers[-1]}"}
    del schema["enum"]
    schema["anyOf"] = [named, pattern]


def factored_enums(schema: dict[str, Any]) -> dict[str, Any]:
    """Long enums of one tool that share most names (``fields``, ``filters[].field``, ``sort_by``: a resource's
    attribute names) -> the shared names once under ``$defs/names``, each enum keeping only its own extras."""
    enums = [sub["enum"] for _, sub in subschemas(schema) if len(sub.get("enum") or ()) >= MIN_FACTORED_ENUM]
    if len(enums) < 2:
        return schema
    common = set(map(canonical, enums[0])).intersection(*(map(canonical, e) for e in enums[1:]))
    if len(common) < MIN_FACTORED_ENUM:
        return schema
    names = [option for option in enums[0] if canonical(option) in common]
    ref = {"$ref": "#/$defs/names"}

    def factored(sub: dict[str, Any]) -> dict[str, Any]:
        if len(sub.get("enum") or ()) < MIN_FACTORED_ENUM:
            return sub
        rest = [option for option in sub["enum"] if canonical(option) not in common]
        if not rest:
            return {**{k: v for k, v in sub.items() if k != "enum"}, **ref}
        return {**{k: v for k, v in sub.items() if k != "enum"}, "anyOf": [ref, {"enum": rest}]}

    out = mapped(schema, lambda sub: flattened(factored(sub)))
    return {**out, "$defs": {**out.get("$defs", {}), "names": {"enum": names}}}


def shared_descriptions(schema: dict[str, Any]) -> dict[str, Any]:
    """A description on several subschemas (a record id under every relationship) -> written once: what those
    subschemas have in common goes to ``$defs``, each keeps a ``$ref`` to it beside its own keywords (JSON
    Schema 2020-12, MCP's default dialect, applies a ``$ref`` together with its siblings)."""
    texts = [sub["description"] for _, sub in subschemas(schema) if isinstance(sub.get("description"), str)]
    for text in sorted({t for t in texts if texts.count(t) > 1}):
        carriers = [(key, sub) for key, sub in subschemas(schema) if sub.get("description") == text]
        key, first = carriers[0]
        common = {k: v for k, v in first.items()
                  if all(k in sub and canonical(sub[k]) == canonical(v) for _, sub in carriers)}
        keys = {k for k, _ in carriers}
        name = def_name(key if len(keys) == 1 else "shared", schema.get("$defs", {}))
        ref = {"$ref": f"#/$defs/{name}"}

        def pointed(sub: dict[str, Any]) -> dict[str, Any]:
            # mapped() calls this within the iteration: the loop's variables are this iteration's (B023).
            if sub.get("description") != text:  # noqa: B023
                return sub
            return {**ref, **{k: v for k, v in sub.items() if k not in common}}  # noqa: B023

        schema = mapped(schema, pointed)
        schema = {**schema, "$defs": {**schema.get("$defs", {}), name: common}}
    return schema


def flattened(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf`` members that are themselves a bare ``anyOf`` spliced into their parent."""
    members = schema.get("anyOf")
    if not isinstance(members, list) or not any(isinstance(m, dict) and set(m) == {"anyOf"} for m in members):
        return schema
    spliced = [part for m in members for part in (m["anyOf"] if isinstance(m, dict) and set(m) == {"anyOf"} else [m])]
    return {**schema, "anyOf": spliced}


def canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def subschemas(schema: Any, key: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (name it sits under, subschema) below ``schema``, the root excluded."""
    if not isinstance(schema, dict):
        return
    for name in SUBSCHEMA_MAPS:
        for child, sub in (schema.get(name) or {}).items():
            if isinstance(sub, dict):
                yield child, sub
                yield from subschemas(sub, child)
    for name in SUBSCHEMA_KEYS + SUBSCHEMA_LISTS:
        value = schema.get(name)
        for sub in value if isinstance(value, list) else [value]:
            if isinstance(sub, dict):
                yield key, sub
                yield from subschemas(sub, key)


def shared(schema: dict[str, Any]) -> dict[str, Any]:
    """Repeated subschemas written once under ``$defs`` (largest saving first) and referred to by ``$ref``."""
    defs: dict[str, Any] = dict(schema.get("$defs", {}))
    schema = {k: v for k, v in schema.items() if k != "$defs"}
    while True:
        best = most_repeated(schema)
        if best is None:
            break
        text, key = best
        name = def_name(key, defs)
        defs[name] = json.loads(text)
        ref = {"$ref": f"#/$defs/{name}"}
        schema = replaced(schema, text, ref)
        defs = {n: (sub if n == name else replaced(sub, text, ref)) for n, sub in defs.items()}
    if defs:
        schema = {**schema, "$defs": defs}
    return schema


def most_repeated(schema: dict[str, Any]) -> tuple[str, str] | None:
    """(canonical text, the name it first sits under) of the repeat whose sharing saves most bytes."""
    counts: dict[str, list[Any]] = {}
    for key, sub in subschemas(schema):
        text = canonical(sub)
        if len(text) >= MIN_SHARED_BYTES and "$ref" not in sub:
            counts.setdefault(text, [0, key])[0] += 1
    saving = {text: len(text) * (n - 1) for text, (n, _) in counts.items() if n > 1}
    if not saving:
        return None
    text = max(saving, key=lambda t: (saving[t], t))
    return text, counts[text][1]


def mapped(schema: Any, change: Callable[[dict[str, Any]], Any]) -> Any:
    """``schema`` with ``change`` applied to every subschema below the root, innermost first."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for name in SUBSCHEMA_MAPS:
        if isinstance(out.get(name), dict):
            out[name] = {k: change(mapped(v, change)) if isinstance(v, dict) else v for k, v in out[name].items()}
    for name in SUBSCHEMA_KEYS:
        if isinstance(out.get(name), dict):
            out[name] = change(mapped(out[name], change))
    for name in SUBSCHEMA_LISTS:
        if isinstance(out.get(name), list):
            out[name] = [change(mapped(v, change)) if isinstance(v, dict) else v for v in out[name]]
    return out


def replaced(schema: Any, text: str, ref: dict[str, str]) -> Any:
    """``schema`` with every subschema equal to ``text`` replaced by ``ref`` (the root itself is kept)."""
    return mapped(schema, lambda sub: dict(ref) if canonical(sub) == text else sub)


def def_name(key: str, taken: dict[str, Any]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", key) or "shared"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    return name

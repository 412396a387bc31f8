"""Compiled JSON Schema validators and readable error lists.

Validation runs on every call and on every 1000-record page, so schemas are compiled once per process with
jsonschema-rs (a compiled validator; pure-Python jsonschema costs tens of milliseconds per large page).
"""
from __future__ import annotations

import json
from typing import Any

from .catalog import load_schema
from .suggest import did_you_mean


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


def schema_node(schema: dict[str, Any] | None, schema_path: list[Any]) -> Any:
    """The schema object that holds the keyword which failed, or None where the path cannot be followed
    (e.g. through a reference)."""
    node: Any = schema
    for part in schema_path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def missing_members(error: Any, schema: dict[str, Any] | None) -> list[str]:
    """A missing object whose own schema requires members (``attributes`` of a create): those members."""
    node = schema_node(schema, list(error.schema_path))
    try:
        sub = node["properties"][error.kind.property]
    except (KeyError, IndexError, TypeError):  # nothing to say beyond what is missing
        return []
    return list(sub.get("required", [])) if isinstance(sub, dict) else []


# Patterns the catalogue uses, in words: a user should not have to read a regular expression.
PATTERN_WORDS = {
    "^[1-9][0-9]{0,18}$": "a positive whole number",
    "^[^@\\s]+@[^@\\s]+$": "an e-mail address",
    "^[hH][tT][tT][pP][sS]?://": "an http(s) URL",
    "^(?![hH][tT][tT][pP][sS]?://)": "a path below the API base URL, not a full URL",
}


def describe(error: Any, read_only: frozenset[str], schema: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """One jsonschema-rs error as one or more {path, message}, naming each offending field itself."""
    path = list(error.instance_path)
    kind = type(error.kind).__name__
    if kind == "AdditionalProperties":
        known = sibling_properties(schema, list(error.schema_path))
        return [{"path": dotted(path + [name]),
                 "message": "read-only in Outreach: it cannot be written" if name in read_only and path
                 else "unknown field" + did_you_mean(name, known)}
                for name in error.kind.unexpected]
    if kind == "OneOfNotValid":  # report the alternative that came closest, not "none matched"
        closest = min(error.kind.context, key=len)
        return [item for sub in closest for item in describe(sub, read_only, schema)]
    if kind == "Required":
        inner = [[error.kind.property, name] for name in missing_members(error, schema)]
        return [{"path": dotted(path + p), "message": "required field is missing"}
                for p in inner or [[error.kind.property]]]
    return [{"path": dotted(path), "message": in_words(error, kind)}]


def in_words(error: Any, kind: str) -> str:
    """The message for one failed keyword: known patterns in words, long enums as the closest names."""
    if kind == "Pattern" and error.kind.pattern in PATTERN_WORDS:
        return f"{json.dumps(error.instance)} is not {PATTERN_WORDS[error.kind.pattern]}"
    if kind == "Enum" and "other candidates" in error.message:  # a long list: suggest, do not enumerate
        names = [str(option) for option in error.kind.options]
        return (f"{json.dumps(error.instance)} is not one of the {len(names)} known names"
                f"{did_you_mean(str(error.instance), names)}")
    return error.message


def sibling_properties(schema: dict[str, Any] | None, schema_path: list[Any]) -> list[str]:
    """The property names declared beside the ``additionalProperties`` that failed (for suggestions)."""
    node = schema_node(schema, schema_path)
    return list(node.get("properties", {})) if isinstance(node, dict) else []


def errors_for(validator: Any, instance: Any, read_only: frozenset[str] = frozenset(),
               schema: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Every problem with ``instance``, or an empty list when it fits the compiled schema. ``schema``, the one
    it was compiled from, lets messages suggest the closest known names and name the members a missing
    object requires."""
    try:
        if validator.is_valid(instance):
            return []
        found: list[dict[str, str]] = []
        for error in validator.iter_errors(instance):
            for item in describe(error, read_only, schema):
                if item not in found:
                    found.append(item)
        return found
    except UnicodeEncodeError:  # the validator takes text as UTF-8; a lone surrogate (JSON "\ud800") has none
        paths = lone_surrogates(instance)
        if not paths:
            raise
        return [{"path": dotted(path), "message": LONE_SURROGATE} for path in paths]


LONE_SURROGATE = "text with a lone surrogate (a \\uD800-\\uDFFF escape without its pair) is not valid Unicode"


def text_errors(instance: Any) -> list[dict[str, str]]:
    """Strings no request can carry: lone surrogates, which the validator may pass (a plain ``string`` check
    never encodes them) but encoding the request body fails on. One C-speed encode, a walk only on failure."""
    try:
        json.dumps(instance, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return [{"path": dotted(path), "message": LONE_SURROGATE} for path in lone_surrogates(instance)]
    except (TypeError, ValueError, RecursionError):
        pass  # not JSON data: the schema validation says what is wrong with it
    return []


def lone_surrogates(instance: Any) -> list[list[Any]]:
    """Paths of every string (value or key) that cannot be encoded as UTF-8; a walk without recursion."""
    found, pending = [], [([], instance)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str) and not _encodable(value):
            found.append(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if _encodable(key):
                    pending.append(([*path, key], item))
                else:  # the key itself is bad: named with "?" for the surrogate, so the message stays valid text
                    found.append([*path, key.encode("utf-8", "replace").decode()])
        elif isinstance(value, list):
            pending.extend(([*path, n], item) for n, item in enumerate(value))
    return sorted(found, key=str)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

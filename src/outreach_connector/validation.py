"""Compiled JSON Schema validators and readable error lists.

Validation runs on every call and on every 1000-record page, so schemas are compiled once per process with
jsonschema-rs (a compiled validator; pure-Python jsonschema costs tens of milliseconds per large page).
"""
from __future__ import annotations

import json
import math
from typing import Any

from .catalogue_folders import load_schema
from .suggest import did_you_mean

MAX_LISTED = 100  # problems an error lists one by one; the rest are counted in one last entry
MAX_SUGGESTED = 10  # unknown names of one object that get a did-you-mean (each costs ~1 ms against 200 names)


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


def describe(error: Any, read_only: frozenset[str], schema: dict[str, Any] | None = None,
             room: int = MAX_LISTED) -> list[dict[str, str]]:
    """One jsonschema-rs error as one or more {path, message} (at most about ``room`` of them), naming each
    offending field itself. Suggestions cost a comparison with every known name, so only listed names get one."""
    path = list(error.instance_path)
    kind = type(error.kind).__name__
    if kind == "AdditionalProperties":
        known = sibling_properties(schema, list(error.schema_path))
        return [{"path": dotted(path + [name]),
                 "message": "read-only in Outreach: it cannot be written" if name in read_only and path
                 else "unknown field" + (did_you_mean(name, known) if n < MAX_SUGGESTED else "")}
                for n, name in enumerate(error.kind.unexpected[:max(room, 0)])]
    if kind == "OneOfNotValid":  # report the alternative that came closest, not "none matched"
        found: list[dict[str, str]] = []
        for sub in _closest_alternative(error):
            found += describe(sub, read_only, schema, room - len(found))
        return found
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


def problem_count(error: Any) -> int:
    """How many {path, message} entries ``describe`` would make of ``error``, without making them."""
    kind = type(error.kind).__name__
    if kind == "AdditionalProperties":
        return len(error.kind.unexpected)
    if kind == "OneOfNotValid":
        return sum(problem_count(sub) for sub in _closest_alternative(error))
    return 1


def _closest_alternative(error: Any) -> list[Any]:
    return min(error.kind.context, key=len)


def errors_for(validator: Any, instance: Any, read_only: frozenset[str] = frozenset(),
               schema: dict[str, Any] | None = None, limit: int = MAX_LISTED) -> list[dict[str, str]]:
    """Every problem with ``instance`` up to ``limit``, then one entry counting the rest; an empty list when it
    fits the compiled schema. ``schema``, the one it was compiled from, lets messages suggest the closest known
    names and name the members a missing object requires. Linear in the number of problems: a hostile input
    with 60,000 unknown keys costs one pass, not a comparison of each with the others."""
    try:
        if validator.is_valid(instance):
            return []
        listed: dict[tuple[str, str], dict[str, str]] = {}  # insertion-ordered, and a set for duplicates
        unlisted = 0
        for error in validator.iter_errors(instance):
            items = describe(error, read_only, schema, limit - len(listed)) if len(listed) < limit else []
            for item in items:
                listed.setdefault((item["path"], item["message"]), item)
            unlisted += max(problem_count(error) - len(items), 0)
        return capped(list(listed.values()), unlisted, limit)
    except UnicodeEncodeError:  # the validator takes text as UTF-8; a lone surrogate (JSON "\ud800") has none
        paths = lone_surrogates(instance)
        if not paths:
            raise
        return capped([{"path": dotted(path), "message": LONE_SURROGATE} for path in paths], 0, limit)


def input_problems(validator: Any, data: Any, read_only: frozenset[str] = frozenset(),
                   schema: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Everything wrong with an input: the schema first (on invalid input, a hostile one is large, the text
    check's encode pass is not needed), then what no request body can carry."""
    return errors_for(validator, data, read_only, schema) or text_errors(data)


class Problems(list[dict[str, str]]):
    """{path, message} entries as :func:`capped` lists them, knowing how many problems they stand for: a cut
    list's last entry counts the rest in words, ``total`` counts them as a number."""

    def __init__(self, listed: list[dict[str, str]], total: int) -> None:
        super().__init__(listed)
        self.total = total


def capped(found: list[dict[str, str]], unlisted: int, limit: int = MAX_LISTED) -> Problems:
    """``found`` cut to ``limit`` entries, plus one entry counting what was left out."""
    total = len(found) + unlisted
    listed = found[:limit]
    if total > len(listed):
        listed.append({"path": "input", "message": f"{total - len(listed)} more problems not listed "
                                                   f"(the first {limit} are)"})
    return Problems(listed, total)


def problems_in(errors: list[dict[str, str]]) -> int:
    """How many problems a list of errors stands for: a :class:`Problems`' total, or each entry one."""
    return errors.total if isinstance(errors, Problems) else len(errors)


LONE_SURROGATE = "text with a lone surrogate (a \\uD800-\\uDFFF escape without its pair) is not valid Unicode"


NOT_FINITE = "NaN and Infinity are not JSON numbers: a request body can only carry finite numbers"


def text_errors(instance: Any) -> list[dict[str, str]]:
    """Values no request body can carry, which the schema may pass: lone surrogates (a plain ``string`` check
    never encodes them) and NaN or Infinity (strict JSON has no such numbers). One C-speed encode, a walk only
    on failure."""
    try:
        json.dumps(instance, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        found = unsendable(instance)
        return capped(found, 0)
    except (TypeError, RecursionError):
        pass  # not JSON data: the schema validation says what is wrong with it
    return []


def unsendable(instance: Any) -> list[dict[str, str]]:
    """Every string (value or key) that cannot be encoded as UTF-8 and every non-finite number, by path."""
    return [{"path": dotted(path), "message": message} for path, message in _unsendable_paths(instance)]


def lone_surrogates(instance: Any) -> list[list[Any]]:
    """Paths of every string (value or key) that cannot be encoded as UTF-8."""
    return [path for path, message in _unsendable_paths(instance) if message is LONE_SURROGATE]


def _unsendable_paths(instance: Any) -> list[tuple[list[Any], str]]:
    """A walk without recursion, sorted by path."""
    found: list[tuple[list[Any], str]] = []
    pending: list[tuple[list[Any], Any]] = [([], instance)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str) and not _encodable(value):
            found.append((path, LONE_SURROGATE))
        elif isinstance(value, float) and not math.isfinite(value):
            found.append((path, NOT_FINITE))
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or _encodable(key):
                    pending.append(([*path, key], item))
                else:  # the key itself is bad: named with "?" for the surrogate, so the message stays valid text
                    found.append(([*path, key.encode("utf-8", "replace").decode()], LONE_SURROGATE))
        elif isinstance(value, list):
            pending.extend(([*path, n], item) for n, item in enumerate(value))
    return sorted(found, key=lambda entry: str(entry[0]))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

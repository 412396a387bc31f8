"""``describe NAME``: a human summary of one operation (or trigger), built from its entry and input schema.

What it does, the Outreach request it makes, its inputs (required first, with types), the dropdown
lookups that feed them, and an example input: the documented sample when the checkout has one
(``fixtures/samples/NAME.input.json``), else one built from the schema's required fields.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from ..errors import ConnectorError
from ..settings import DEFAULT_BASE_URL
from ..wire import Context

SAMPLES = Path(__file__).resolve().parents[3] / "fixtures" / "samples"
METHOD_BY_KIND = {"list": "GET", "get": "GET", "ddl": "GET", "create": "POST", "update": "PATCH",
                  "delete": "DELETE", "action": "POST", "collection_action": "POST", "compliance_request": "POST"}
CUSTOM_FIELD = re.compile(r"(?P<prefix>(?:.*\.)?custom)(?P<number>[1-9][0-9]*)")
EXAMPLE_STRINGS = {"date-time": "2025-01-15T09:00:00Z", "date": "2025-01-15", "email": "ada@example.com"}
EXAMPLE_BY_PATTERN = {"^[1-9][0-9]{0,18}$": "1", "^[^@\\s]+@[^@\\s]+$": "ada@example.com",
                      "^[hH][tT][tT][pP][sS]?://": "https://api.outreach.io/api/v2/prospects?page[size]=5",
                      "^(?![hH][tT][tT][pP][sS]?://)": "/prospects"}


def summary(entry: Any) -> dict[str, Any]:
    """The machine-readable summary (``describe --json``)."""
    spec, schema = entry.spec, entry.input_schema
    example, source = example_input(entry)
    return {"name": spec.name, "kind": spec.kind, "title": spec.title, "description": spec.description,
            "request": outreach_request(entry, example), "inputs": list(inputs(schema)),
            "lookups": [{"field": path, **prop["lookup"]} for path, prop in walk(schema) if "lookup" in prop],
            "example_input": example, "example_source": source}


def outreach_request(entry: Any, example: Any) -> dict[str, Any]:
    """Method and path; the handler builds the request from the example, so this is what a call sends."""
    spec = entry.spec
    try:
        call = entry.handler.build(spec, example, Context(DEFAULT_BASE_URL))
        method, example_path = call.method, call.url.split("?")[0]
    except (ConnectorError, KeyError, TypeError, ValueError):  # a custom kind the example does not fit
        method, example_path = METHOD_BY_KIND.get(spec.kind), None
    return {"method": method, "path": spec.path, "example_path": example_path}


def walk(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path, property schema) for every property, nested objects included."""
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, prop
        if isinstance(prop, dict) and prop.get("properties"):
            yield from walk(prop, path + ".")


def inputs(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        yield field_summary(name, prop, name in required)
        nested_required = set(prop.get("required", ()))
        for child, child_prop in prop.get("properties", {}).items():
            yield field_summary(f"{name}.{child}", child_prop, child in nested_required)


def field_summary(path: str, prop: dict[str, Any], required: bool) -> dict[str, Any]:
    return {"field": path, "type": type_words(prop), "required": required,
            "description": prop.get("description") or prop.get("title") or ""}


def type_words(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        options = [json.dumps(o) for o in prop["enum"]]
        return "one of " + (", ".join(options) if len(options) <= 6 else f"{len(options)} names")
    if "oneOf" in prop or "anyOf" in prop:
        return " or ".join(dict.fromkeys(type_words(p) for p in prop.get("oneOf") or prop["anyOf"]))
    kinds = prop.get("type", "any")
    kinds = [k for k in (kinds if isinstance(kinds, list) else [kinds]) if k != "null"]
    words = " or ".join(kinds) or "null"
    if "array" in kinds and isinstance(prop.get("items"), dict):
        words = words.replace("array", f"array of ({type_words(prop['items'])})")
    return words + (f" ({prop['format']})" if "format" in prop else "")


def example_input(entry: Any) -> tuple[Any, str]:
    sample = SAMPLES / f"{entry.spec.name}.input.json"
    if sample.is_file():
        return json.loads(sample.read_text(encoding="utf-8")), f"documented sample (fixtures/samples/{sample.name})"
    return example_for(entry.input_schema), "built from the input schema (required fields only)"


def example_for(prop: dict[str, Any]) -> Any:
    """The smallest value that fits ``prop``: defaults, first choices, required members only."""
    if "default" in prop:
        return prop["default"]
    if prop.get("enum"):
        return prop["enum"][0]
    alternatives = prop.get("oneOf") or prop.get("anyOf") or [{}]
    if "properties" not in prop and "type" not in prop and alternatives != [{}]:
        return example_for(alternatives[0])
    kinds = prop.get("type", "object")
    kind = next((k for k in (kinds if isinstance(kinds, list) else [kinds]) if k != "null"), "null")
    if kind == "object":  # an anyOf of "required" lists (update: attributes or relationships) takes the first
        first = alternatives[0]
        wanted = [*prop.get("required", ()), *first.get("required", ())]
        return {name: example_for(with_required(prop["properties"][name], first.get("properties", {}).get(name)))
                for name in dict.fromkeys(wanted) if name in prop.get("properties", {})}
    if kind == "string":
        return EXAMPLE_BY_PATTERN.get(prop.get("pattern", ""), EXAMPLE_STRINGS.get(prop.get("format", ""), "text"))
    if kind == "array":
        return [example_for(prop.get("items") or {})] * prop.get("minItems", 0)
    return {"integer": 1, "number": 1, "boolean": True, "null": None}.get(kind)


def with_required(prop: dict[str, Any], alternative: dict[str, Any] | None) -> dict[str, Any]:
    """A member's schema plus what the chosen anyOf alternative requires of it (a bulk action's ``ids``)."""
    extra = (alternative or {}).get("required", ())
    return {**prop, "required": [*prop.get("required", ()), *extra]} if extra else prop


def request_example(request: dict[str, Any]) -> str:
    return f"{request['example_path']} (for the example input)" if request["example_path"] else "(built by its handler)"


def input_line(item: dict[str, Any], width: int = 22) -> str:
    description = f"  {item['description']}" if item["description"] else ""
    return f"  {item['field']:<{width}} {item['type']}{description}"


def numbered_fields_folded(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """custom1 ... custom150 of one type as one line: the names are the numbers, the list would be 150 lines."""
    folded: list[dict[str, Any]] = []
    for item in items:
        numbered = CUSTOM_FIELD.fullmatch(item["field"])
        last = folded[-1] if folded else None
        if numbered and last and last.get("numbered") == (numbered["prefix"], item["type"]):
            last["numbers"].append(int(numbered["number"]))
        else:
            folded.append({**item, "numbered": (numbered["prefix"], item["type"]) if numbered else None,
                           "numbers": [int(numbered["number"])] if numbered else []})
    for item in folded:
        if len(item["numbers"]) > 1:
            item["field"] = f"{item['numbered'][0]}{min(item['numbers'])}..custom{max(item['numbers'])}"
            item["description"] = f"{len(item['numbers'])} custom fields"
    return folded


def column_width(items: list[dict[str, Any]]) -> int:
    """The names column: as wide as the longest name (22 at least, 40 at most)."""
    return min(max([22, *(len(item["field"]) for item in items)]), 40)


SANDBOX_SKIPPED = ("(not tried against a sandbox: the 'sandbox' extra is not installed; "
                   "pip install 'outreach-connector[sandbox]' to run the line above)")


def sandbox_note(name: str, example: Any) -> str | None:
    """How a fresh in-process sandbox refuses the example (None: it answers it), so "Try it" never misleads:
    the schemas leave optional what Outreach requires on create, and a sample's IDs may not exist there.
    Without the sandbox extra (a base install) the check is skipped, and the note says so."""
    from . import missing_extra, sandbox_connector

    try:
        connector, _ = sandbox_connector()
    except ModuleNotFoundError as exc:
        if missing_extra(exc) is None:
            raise
        return SANDBOX_SKIPPED
    with connector:
        try:
            connector.call(name, example)
        except ConnectorError as error:
            return f"(a fresh sandbox refuses this example as it stands: {type(error).__name__}: {error.message})"
    return None


def render(described: dict[str, Any], note: str | None = None) -> str:
    """The human view; ``note`` says how the sandbox refused the example, or that it was not tried."""
    request = described["request"]
    lines = [f"{described['name']}: {described['title']} ({described['kind']})", f"  {described['description']}",
             "", f"Outreach request: {request['method'] or '?'} {request['path'] or request_example(request)}"]
    for label, wanted in (("Required inputs", True), ("Optional inputs", False)):
        chosen = numbered_fields_folded([i for i in described["inputs"] if i["required"] is wanted])
        if chosen:
            lines += ["", f"{label}:"] + [input_line(i, column_width(chosen)) for i in chosen]
    if described["lookups"]:
        width = column_width(described["lookups"])
        lines += ["", "Lookups (dropdowns that feed a field):"]
        lines += [f"  {lookup['field']:<{width}} <- {lookup['operation']}" for lookup in described["lookups"]]
    example = json.dumps(described["example_input"])
    lines += ["", f"Example input, {described['example_source']}:", f"  {example}", "",
              f"Try it: outreach-connector call {described['name']} '{example}' --sandbox"]
    if note:
        lines += [f"  {note}"]
    return "\n".join(lines)


def trigger_summary(trigger: Any) -> dict[str, Any]:
    """A trigger's machine-readable summary (``describe --json`` of a trigger)."""
    spec = trigger.spec
    return {"name": spec.name, "kind": "trigger", "title": spec.title, "description": spec.description,
            "resource": spec.resource, "action": spec.action, "event": spec.event,
            "inputs": list(inputs(trigger.input_schema)),
            "poll": spec.poll.model_dump() if spec.poll else None}


def render_trigger(described: dict[str, Any]) -> str:
    lines = [f"{described['name']}: {described['title']} (trigger)", f"  {described['description']}", "",
             f"Outreach event: {described['event']} (resource {described['resource']}, action {described['action']})"]
    if described["inputs"]:
        width = column_width(described["inputs"])
        lines += ["", "Optional filters:"] + [input_line(i, width) for i in described["inputs"]]
    poll = described["poll"]
    if poll is None:
        lines += ["", "Poll: not possible (webhook only)"]
    else:
        state = f" (state {poll['state']})" if poll.get("state") else ""
        lines += ["", f"Poll: {poll['operation']}, by {poll['timestamp']}{state}"]
    return "\n".join(lines)

"""One MCP tool per operation: name, title, description, compact schemas and annotations by kind; presets.

Pure data, no SDK import: the tool list can be built, measured and tested without the ``mcp`` extra. The
tools are plain dicts in MCP's wire form (``inputSchema``, ``outputSchema``, ``annotations``), built once per
process and served as they are.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import InputInvalid
from ..registry import Registry, shared_registry
from ..settings import plugins_from_env
from ..suggest import did_you_mean
from . import schemas

# MCP's defaults assume the worst (not read-only, destructive, not idempotent, open world), so every tool
# states all four. Keys: readOnlyHint, destructiveHint, idempotentHint; openWorldHint is True everywhere
# (every tool reaches Outreach, a system outside this process).
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint")
KIND_HINTS: dict[str, tuple[bool, bool, bool]] = {
    "list": (True, False, True),
    "get": (True, False, True),
    "ddl": (True, False, True),
    "execute_link": (True, False, True),          # GET only, and only on the Outreach API's origin
    "create": (False, False, False),
    "update": (False, False, True),               # the same attributes written twice leave one result
    "delete": (False, True, True),
    "action": (False, False, False),              # pause, finish, snooze, send...: each changes state again
    "collection_action": (False, False, False),   # destroying ones are set apart below
    "compliance_request": (False, True, False),   # asks Outreach to delete a person's data; each makes a request
    "raw_http": (False, True, False),             # any method, DELETE included
}
# A plugin's own kind: nothing is known about it, so assume what MCP assumes.
UNKNOWN_KIND_HINTS = (False, True, False)
DESTROYING_WORDS = ("destroy", "delete")  # in a bulk action's Outreach path: DestroyAll, BulkDelete

# Lists answer one page: no auto-pagination over MCP (an agent's context is the bound), and a smaller page.
PAGINATION_ONLY = ("paginate", "max_records")
MCP_DEFAULT_PAGE_SIZE = 20
MCP_MAX_PAGE_SIZE = 100
NEXT_PAGE_AFTER = {"type": ["string", "null"],
                   "description": "Pass as page_after to get the next page; null on the last page."}

PRESETS = ("all", "seed", "read")
DEFAULT_PRESET = "seed"
PRESET_HELP = ("all: every operation (261 in the core catalogue); seed: the 95 documented operations; read: the "
               "read-only ones (list, get, dropdowns, execute_link); or comma-separated tool names")


@dataclass(frozen=True)
class ToolSet:
    """The tools one server offers, in catalogue order, and the wire form of its ``tools/list``."""

    tools: tuple[dict[str, Any], ...]
    kinds: dict[str, str]

    def __contains__(self, name: object) -> bool:
        return name in self.kinds

    @property
    def names(self) -> list[str]:
        return [tool["name"] for tool in self.tools]

    def listing(self) -> dict[str, Any]:
        return {"tools": list(self.tools)}

    def listing_bytes(self) -> int:
        return len(json.dumps(self.listing(), separators=(",", ":")).encode())


def tool_annotations(spec: Any) -> dict[str, Any]:
    read_only, destructive, idempotent = KIND_HINTS.get(spec.kind, UNKNOWN_KIND_HINTS)
    if spec.kind == "collection_action" and any(w in (spec.path or "").lower() for w in DESTROYING_WORDS):
        destructive = True
    return {"title": spec.title, "readOnlyHint": read_only, "destructiveHint": destructive,
            "idempotentHint": idempotent, "openWorldHint": True}


def tool_of(entry: Any) -> dict[str, Any]:
    spec = entry.spec
    tool = {"name": spec.name, "title": spec.title, "description": spec.description,
            "inputSchema": tool_input_schema(spec.kind, entry.input_schema, spec.description),
            "annotations": tool_annotations(spec)}
    output = schemas.output_schema(entry.output_schema)
    if output is not None:
        if spec.kind == "list":
            output["properties"] = {**output.get("properties", {}), "next_page_after": NEXT_PAGE_AFTER}
        tool["outputSchema"] = output
    return tool


def tool_input_schema(kind: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    compact = schemas.input_schema(schema, description)
    properties = compact.get("properties", {})
    if kind == "list" and "page_size" in properties:
        properties = {k: v for k, v in properties.items() if k not in PAGINATION_ONLY}
        properties["page_size"] = {**properties["page_size"], "default": MCP_DEFAULT_PAGE_SIZE,
                                   "maximum": MCP_MAX_PAGE_SIZE}
        compact["properties"] = properties
    return compact


def chosen(registry: Registry, choice: str) -> list[Any]:
    """The entries a ``--tools`` value names: a preset, or comma-separated operation names."""
    entries = list(registry)
    if choice == "all":
        return entries
    if choice == "seed":
        return [e for e in entries if e.origin == "seed"]
    if choice == "read":
        return [e for e in entries if KIND_HINTS.get(e.spec.kind, UNKNOWN_KIND_HINTS)[0]]
    names = [name.strip() for name in choice.split(",") if name.strip()]
    known = [e.spec.name for e in entries]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        first = unknown[0] if unknown else ""
        raise InputInvalid("the MCP tool choice", [{"path": "tools", "message": (
            f"unknown tool {first!r}{did_you_mean(first, known + list(PRESETS))}" if unknown
            else "name a preset (all, seed, read) or operations")}])
    wanted = set(names)
    return [e for e in entries if e.spec.name in wanted]


@lru_cache(maxsize=8)
def tool_set_for(plugin_names: tuple[str, ...] | None, choice: str) -> ToolSet:
    """The tool set for one plugin selection and ``--tools`` value, built once per process."""
    entries = chosen(shared_registry(plugin_names), choice)
    return ToolSet(tuple(tool_of(e) for e in entries), {e.spec.name: e.spec.kind for e in entries})


def tool_set(choice: str = DEFAULT_PRESET) -> ToolSet:
    """The tool set for ``choice``, with the process's plugin choice (``OUTREACH_CONNECTOR_PLUGINS``)."""
    return tool_set_for(plugins_from_env(), choice)

"""One ``tools/call``: the arguments checked as MCP offers them, the operation run, the answer as MCP's result.

A result is ``{"content": [text], "structuredContent": output, "isError": false}``; a failure is
``isError: true`` with the connector's error as JSON text: its class, message and, for invalid input, every
field path. Messages come from the connector's errors, which never carry a token or secret; anything else
that goes wrong is reported as "internal error" and logged by type only.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from ..errors import ConnectorError, InputInvalid
from ..jsonapi import cursor_of
from ..suggest import did_you_mean
from .tools import MCP_DEFAULT_PAGE_SIZE, MCP_MAX_PAGE_SIZE, PAGINATION_ONLY, ToolSet

logger = logging.getLogger("outreach_connector.mcp")
# The largest result text an agent is handed (about 100k tokens); beyond it the call fails and says how to
# ask for less. A list page is also capped by MCP_MAX_PAGE_SIZE records.
MAX_RESULT_CHARS = 400_000


def text_of(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def failure(error: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text_of(error)}], "isError": True}


def refused(message: str, error: str = "ToolCallRefused") -> dict[str, Any]:
    """A call refused before anything was sent (no authentication, unknown tool...)."""
    return failure({"error": error, "message": message})


def success(output: Any, max_chars: int = MAX_RESULT_CHARS) -> dict[str, Any]:
    text = text_of(output)
    if len(text) > max_chars:
        return refused(f"the result is {len(text):,} characters, over the {max_chars:,} an agent is handed: ask "
                       "for less (a smaller page_size, fields, or filters)", "ResultTooLarge")
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": False}
    if isinstance(output, dict):
        result["structuredContent"] = output
    return result


def checked_input(name: str, kind: str, arguments: Any) -> dict[str, Any]:
    """The operation's input as MCP offers it: one page per call, at most ``MCP_MAX_PAGE_SIZE`` records."""
    data = {} if arguments is None else arguments
    if not isinstance(data, dict) or kind != "list":
        return data
    errors = [{"path": key, "message": "not offered over MCP: a call returns one page; pass its next_page_after "
                                      "as page_after for the next"} for key in PAGINATION_ONLY if key in data]
    size = data.get("page_size")
    if isinstance(size, int) and not isinstance(size, bool) and size > MCP_MAX_PAGE_SIZE:
        errors.append({"path": "page_size", "message": f"{size} is more than the {MCP_MAX_PAGE_SIZE} records a "
                                                       "call returns over MCP"})
    if errors:
        raise InputInvalid(name, errors)
    return data if "page_size" in data else {**data, "page_size": MCP_DEFAULT_PAGE_SIZE}


def with_next_page(output: Any) -> Any:
    """A list page with ``next_page_after``: the cursor to pass as ``page_after`` (None on the last page)."""
    if not isinstance(output, dict):
        return output
    link = (output.get("links") or {}).get("next") if isinstance(output.get("links"), dict) else None
    return {**output, "next_page_after": cursor_of(link) if isinstance(link, str) and link else None}


async def call_tool(connector: Any, tools: ToolSet, name: str, arguments: Any,
                    max_chars: int = MAX_RESULT_CHARS) -> dict[str, Any]:
    """The ``CallToolResult`` (wire form) of one call on ``connector``."""
    kind = tools.kinds.get(name)
    if kind is None:
        return refused(f"unknown tool {name!r}{did_you_mean(name, tools.names)}", "UnknownOperation")
    started = time.perf_counter()
    try:
        output = await connector.acall(name, checked_input(name, kind, arguments))
    except ConnectorError as error:
        logger.info("tool %s -> %s in %.1f ms", name, type(error).__name__, (time.perf_counter() - started) * 1e3)
        return failure(error.to_dict())
    except Exception as error:  # noqa: BLE001 - a tool call never takes the server down, nor leaks details
        logger.error("tool %s failed: %s", name, type(error).__name__)
        return refused("internal error", "InternalError")
    logger.info("tool %s -> success in %.1f ms", name, (time.perf_counter() - started) * 1e3)
    return success(with_next_page(output) if kind == "list" else output, max_chars)

"""Wire value types shared by the handlers and the transport: a planned HTTP request and the reply it got.

They live below both layers so the transport never imports the handlers (and the other way round).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generator
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Context:
    """What handlers may know about the connection: the configured API base URL (no credentials)."""

    base_url: str


@dataclass(frozen=True)
class HttpCall:
    """One planned request. ``url`` is relative to the base URL unless ``absolute`` is set."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    content: bytes | None = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    absolute: bool = False
    creates: bool = False       # a POST that creates: never retried after an ambiguous failure
    any_status: bool = False    # the raw HTTP operation returns error statuses instead of raising
    shrinkable: bool = False    # a page the paginator will re-ask smaller: do not retry 502/504 here


@dataclass(frozen=True)
class Reply:
    """Outreach's answer: status, headers (lower-case names) and the decoded body (JSON, text or None)."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    url: str = ""


# One call (or one step of it) as a sans-I/O flow, after httpx's ``Auth.auth_flow``: a generator that yields
# each planned request, receives its reply (or has the error that ended it thrown in) and returns the output.
Flow = Generator[HttpCall, Reply, Any]


def cursor_of(page_after: str) -> str:
    """Outreach's cursor, from the bare cursor or the whole ``links.next`` URL it came in."""
    if "page[after]=" in page_after or "page%5Bafter%5D=" in page_after:
        values = parse_qs(urlsplit(page_after).query).get("page[after]")
        if values:
            return values[0]
    return page_after

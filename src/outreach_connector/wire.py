"""Value types shared by several layers, kept below all of them so no layer imports another for a type:

* the wire: a planned HTTP request (``HttpCall``) and the reply it got (``Reply``), for the handlers and the
  transport, which never import each other;
* OAuth tokens (``TokenSet``) and where processes share them (``TokenStore``, ``TokenLease``), for the refresh
  flow and the server's stores;
* how hard a call tries (``RetryPolicy``) and how long one request may take (``DEFAULT_TIMEOUT``,
  ``parse_timeout``), for the settings and the sender;
* opaque cursors (``pack_cursor``, ``unpack_cursor``), for the label index, trigger bookmarks and the server's
  authentication list (each caller checks what it unpacks).
"""
from __future__ import annotations

import base64
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any, Generator, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx


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


# --- OAuth tokens ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenSet:
    """The tokens of one authorisation; ``expires_at`` is a Unix time, ``None`` when unknown."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float | None = None
    scope: str | None = None


class TokenLease(Protocol):
    """A lock on one authentication's stored tokens, held across processes until saved or released."""

    tokens: TokenSet | None  # what the store holds now; None when the authentication is gone

    def save(self, tokens: TokenSet) -> None:
        """Write ``tokens`` and release the lock (one transaction)."""

    def release(self) -> None:
        """Release the lock without writing."""


class TokenStore(Protocol):
    """Where several processes share an authentication's tokens (the server's database)."""

    def lock(self, max_wait: float) -> TokenLease:
        """Block until this process alone may refresh, at most ``max_wait`` seconds; raises when the lock
        cannot be had in time."""


# --- retries and timeouts ----------------------------------------------------------------------------------

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries: attempts, the total wait it may spend, and the backoff curve."""

    max_attempts: int = 5
    max_total_wait: float = 60.0   # seconds of waiting one call may spend before giving up
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.25           # each backoff is scaled by a random factor in [1 - jitter, 1 + jitter]

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return delay * (1 + random.uniform(-self.jitter, self.jitter))


def parse_timeout(text: str) -> httpx.Timeout:
    """``OUTREACH_TIMEOUT`` / ``--timeout``: seconds for all four phases (``"30"``), or per phase
    (``"connect=5,read=60,write=60,pool=5"``; phases not named keep the defaults of ``DEFAULT_TIMEOUT``)."""
    phases = {"connect": DEFAULT_TIMEOUT.connect, "read": DEFAULT_TIMEOUT.read, "write": DEFAULT_TIMEOUT.write,
              "pool": DEFAULT_TIMEOUT.pool}
    text = text.strip()
    try:
        if "=" not in text:
            return httpx.Timeout(positive(float(text)))
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            if name.strip() not in phases:
                raise ValueError(f"unknown timeout phase {name.strip()!r}")
            phases[name.strip()] = positive(float(value))
    except ValueError as exc:
        raise ValueError(f"invalid timeout {text!r}: {exc}; give seconds (30) or "
                         "connect=5,read=60,write=60,pool=5") from None
    return httpx.Timeout(**phases)


def positive(seconds: float) -> float:
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError("seconds must be a positive number")
    return seconds


# --- opaque cursors ----------------------------------------------------------------------------------------

def pack_cursor(value: Any, separators: tuple[str, str] | None = None) -> str:
    """``value`` as cursor text: JSON in URL-safe base64 without padding; ``separators`` as ``json.dumps``
    takes them (None: its defaults)."""
    return base64.urlsafe_b64encode(json.dumps(value, separators=separators).encode()).decode().rstrip("=")


def unpack_cursor(text: str) -> Any:
    """What :func:`pack_cursor` packed; raises ValueError for text that is not base64 of JSON (or nests too deep
    for Python's parser: a client writes cursors, and a RecursionError would otherwise escape as a 500)."""
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except RecursionError:
        raise ValueError("the cursor nests too deep") from None


# --- flows ------------------------------------------------------------------------------------------------

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

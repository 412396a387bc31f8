"""Per-session label indexes: dropdown search that is case-insensitive and matches anywhere in the text.

Outreach's filters are exact, so "rrow rob" can only find "Arrow Robotics 16" by looking at the labels
themselves. The first search on a collection reads its labels (sparse-field pages of 1,000: only the
attributes the label uses) and keeps them here for ``ttl`` seconds. The cache lives on one ``Connector``,
so on one credential: a user never sees labels read with another user's token. It is bounded three ways:
by time (``ttl``), by collection (a collection larger than ``bound`` records is not indexed at all: its
search goes to Outreach's own exact filters, see handlers/ddl.py) and by count (``max_indexes``, least
recently used first out).

Cursors handed to the editor as ``next_page_after`` are opaque: a version tag and URL-safe base64 JSON.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from .wire import pack_cursor, unpack_cursor

DEFAULT_TTL = 300.0          # seconds: long enough for an editing session, short enough to see new records
DEFAULT_BOUND = 10_000       # records: 10 sparse pages to build; bigger collections use exact filters
DEFAULT_MAX_INDEXES = 64     # per session: every DDL and a few parent-filtered collections each
CURSOR_TAG = "ddl1."


@dataclass(frozen=True)
class LabelIndex:
    """The options of one collection in the DDL's order, or ``complete=False`` when it is too big to hold."""

    options: tuple[dict[str, Any], ...] = ()
    folded: tuple[str, ...] = ()
    complete: bool = True
    built_at: float = 0.0

    @classmethod
    def of(cls, options: list[dict[str, Any]], built_at: float) -> "LabelIndex":
        return cls(tuple(options), tuple(fold(o["text"]) for o in options), True, built_at)

    @classmethod
    def too_big(cls, built_at: float) -> "LabelIndex":
        return cls(complete=False, built_at=built_at)

    def matches(self, search: str) -> list[dict[str, Any]]:
        needle = fold(search)
        return [option for option, text in zip(self.options, self.folded) if needle in text]


def fold(text: str) -> str:
    """Case-insensitive comparison form (``casefold`` also equates ß/ss and similar)."""
    return " ".join(text.casefold().split())


class LabelCache:
    """Label indexes by key (resource type, operation name, parent filters), each kept ``ttl`` seconds."""

    def __init__(self, ttl: float = DEFAULT_TTL, bound: int = DEFAULT_BOUND, max_indexes: int = DEFAULT_MAX_INDEXES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.bound = bound
        self.max_indexes = max_indexes
        self.clock = clock
        self._indexes: OrderedDict[Hashable, LabelIndex] = OrderedDict()

    def get(self, key: Hashable) -> LabelIndex | None:
        index = self._indexes.get(key)
        if index is None:
            return None
        if self.clock() - index.built_at >= self.ttl:
            del self._indexes[key]
            return None
        self._indexes.move_to_end(key)
        return index

    def put(self, key: Hashable, index: LabelIndex) -> None:
        self._indexes[key] = index
        self._indexes.move_to_end(key)
        while len(self._indexes) > self.max_indexes:
            self._indexes.popitem(last=False)

    def forget(self, resource: str) -> None:
        """Drop the indexes of one resource type (keys start with it): the session just wrote one."""
        for key in [k for k in self._indexes if isinstance(k, tuple) and k[:1] == (resource,)]:
            del self._indexes[key]

    def __len__(self) -> int:
        return len(self._indexes)


def encode_cursor(state: dict[str, Any]) -> str:
    return CURSOR_TAG + pack_cursor(state, separators=(",", ":"))


def decode_cursor(text: str) -> dict[str, Any] | None:
    """The state inside a cursor this module made, or None for anything else."""
    if not text.startswith(CURSOR_TAG):
        return None
    body = text[len(CURSOR_TAG):]
    try:
        state = unpack_cursor(body)
    except ValueError:  # binascii.Error and UnicodeDecodeError included
        return None
    return state if isinstance(state, dict) else None

"""Auto-pagination over list operations: follow ``links.next`` cursors, page by page, with bounded memory.

The paginator is a small strategy object fed one page at a time, so it is tested without any HTTP. It never
computes offsets, refuses a cursor it has already seen (a server bug would otherwise loop forever), stops
after a few empty pages that each bring a fresh cursor and at a page cap, and halves the page size when
Outreach answers 502/504 to a large page, then goes on from the same cursor. Every walk over Outreach's
cursors uses it: ``paginate``, ``iterate`` and the DDL label index (handlers/ddl.py).

A walk is a flow wrapped around the list operation's own flow (``next_page``, ``gathered``): each page is
that flow run again with the paginator's page input, and a 502/504 on a big page is thrown into the walk,
which asks again smaller.

A walk that fails part-way raises the error that stopped it (its type unchanged, so callers and the server map
it as before) with ``error.partial``: the records already fetched and the cursor to resume from.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import ConnectorError, TooManyPages, UpstreamError
# Re-exported for the old import path: errors.py holds every error class.
from .errors import RepeatedCursor as RepeatedCursor, StalledPagination as StalledPagination
from .wire import Flow, cursor_of

SHRINK_STATUSES = frozenset({502, 504})
MIN_PAGE_SIZE = 10
DEFAULT_MAX_RECORDS = 10000  # the schema default: one call never gathers an unbounded org
PAGINATION_KEYS = ("paginate", "max_records")
# The flow of one page: given the page input and whether the page may be asked again smaller, it returns the
# page (a JSON:API document whose output was validated).
PageFlow = Callable[[dict[str, Any], bool], Flow]


MAX_EMPTY_PAGES = 3
# Pages one walk may fetch: 10 million records at Outreach's largest page. Non-empty pages with fresh cursors
# are bounded only by this (an ``iterate`` has no record cap); a walk that reaches it fails with the cursor
# to resume from, like any other failed walk.
DEFAULT_MAX_PAGES = 10_000


@dataclass(frozen=True)
class AnswerBound:
    """A host's bound on one gathered answer (the server's ``--max-records-per-call`` and
    ``--max-answer-bytes``). The walk stops at the last whole page within it, with ``meta.truncated`` and
    ``meta.next_page_after``: the cursor that goes on from there, no record lost or repeated. ``max_bytes``
    counts the records as ASCII-escaped JSON (never less than the answer's UTF-8 bytes)."""

    max_records: int
    max_bytes: int

    def room_for(self, records: int, size: int, page_size: int, largest_page: int) -> bool:
        """Whether one more page (at most ``page_size`` records, about ``largest_page`` bytes) still fits."""
        return records + page_size <= self.max_records and size + largest_page <= self.max_bytes


@dataclass
class CursorPaginator:
    page_input: dict[str, Any]
    max_records: int | None = None
    seen: set[str] = field(default_factory=set)
    records: int = 0
    pages: int = 0
    truncated: bool = False  # stopped by max_records while Outreach had more
    empty_in_a_row: int = 0
    max_pages: int = DEFAULT_MAX_PAGES
    bound: AnswerBound | None = None  # a host's bound on the answer, stopping between pages
    size: int = 0  # JSON characters of the records taken, counted only under a bound
    largest_page: int = 0
    next_page_after: str | None = None  # where a walk stopped by the bound goes on
    done: bool = False

    @classmethod
    def for_input(cls, data: dict[str, Any], bound: AnswerBound | None = None) -> "CursorPaginator":
        page_input = {k: v for k, v in data.items() if k not in PAGINATION_KEYS}
        page_input.setdefault("page_size", 1000)  # the fewest round trips Outreach allows
        cap = data.get("max_records", DEFAULT_MAX_RECORDS) if data.get("paginate") else data.get("max_records")
        return cls(page_input, cap, bound=bound)

    def take(self, page: dict[str, Any]) -> list[Any]:
        """Records of this page that fit under the cap; moves the cursor on (or ends the walk)."""
        self.pages += 1
        records = page.get("data") or []
        self._count_empty(records, page.get("links") or {})
        if self.max_records is not None:
            records = records[: self.max_records - self.records]
        self.records += len(records)
        if self.bound is not None:
            page_size = len(json.dumps(records, separators=(",", ":")))
            self.size, self.largest_page = self.size + page_size, max(self.largest_page, page_size)
        following = self._next(page.get("links") or {})
        if following is None:
            self.done = True
        else:
            self.page_input = following
        return records

    def _count_empty(self, records: list[Any], links: dict[str, Any]) -> None:
        self.empty_in_a_row = 0 if records or not links.get("next") else self.empty_in_a_row + 1
        if self.empty_in_a_row >= MAX_EMPTY_PAGES:
            raise StalledPagination(f"Outreach returned {self.empty_in_a_row} empty pages in a row, each with a "
                                    "new cursor; stopping instead of walking forever")

    def _next(self, links: dict[str, Any]) -> dict[str, Any] | None:
        link = links.get("next")
        if not link:
            return None
        if self.max_records is not None and self.records >= self.max_records:
            self.truncated = True
            return None
        if self.pages >= self.max_pages:
            raise TooManyPages(f"Outreach still had a next page after {self.pages} pages, the most one walk "
                               "reads; stopping (resume from the cursor of the next page)")
        cursor = cursor_of(link)
        if self.bound is not None and not self.bound.room_for(self.records, self.size,
                                                              self.page_input.get("page_size", 50), self.largest_page):
            self.truncated, self.next_page_after = True, cursor
            return None
        if cursor in self.seen:
            raise RepeatedCursor(f"Outreach returned the cursor of an earlier page again after {self.pages} "
                                 "pages; stopping instead of looping")
        self.seen.add(cursor)
        return {**self.page_input, "page_after": cursor}

    @property
    def after(self) -> str | None:
        """The cursor of the next page to fetch (None: the first page, or the walk is done)."""
        return None if self.done else self.page_input.get("page_after")

    @property
    def shrinkable(self) -> bool:
        return self.page_input.get("page_size", 50) > MIN_PAGE_SIZE

    def shrink(self, error: UpstreamError) -> None:
        """After a 502/504 on a big page, retry the same cursor with half the page size."""
        size = self.page_input.get("page_size", 50)
        if error.status_code not in SHRINK_STATUSES or size <= MIN_PAGE_SIZE:
            raise error
        self.page_input = {**self.page_input, "page_size": max(MIN_PAGE_SIZE, size // 2)}


@dataclass(frozen=True)
class Partial:
    """What a failed walk had got: pass ``resume_from`` as ``page_after`` (or ``iterate(after=...)``) to go on."""

    records: list[Any]  # with ``paginate``: every record fetched; from ``iterate``: none (each was yielded)
    resume_from: str | None  # the cursor of the page that failed; None: from the start of the collection
    pages: int  # pages fetched before the failure
    delivered: int  # records handed to the caller (or collected) before the failure


@contextmanager
def keeps_partial(paginator: CursorPaginator, records: list[Any] | None = None) -> Iterator[None]:
    """Attach what the walk had fetched to a connector error that ends it, then let the error go on."""
    try:
        yield
    except ConnectorError as error:
        error.partial = Partial(records=[] if records is None else records,
                                resume_from=paginator.after, pages=paginator.pages,
                                delivered=paginator.records if records is None else len(records))
        raise


def collected(records: list[Any], paginator: CursorPaginator) -> dict:
    """The output of ``call`` with ``paginate: true``: all records in one JSON:API-shaped document."""
    meta: dict[str, Any] = {"pages": paginator.pages, "records": paginator.records, "truncated": paginator.truncated}
    if paginator.next_page_after is not None:  # stopped by the host's bound: pass it as page_after to go on
        meta["next_page_after"] = paginator.next_page_after
    return {"data": records, "links": {}, "meta": meta}


def next_page(page_flow: PageFlow, paginator: CursorPaginator) -> Flow:
    """The records of the walk's next page; none when a 502/504 on a big page has it asked again smaller."""
    try:
        page = yield from page_flow(paginator.page_input, paginator.shrinkable)
    except UpstreamError as error:
        paginator.shrink(error)
        return []
    return paginator.take(page)


def gathered(page_flow: PageFlow, paginator: CursorPaginator) -> Flow:
    """A whole walk in one answer (``paginate: true``), what it had got attached to an error that ends it."""
    records: list[Any] = []
    with keeps_partial(paginator, records):
        while not paginator.done:
            records.extend((yield from next_page(page_flow, paginator)))
    return collected(records, paginator)

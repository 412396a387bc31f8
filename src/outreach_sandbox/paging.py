"""Running a list query: filter, sort, and cut one page with opaque, insert-stable cursors.

A cursor is base64url JSON of the sort signature, the boundary record's sort values and its id; the next page
starts strictly after that position, so records inserted or deleted elsewhere never cause duplicates or gaps.
The ordering of a filtered or sorted query is cached per table version: paging through 50,000 prospects
scans them once, not once per page. The unfiltered, id-ordered case never scans at all.
"""
from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .query import ListQuery, SortKey
from .store import Record, Store, Table


class _Descending:
    """Inverts the order of a sort value, so one tuple key serves mixed directions."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value


def _comparable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def composite_key(sort: tuple[SortKey, ...], values: list[Any], ident: int) -> tuple:
    """Nulls first when ascending, last when descending; ties broken by ascending id."""
    parts = []
    for key, value in zip(sort, values, strict=True):
        part = (value is not None, _comparable(value))
        parts.append(_Descending(part) if key.descending else part)
    return (*parts, ident)


def sort_values(sort: tuple[SortKey, ...], record: Record) -> list[Any]:
    return [record.id if k.field == "id" else record.attributes.get(k.field) for k in sort]


@dataclass(frozen=True)
class Ordering:
    """The matching ids of a query in order, with the keys cursors are compared against."""

    ids: list[int]
    keys: list[Any]


@dataclass(frozen=True)
class Page:
    records: list[Record]
    total: int
    prev_cursor: str | None
    next_cursor: str | None


def encode_cursor(query: ListQuery, record: Record) -> str:
    payload = {"s": query.sort_signature, "v": sort_values(query.sort, record), "id": record.id}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: ListQuery, cursor: str, parameter: str) -> Any:
    """The comparison key a cursor stands for; a 400 when it is not one of ours or belongs to another sort."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ident, values = payload["id"], payload["v"]
        valid = isinstance(ident, int) and isinstance(values, list) and len(values) == len(query.sort)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise bad_request("Invalid page cursor.", parameter)
    if payload.get("s") != query.sort_signature:
        raise bad_request("This cursor belongs to a different sort order.", parameter)
    return ident if by_id(query) else composite_key(query.sort, values, ident)


def by_id(query: ListQuery) -> bool:
    """Ordered by ascending id (the default): keys are plain ids."""
    return query.sort in ((), (SortKey("id", False),))


def ordering(store: Store, type_name: str, query: ListQuery) -> Ordering:
    table = store.table(type_name)
    id_tests = [f.id_test for f in query.filters if f.id_test is not None]
    if by_id(query) and len(id_tests) == len(query.filters):  # every filter can be answered from the id alone
        ids = table.ids()
        for id_test in id_tests:
            ids = [i for i in ids if id_test(i)]
        return Ordering(ids, ids)
    cache_key = ("order", type_name, id(table), table.version, tuple(f.key for f in query.filters),
                 query.sort_signature)
    return store.cached(cache_key, lambda: _scan(table, query))


def _candidates(table: Table, query: ListQuery) -> Any:
    """Records that may match: through a value index when a filter is exact (as a database index would)."""
    exact = next((f.exact for f in query.filters if f.exact), None)
    if exact is None:
        return table.records()
    name, wanted = exact
    index = table.index(f"attr:{name}", lambda r: _values(r.attributes.get(name)))
    ids = sorted({i for value in wanted for i in index.lookup(table, _comparable(value))})
    return (table.get(i) for i in ids)


def _values(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    return [_comparable(v) for v in items if v is not None]


def _scan(table: Table, query: ListQuery) -> Ordering:
    tests = [f.test for f in query.filters]
    matches = [r for r in _candidates(table, query) if all(test(r) for test in tests)]
    if by_id(query):
        ids = [r.id for r in matches]
        return Ordering(ids, ids)
    keyed = sorted((composite_key(query.sort, sort_values(query.sort, r), r.id), r.id) for r in matches)
    return Ordering([ident for _, ident in keyed], [key for key, _ in keyed])


def _window(order: Ordering, query: ListQuery) -> tuple[int, int]:
    if query.after is not None:
        start = bisect_right(order.keys, decode_cursor(query, query.after, "page[after]"))
        return start, min(start + query.page_size, len(order.ids))
    if query.before is not None:
        end = bisect_left(order.keys, decode_cursor(query, query.before, "page[before]"))
        return max(0, end - query.page_size), end
    return 0, min(query.page_size, len(order.ids))


def run(store: Store, type_name: str, query: ListQuery) -> Page:
    order = ordering(store, type_name, query)
    start, end = _window(order, query)
    records = store.table(type_name).records_of(order.ids[start:end])
    has_prev = start > 0 and bool(records)
    has_next = end < len(order.ids) and bool(records)
    return Page(records, len(order.ids), encode_cursor(query, records[0]) if has_prev else None,
                encode_cursor(query, records[-1]) if has_next else None)

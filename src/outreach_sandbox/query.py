"""List query parameters: ``filter[...]``, ``sort``, ``fields[type]``, ``page[...]`` and ``count``.

Filters accept any known attribute (the connector's documented samples filter on attributes the vendor does
not badge as filterable), ``id``, ``filter[<to-one relationship>][id]``, and ``filter[<to-many>][id]`` where
the records on the other side point back with a to-one relationship. A value is exact, a comma list
(any of) or a range ``a..b`` whose ends may be ``neginf``/``inf``; array attributes match when any element
does. Anything the sandbox does not understand is a 400, so a client never silently gets unfiltered data.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .clock import is_date, normalize_datetime
from .errors import bad_request
from .schema import Attribute, Catalogue, ResourceType
from .store import Record

_FILTER_KEY = re.compile(r"^filter\[([A-Za-z0-9_]+)\](?:\[([A-Za-z0-9_]+)\])?$")
_FIELDS_KEY = re.compile(r"^fields\[([A-Za-z0-9_]+)\]$")
_PAGE_KEY = re.compile(r"^page\[([A-Za-z]+)\]$")
IGNORED_PARAMS = frozenset({"newFilterSyntax", "provideAuthorizationMeta", "provideDataConnections"})
Predicate = Callable[[Record], bool]
# Resolves filter[<to-many>][id]=<ids> to the ids of the matching records, or None when it cannot.
ToManyResolver = Callable[[ResourceType, str, set[int]], set[int] | None]


@dataclass(frozen=True, slots=True)
class Filter:
    """One parsed filter: its cache identity and the predicate it applies."""

    key: tuple
    test: Predicate
    id_test: Callable[[int], bool] | None = None  # set for filter[id]: evaluable without loading records
    # set for an exact (or any-of) attribute filter: (attribute, wanted values), answerable from a value index
    exact: tuple[str, frozenset] | None = None


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool


@dataclass(frozen=True)
class ListQuery:
    filters: tuple[Filter, ...]
    sort: tuple[SortKey, ...]
    fields: frozenset[str] | None
    page_size: int
    after: str | None
    before: str | None
    count: bool

    @property
    def sort_signature(self) -> str:
        return ",".join(("-" if k.descending else "") + k.field for k in self.sort)


def _coerce(attr: Attribute | None, text: str, parameter: str) -> Any:
    """A filter value typed like the attribute it is compared with (ids when ``attr`` is None)."""
    kinds = ("integer",) if attr is None else (attr.item_type,) if "array" in attr.types else attr.types
    if kinds == (None,):
        raise bad_request("Arrays of untyped values cannot be filtered.", parameter)
    try:
        if "integer" in kinds:
            return int(text)
        if "number" in kinds:
            return float(text)
    except ValueError:
        raise bad_request(f"'{text}' is not a number.", parameter) from None
    if "boolean" in kinds:
        if text not in ("true", "false"):
            raise bad_request(f"'{text}' is not true or false.", parameter)
        return text == "true"
    if "object" in kinds:
        raise bad_request("Object attributes cannot be filtered.", parameter)
    return _coerce_text(attr, text, parameter)


def _coerce_text(attr: Attribute | None, text: str, parameter: str) -> str:
    if attr is not None and attr.format == "date-time":
        normalized = normalize_datetime(text)
        if normalized is None:
            raise bad_request(f"'{text}' is not an ISO-8601 date or date-time.", parameter)
        return normalized
    if attr is not None and attr.format == "date" and not is_date(text):
        raise bad_request(f"'{text}' is not a date (YYYY-MM-DD).", parameter)
    return text


def _value_test(attr: Attribute | None, raw: str, parameter: str) -> Callable[[Any], bool]:
    """A test for one stored value: exact, any-of, or range."""
    if ".." in raw:
        low_text, high_text = raw.split("..", 1)
        low = None if low_text == "neginf" else _coerce(attr, low_text, parameter)
        high = None if high_text == "inf" else _coerce(attr, high_text, parameter)
        return lambda v: v is not None and (low is None or v >= low) and (high is None or v <= high)
    wanted = {_coerce(attr, part, parameter) for part in raw.split(",")}
    return lambda v: v in wanted


def _attribute_filter(attr: Attribute, raw: str, parameter: str) -> Predicate:
    test = _value_test(attr, raw, parameter)
    name = attr.name
    if "array" in attr.types:
        return lambda record: any(test(v) for v in record.attributes.get(name) or ())
    return lambda record: test(record.attributes.get(name))


def parse_filter(rtype: ResourceType, parameter: str, raw: str, resolve: ToManyResolver | None = None) -> Filter:
    match = _FILTER_KEY.match(parameter)
    if not match:
        raise bad_request(f"Malformed filter parameter '{parameter}'.", parameter)
    field, sub = match.groups()
    if field == "id" and sub is None:
        test = _value_test(None, raw, parameter)
        return Filter((parameter, raw), lambda record: test(record.id), test)
    if field in rtype.attributes and sub is None:
        attr = rtype.attributes[field]
        exact = None if ".." in raw else (field, frozenset(_coerce(attr, p, parameter) for p in raw.split(",")))
        return Filter((parameter, raw), _attribute_filter(attr, raw, parameter), exact=exact)
    rel = rtype.relationships.get(field)
    if rel is None:
        raise bad_request(f"'{field}' is not a filterable field of {rtype.name}.", parameter)
    if sub != "id":
        raise bad_request(f"Filter relationships by id only (filter[{field}][id]).", parameter)
    if not rel.filterable:
        raise bad_request(f"Relationship '{field}' cannot be used as a filter.", parameter)
    if rel.to_many:
        return _to_many_filter(rtype, field, raw, parameter, resolve)
    test = _value_test(None, raw, parameter)
    return Filter((parameter, raw), lambda record: test(record.ref_id(field)))


def _to_many_filter(rtype: ResourceType, field: str, raw: str, parameter: str,
                    resolve: ToManyResolver | None) -> Filter:
    """A to-many filter becomes a set of matching ids, resolved now through the records that point back."""
    try:
        wanted = {int(part) for part in raw.split(",")}
    except ValueError:
        raise bad_request("Filter to-many relationships by a list of ids.", parameter) from None
    ids = resolve(rtype, field, wanted) if resolve else None
    if ids is None:
        raise bad_request(f"The sandbox cannot filter {rtype.name} by '{field}'.", parameter)
    return Filter((parameter, raw, tuple(sorted(ids))), lambda record: record.id in ids, ids.__contains__)


def parse_sort(rtype: ResourceType, raw: str) -> tuple[SortKey, ...]:
    keys = []
    for part in raw.split(","):
        field = part[1:] if part.startswith("-") else part
        if field != "id" and field not in rtype.attributes:
            raise bad_request(f"'{field}' is not a sortable field of {rtype.name}.", "sort")
        keys.append(SortKey(field, part.startswith("-")))
    return tuple(keys)


def parse_fields(catalogue: Catalogue, rtype: ResourceType, pairs: list[tuple[str, str]]) -> frozenset[str] | None:
    """The sparse fieldset for ``rtype`` (None: everything). Fieldsets of other served types are accepted."""
    chosen = None
    for key, value in pairs:
        match = _FIELDS_KEY.match(key)
        if not match:
            continue
        if match.group(1) not in catalogue:
            raise bad_request(f"Unknown resource type '{match.group(1)}'.", key)
        names = frozenset(n for n in value.split(",") if n)
        if match.group(1) == rtype.name:
            unknown = sorted(n for n in names if n not in rtype.attributes and n not in rtype.relationships)
            if unknown:
                raise bad_request(f"Unknown field(s) of {rtype.name}: {', '.join(unknown)}.", key)
            chosen = names
    return chosen


def _page_size(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise bad_request(f"page[size] must be an integer from 1 to {maximum}.", "page[size]")
    return int(raw)


def _check_known(pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        page = _PAGE_KEY.match(key)
        if page and page.group(1) not in ("size", "after", "before"):
            raise bad_request(f"{key} is not supported: use page[size] with page[after] cursors.", key)
        if key == "include":
            raise bad_request("include (compound documents) is not supported by the sandbox.", key)
        if key == "count" and value not in ("true", "false"):
            raise bad_request("count must be true or false.", key)


def parse_list_query(catalogue: Catalogue, rtype: ResourceType, pairs: list[tuple[str, str]],
                     default_size: int, max_size: int, resolve: ToManyResolver | None = None) -> ListQuery:
    """Parse and check every list parameter; raise a 400 ApiError on the first bad one."""
    _check_known(pairs)
    params = dict(pairs)
    if "page[after]" in params and "page[before]" in params:
        raise bad_request("Use page[after] or page[before], not both.", "page[before]")
    return ListQuery(
        filters=tuple(parse_filter(rtype, k, v, resolve) for k, v in pairs if k.startswith("filter[")),
        sort=parse_sort(rtype, params["sort"]) if params.get("sort") else (),
        fields=parse_fields(catalogue, rtype, pairs),
        page_size=_page_size(params.get("page[size]"), default_size, max_size),
        after=params.get("page[after]"), before=params.get("page[before]"),
        count=params.get("count", "true") == "true",
    )

"""DDL handler: dropdown options ``{"result": [{"text", "value"}], "next_page_after"}`` for a solution editor.

One call may need several requests (read a collection's labels, then answer from them), so its ``flow``
is more than the one-step default; ``build``/``parse`` plan and read a plain page (``describe`` shows that
request). The label indexes are the session's, handed in with the context (``ctx.labels``). What a call
does, by input:

* ``value`` (ids): one request, ``filter[id]``; exactly those options, in the order asked.
* no ``search``: one page of the collection in the DDL's order (Outreach's own cursor inside
  ``next_page_after``).
* ``search``: from the session's label index (labels.py) when the collection has at most ``bound``
  records, case-insensitive and anywhere in the text; beyond the bound through Outreach's exact filters on
  the DDL's search fields (the text, lower-cased and capitalised; e-mail addresses on the e-mail field; a
  first and last name together), never more than one page per filter.

Parent filters (``sequence_id``, ``account_id``...) narrow the page and the search with
``filter[<rel>][id]`` (each parent set has its own label index); ``value`` answers exactly the ids asked.
"""
from __future__ import annotations

from string import Formatter
from urllib.parse import urlsplit
from typing import Any, Generator

from .. import jsonapi
from ..catalogue_folders import resource_for
from ..errors import InputInvalid, UpstreamError
from ..labels import LabelCache, LabelIndex, decode_cursor, encode_cursor
from ..pagination import CursorPaginator
from ..spec import DdlSpec, DropdownSpec
from ..wire import Context, HttpCall, Reply, cursor_of
from .resources import CallContext

INDEX_PAGE = 1000  # Outreach's largest page: the fewest round trips to read a collection's labels
OptionsFlow = Generator[HttpCall, Reply, dict]  # a DDL call: requests out, replies in, its options back
# What each kind of page keeps in its cursor: Outreach's cursor, an offset into the matches, or one Outreach
# cursor per exact filter ("" not started, None finished). Anything else was not made here.
CURSOR_SHAPES = {
    "a": lambda v: isinstance(v, str) and v != "",
    "o": lambda v: type(v) is int and v >= 0,
    "q": lambda v: isinstance(v, list) and all(c is None or isinstance(c, str) for c in v),
}


def template_fields(template: str) -> list[str]:
    """``'{name} <{emails[0]}>'`` -> ``['name', 'emails']``."""
    names = [field for _, field, _, _ in Formatter().parse(template) if field]
    return [name.split("[", 1)[0].split(".", 1)[0] for name in names]


def render(template: str, record: dict[str, Any]) -> str | None:
    """The template filled from the record, or None when a field it needs is missing or empty."""
    if any(record.get(name) in (None, "", []) for name in template_fields(template)):
        return None
    try:
        return template.format_map(record)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def option(mapping: DdlSpec, record: dict[str, Any]) -> dict[str, Any]:
    value = record.get(mapping.value)
    text = next((t for t in (render(tpl, record) for tpl in mapping.text) if t), None)
    return {"text": text or str(value), "value": value if isinstance(value, (int, str)) else str(value)}


def option_list(mapping: DdlSpec, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [option(mapping, r) for r in records if r.get(mapping.value) is not None]


def options(mapping: DdlSpec, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Dropdown options from flat source records ({id, **attributes})."""
    return {"result": option_list(mapping, records)}


def reply_options(spec: DropdownSpec, reply: Reply) -> list[dict[str, Any]]:
    return option_list(spec.ddl, flat_records(page_of(reply).get("data") or [], reply))


def flat_records(records: Any, reply: Reply) -> list[dict[str, Any]]:
    """JSON:API records as flat ``{id, **attributes}``; anything else in ``data`` is Outreach answering a shape
    no dropdown can be made of (an error, never a 500)."""
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise UpstreamError(reply.status_code, [], None,
                            message=f"{urlsplit(reply.url).path}: Outreach's answer holds no list of records")
    return [jsonapi.flatten(record) for record in records]


def next_cursor(reply: Reply) -> str | None:
    link = (page_of(reply).get("links") or {}).get("next")
    return cursor_of(link) if link else None


def needed_fields(spec: DropdownSpec) -> list[str]:
    """Attributes the labels use (sample-only names such as a step's ``title`` are not asked for)."""
    known = resource_for(spec).attributes
    return sorted({f for tpl in spec.ddl.text for f in template_fields(tpl)} & set(known))


def fields_params(spec: DropdownSpec) -> list[tuple[str, str]]:
    fields = needed_fields(spec)  # ask only for what the labels need: dropdowns load fast on big orgs
    return [(f"fields[{spec.resource}]", ",".join(fields))] if fields else []


def page_params(spec: DropdownSpec, size: int, sort: bool = True) -> list[tuple[str, str]]:
    params = [("page[size]", str(size))] + ([("sort", spec.ddl.sort)] if sort else []) + [("count", "false")]
    return params + fields_params(spec)


def parent_params(spec: DropdownSpec, data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f"filter[{rel}][id]", str(jsonapi.record_id(data[key])))
            for key, rel in spec.ddl.parents.items() if data.get(key) not in (None, "")]


def get(spec: DropdownSpec, params: list[tuple[str, str]]) -> HttpCall:
    return HttpCall("GET", spec.path, params=tuple(params))


def read_cursor(spec: DropdownSpec, data: dict[str, Any], *kinds: str) -> tuple[str | None, Any]:
    """(kind, state) inside ``page_after`` when it is a cursor of one of these kinds; (None, None) without one."""
    if not data.get("page_after"):
        return None, None
    state = decode_cursor(data["page_after"]) or {}
    for kind in kinds:
        if kind in state and CURSOR_SHAPES[kind](state[kind]):
            return kind, state[kind]
    raise InputInvalid(spec.name, [{"path": "page_after", "message": "not a next_page_after this dropdown "
                                    "returned for the same search (ask again without page_after)"}])


def page(result: list[dict[str, Any]], kind: str, state: Any) -> dict[str, Any]:
    return {"result": result, "next_page_after": encode_cursor({kind: state}) if state is not None else None}


class DdlHandler:
    """``flow`` runs a call; ``build``/``parse`` plan and read a plain page."""

    def build(self, spec: DropdownSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        return listing_request(spec, data, None)

    def parse(self, spec: DropdownSpec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        return page(reply_options(spec, reply), "a", next_cursor(reply))

    def flow(self, spec: DropdownSpec, data: dict[str, Any], ctx: CallContext) -> OptionsFlow:
        if data.get("value") not in (None, [], ""):
            return (yield from labelled(spec, data))
        search = " ".join((data.get("search") or "").split())
        if not search:
            return (yield from listed(spec, data))
        kind, state = read_cursor(spec, data, "o", "q")  # a bad cursor is refused before anything is sent
        index = ctx.labels.get(index_key(spec, data))
        if index is None:
            index = yield from read_index(spec, data, ctx.labels)
            ctx.labels.put(index_key(spec, data), index)
        if index.complete:
            return searched(spec, index, search, state if kind == "o" else 0)
        return (yield from exact_search(spec, data, search, state if kind == "q" else None))


def listing_request(spec: DropdownSpec, data: dict[str, Any], cursor: str | None) -> HttpCall:
    params = page_params(spec, spec.ddl.limit) + parent_params(spec, data)
    return get(spec, params + ([("page[after]", cursor)] if cursor else []))


def listed(spec: DropdownSpec, data: dict[str, Any]) -> OptionsFlow:
    reply = yield listing_request(spec, data, read_cursor(spec, data, "a")[1])
    return page(reply_options(spec, reply), "a", next_cursor(reply))


def labelled(spec: DropdownSpec, data: dict[str, Any]) -> OptionsFlow:
    """A saved selection's labels: the ids asked, in the order asked; ids Outreach does not know are left out."""
    ids = data["value"] if isinstance(data["value"], list) else [data["value"]]
    wanted = list(dict.fromkeys(jsonapi.record_id(i) for i in ids))
    params = page_params(spec, len(wanted), sort=False) + [("filter[id]", ",".join(map(str, wanted)))]
    reply = yield get(spec, params)
    found = {jsonapi.record_id(o["value"]): o for o in reply_options(spec, reply)}
    return page([found[i] for i in wanted if i in found], "v", None)


def index_key(spec: DropdownSpec, data: dict[str, Any]) -> tuple:
    return (spec.resource, spec.name, tuple(parent_params(spec, data)))


def read_index(spec: DropdownSpec, data: dict[str, Any], labels: LabelCache) -> Generator[HttpCall, Reply,
                                                                                             LabelIndex]:
    """Every label of the collection, or ``too_big`` as soon as it is known to hold more than the bound.

    A one-record probe asks for ``meta.count`` first (unsorted: cheap for Outreach), so a huge collection
    costs one small request, not a page of a thousand records nobody will see. The pages are walked by the
    paginator every list walk uses: a repeated cursor, empty pages with fresh cursors, or more pages than the
    bound needs end the walk with a PaginationError instead of requests without end.
    """
    parents = parent_params(spec, data)
    probe = yield get(spec, [("page[size]", "1"), ("count", "true")] + fields_params(spec) + parents)
    count = ((probe.body or {}).get("meta") or {}).get("count")
    if isinstance(count, int) and count > labels.bound:
        return LabelIndex.too_big(labels.clock())
    found: list[dict[str, Any]] = []
    walk = CursorPaginator({}, max_pages=index_pages(labels.bound))
    while not walk.done:
        after = walk.after
        reply = yield get(spec, page_params(spec, INDEX_PAGE) + parents + ([("page[after]", after)] if after else []))
        found += option_list(spec.ddl, flat_records(walk.take(page_of(reply)), reply))
        if len(found) > labels.bound:
            return LabelIndex.too_big(labels.clock())
    return LabelIndex.of(found, labels.clock())


def index_pages(bound: int) -> int:
    """The most pages a label index reads: full pages of INDEX_PAGE cross the bound before this many."""
    return bound // INDEX_PAGE + 2


def page_of(reply: Reply) -> dict[str, Any]:
    return reply.body if isinstance(reply.body, dict) else {}


def searched(spec: DropdownSpec, index: LabelIndex, search: str, start: int) -> dict[str, Any]:
    matches = index.matches(search)
    end = start + spec.ddl.limit
    return page(matches[start:end], "o", end if end < len(matches) else None)


def exact_search(spec: DropdownSpec, data: dict[str, Any], search: str, cursors: list | None) -> OptionsFlow:
    """Outreach's exact filters, one page each; the cursor keeps each filter's own next cursor."""
    queries = exact_queries(spec.ddl, search)
    if cursors is None or len(cursors) != len(queries):
        cursors = [""] * len(queries)
    result: dict[Any, dict[str, Any]] = {}
    for i, (query, cursor) in enumerate(zip(queries, cursors)):
        if cursor is None:
            continue
        params = page_params(spec, spec.ddl.limit) + parent_params(spec, data) + query
        reply = yield get(spec, params + ([("page[after]", cursor)] if cursor else []))
        for found in reply_options(spec, reply):
            result.setdefault(found["value"], found)
        cursors[i] = next_cursor(reply)
    more = any(c is not None for c in cursors)
    return page(list(result.values()), "q", cursors if more else None)


def variants(text: str, email: bool = False) -> str | None:
    """The spellings an exact filter is asked for, as one comma list (any of), or None if none is safe.

    Outreach reads ``,`` in a filter as "any of" and ``..`` as a range, so a text holding them is not asked.
    """
    spellings = [text, text.lower()] if email else [text, text.lower(), text.capitalize(), text.title()]
    safe = sorted({s for s in spellings if "," not in s and ".." not in s})  # one spelling of the query per text
    return ",".join(safe) or None


def exact_queries(mapping: DdlSpec, search: str) -> list[list[tuple[str, str]]]:
    if "@" in search and mapping.email_field:
        value = variants(search, email=True)
        return [[(f"filter[{mapping.email_field}]", value)]] if value else []
    queries = [[(f"filter[{name}]", value)] for name in mapping.search_fields if (value := variants(search))]
    words = search.split(" ")
    if mapping.full_name and len(words) >= 2:
        first, last = variants(words[0]), variants(" ".join(words[1:]))
        if first and last:
            queries.append([(f"filter[{mapping.full_name[0]}]", first), (f"filter[{mapping.full_name[1]}]", last)])
    return queries

"""Auto-pagination follows links.next cursors, caps records, shrinks pages on 502 and refuses loops."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import FakeOutreach, jsonapi, stage_page
from outreach_connector.errors import TooManyPages, UpstreamError
from outreach_connector.pagination import CursorPaginator, RepeatedCursor, StalledPagination


def test_paginator_follows_cursors_and_stops_at_the_last_page():
    paginator = CursorPaginator.for_input({"page_size": 2, "paginate": True})
    assert paginator.page_input == {"page_size": 2}
    assert [r["id"] for r in paginator.take(stage_page([1, 2], "c1"))] == [1, 2]
    assert paginator.page_input == {"page_size": 2, "page_after": "c1"}
    paginator.take(stage_page([3]))
    assert paginator.done and not paginator.truncated and paginator.pages == 2


def test_paginator_refuses_a_repeated_cursor():
    paginator = CursorPaginator.for_input({})
    paginator.take(stage_page([1], "same"))
    with pytest.raises(RepeatedCursor, match="earlier page"):
        paginator.take(stage_page([2], "same"))


def test_paginator_caps_records_and_says_it_truncated():
    paginator = CursorPaginator.for_input({"paginate": True, "max_records": 3})
    assert len(paginator.take(stage_page([1, 2], "a"))) == 2
    assert len(paginator.take(stage_page([3, 4], "b"))) == 1
    assert paginator.done and paginator.truncated


def test_paginator_halves_the_page_after_a_502_and_gives_up_below_the_minimum():
    paginator = CursorPaginator.for_input({"page_size": 40})
    paginator.shrink(UpstreamError(502, []))
    assert paginator.page_input["page_size"] == 20
    paginator.shrink(UpstreamError(504, []))
    assert paginator.page_input["page_size"] == 10
    with pytest.raises(UpstreamError):
        paginator.shrink(UpstreamError(502, []))
    with pytest.raises(UpstreamError):
        CursorPaginator.for_input({"page_size": 500}).shrink(UpstreamError(500, []))


def fake_collection(total: int, fail_big_pages: int | None = None):
    """A collection of ``total`` stages served by cursor (the cursor is the last id seen)."""
    def respond(request):
        query = parse_qs(urlsplit(str(request.url)).query)
        size = int(query["page[size]"][0])
        if fail_big_pages and size > fail_big_pages:
            return jsonapi(502, None)
        after = int(query.get("page[after]", ["0"])[0])
        ids = list(range(after + 1, min(after + size, total) + 1))
        return jsonapi(200, stage_page(ids, ids[-1] if ids and ids[-1] < total else None))
    return respond


def test_call_with_paginate_gathers_every_page(make_connector):
    fake = FakeOutreach(fake_collection(25))
    out = make_connector(fake).call("list_stages", {"paginate": True, "page_size": 10})
    assert [r["id"] for r in out["data"]] == list(range(1, 26))
    assert out["meta"] == {"pages": 3, "records": 25, "truncated": False}
    assert [r.url.params.get("page[after]") for r in fake.requests] == [None, "10", "20"]


def test_iterate_streams_and_shrinks_after_502_on_big_pages(make_connector):
    fake = FakeOutreach(fake_collection(120, fail_big_pages=50))
    ids = [r["id"] for r in make_connector(fake).iterate("list_stages", {"page_size": 200})]
    assert ids == list(range(1, 121))
    sizes = [int(r.url.params["page[size]"]) for r in fake.requests]
    assert sizes[:3] == [200, 100, 50]  # each 502 answered once, not retried at the same size


@pytest.mark.anyio
async def test_aiterate_matches_iterate(make_connector):
    conn = make_connector(FakeOutreach(fake_collection(7)))
    got = [r["id"] async for r in conn.aiterate("list_stages", {"page_size": 3})]
    assert got == list(range(1, 8))
    await conn.aclose()


def test_paginate_is_only_for_list_operations(make_connector):
    from outreach_connector.errors import InputInvalid

    with pytest.raises(InputInvalid):
        list(make_connector(FakeOutreach()).iterate("get_stage", {"stage_id": 1}))


def test_paginator_stops_on_endless_empty_pages_with_fresh_cursors():
    paginator = CursorPaginator.for_input({})
    paginator.take(stage_page([], "e1"))
    paginator.take(stage_page([], "e2"))
    with pytest.raises(StalledPagination, match="3 empty pages"):
        paginator.take(stage_page([], "e3"))
    ok = CursorPaginator.for_input({})
    for cursor in ("a", "b"):
        ok.take(stage_page([], cursor))
    ok.take(stage_page([1], "c"))  # a record resets the count
    assert ok.empty_in_a_row == 0


def test_paginator_stops_at_its_page_cap_with_the_cursor_to_resume_from():
    paginator = CursorPaginator(page_input={"page_size": 1}, max_pages=3)
    paginator.take(stage_page([1], "c1"))
    paginator.take(stage_page([2], "c2"))
    with pytest.raises(TooManyPages, match="still had a next page after 3 pages"):
        paginator.take(stage_page([3], "c3"))
    assert paginator.after == "c2"  # resuming fetches the third page again: its records were not handed out
    last = CursorPaginator(page_input={}, max_pages=3)
    for page in (stage_page([1], "c1"), stage_page([2], "c2"), stage_page([3])):
        last.take(page)
    assert last.done and last.pages == 3  # the cap counts only pages that would follow it

"""A paginated walk that fails part-way keeps what it fetched and says where to resume."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import FakeOutreach, jsonapi, stage_page
from outreach_connector.errors import OutputInvalid, PermissionDenied
from outreach_connector.pagination import Partial


class FlakyCollection:
    """Stages 1..6 two per page (the cursor is the last id); the page after ``fail_after`` fails once,
    answered by ``failure()``."""

    def __init__(self, fail_after: str, failure) -> None:
        self.fail_after, self.failure = fail_after, failure

    def __call__(self, request):
        after = parse_qs(urlsplit(str(request.url)).query).get("page[after]", ["0"])[0]
        if after == self.fail_after and self.failure is not None:
            failure, self.failure = self.failure, None
            return failure()
        ids = [int(after) + 1, int(after) + 2]
        return jsonapi(200, stage_page(ids, str(ids[-1]) if ids[-1] < 6 else None))


def forbidden():
    return jsonapi(403, {"errors": [{"id": "unauthorizedRequest", "title": "Forbidden"}]})


def test_paginate_keeps_the_fetched_records_and_the_cursor_of_the_failed_page(make_connector):
    conn = make_connector(FakeOutreach(FlakyCollection("4", forbidden)))
    with pytest.raises(PermissionDenied) as caught:
        conn.call("list_stages", {"paginate": True, "page_size": 2})
    assert caught.value.partial == Partial(records=[{"type": "stage", "id": i} for i in (1, 2, 3, 4)],
                                           resume_from="4", pages=2, delivered=4)
    resumed = conn.call("list_stages", {"paginate": True, "page_size": 2, "page_after": "4"})
    assert [r["id"] for r in resumed["data"]] == [5, 6]


def test_iterate_says_how_many_it_delivered_and_resumes_from_the_cursor(make_connector):
    fake = FakeOutreach(FlakyCollection("2", forbidden))
    conn = make_connector(fake)
    seen = []
    with pytest.raises(PermissionDenied) as caught:
        for record in conn.iterate("list_stages", {"page_size": 2}):
            seen.append(record["id"])
    assert seen == [1, 2]
    assert caught.value.partial == Partial(records=[], resume_from="2", pages=1, delivered=2)
    rest = [r["id"] for r in conn.iterate("list_stages", {"page_size": 2}, after=caught.value.partial.resume_from)]
    assert rest == [3, 4, 5, 6]
    assert fake.requests[-3].url.params["page[after]"] == "2"


def test_a_structurally_invalid_page_also_keeps_what_came_before(make_connector):
    conn = make_connector(FakeOutreach(FlakyCollection("2", lambda: jsonapi(200, {"meta": {}}))))
    with pytest.raises(OutputInvalid) as caught:
        conn.call("list_stages", {"paginate": True, "page_size": 2})
    assert [r["id"] for r in caught.value.partial.records] == [1, 2]
    assert caught.value.partial.resume_from == "2"


def test_a_failure_on_the_first_page_resumes_from_the_start(make_connector):
    conn = make_connector(FakeOutreach(FlakyCollection("0", forbidden)))
    with pytest.raises(PermissionDenied) as caught:
        conn.call("list_stages", {"paginate": True, "page_size": 2})
    assert caught.value.partial == Partial(records=[], resume_from=None, pages=0, delivered=0)


@pytest.mark.anyio
async def test_async_walks_keep_partial_results_too(make_connector):
    conn = make_connector(FakeOutreach(FlakyCollection("2", forbidden)))
    with pytest.raises(PermissionDenied) as caught:
        await conn.acall("list_stages", {"paginate": True, "page_size": 2})
    assert [r["id"] for r in caught.value.partial.records] == [1, 2]
    rest = [r["id"] async for r in conn.aiterate("list_stages", {"page_size": 2}, after="2")]
    assert rest == [3, 4, 5, 6]
    await conn.aclose()

"""Every call is one flow: driven here by hand, with no HTTP, request by request."""
from __future__ import annotations

import pytest

from conftest import FakeOutreach, stage_page
from outreach_connector.errors import InputInvalid, OutputInvalid, RateLimited, UpstreamError
from outreach_connector.wire import Reply


def finished(flow, reply: Reply):
    with pytest.raises(StopIteration) as done:
        flow.send(reply)
    return done.value.value


def params(request) -> dict[str, str]:
    return dict(request.params)


def test_a_plain_call_is_one_request_and_its_checked_output(make_connector):
    flow = make_connector(FakeOutreach()).dispatcher.start("get_stage", {"stage_id": "4"})
    request = next(flow)
    assert (request.method, request.url, request.params, request.shrinkable) == ("GET", "/stages/4", (), False)
    body = {"data": {"type": "stage", "id": 4, "attributes": {"name": "Won"}}}
    assert finished(flow, Reply(200, body=body)) is body


def test_a_plain_calls_output_is_checked_against_the_last_reply(make_connector):
    flow = make_connector(FakeOutreach(), strict_output=True).dispatcher.start("get_stage", {"stage_id": "4"})
    next(flow)
    with pytest.raises(OutputInvalid):
        flow.send(Reply(200, body={"data": {"type": "stage", "id": 4, "attributes": {"name": 5}}}))


def test_a_walk_asks_a_failed_big_page_again_smaller_from_the_same_cursor(make_connector):
    flow = make_connector(FakeOutreach()).dispatcher.start("list_stages", {"paginate": True, "page_size": 40})
    first = next(flow)
    assert (params(first), first.shrinkable) == ({"page[size]": "40"}, True)
    second = flow.send(Reply(200, body=stage_page([1, 2], "c2")))
    assert params(second) == {"page[size]": "40", "page[after]": "c2"}
    smaller = flow.throw(UpstreamError(502, []))
    assert (params(smaller), smaller.shrinkable) == ({"page[size]": "20", "page[after]": "c2"}, True)
    smallest = flow.throw(UpstreamError(504, []))
    assert (params(smallest), smallest.shrinkable) == ({"page[size]": "10", "page[after]": "c2"}, False)
    output = finished(flow, Reply(200, body=stage_page([3])))
    assert [r["id"] for r in output["data"]] == [1, 2, 3]
    assert output["meta"] == {"pages": 2, "records": 3, "truncated": False}


def test_an_error_the_walk_cannot_answer_ends_it_with_what_it_had(make_connector):
    flow = make_connector(FakeOutreach()).dispatcher.start("list_stages", {"paginate": True, "page_size": 2})
    next(flow)
    flow.send(Reply(200, body=stage_page([1, 2], "c2")))
    with pytest.raises(RateLimited) as caught:
        flow.throw(RateLimited(429, []))
    assert ([r["id"] for r in caught.value.partial.records], caught.value.partial.resume_from) == ([1, 2], "c2")


def test_a_structurally_invalid_page_ends_the_walk_before_the_next_request(make_connector):
    flow = make_connector(FakeOutreach()).dispatcher.start("list_stages", {"paginate": True, "page_size": 2})
    next(flow)
    with pytest.raises(OutputInvalid) as caught:
        flow.send(Reply(200, body={"meta": {}}))
    assert caught.value.partial.pages == 0


def test_validate_runs_every_check_of_the_flow_before_its_first_request(make_connector):
    fake = FakeOutreach()
    conn = make_connector(fake)
    conn.validate("list_accounts_ddl", {"search": "acme"})
    with pytest.raises(InputInvalid, match="page_after"):
        conn.validate("list_accounts_ddl", {"search": "acme", "page_after": "not-a-cursor-it-gave"})
    assert fake.requests == []

"""The reliability rules end to end against the sandbox: pagination under faults, writes after dropped
connections, timeouts over a real socket, and Outreach's error details reaching the caller."""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from outreach_connector import Connector
from outreach_connector.errors import (InputInvalid, NotFound, OutcomeUnknown, PermissionDenied, TransportError,
                                       UpstreamError, ValidationFailed)
from outreach_connector.pagination import RepeatedCursor
from outreach_connector.retry import RetryPolicy
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

from .conftest import SANDBOX_TOKEN, RecordingTransport, VirtualClock, virtual_connector

PROSPECTS = 1000


class PageLog(RecordingTransport):
    """Also keeps, for every list page answered 200, the query it was asked with and its ``links.next``."""

    def __init__(self, inner, rewrite=None) -> None:
        super().__init__(inner)
        self.pages: list[tuple[dict, str | None]] = []
        self.rewrite = rewrite

    def _seen(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if response.status_code == 200 and request.method == "GET":
            body = json.loads(response.content)
            if self.rewrite:
                body = self.rewrite(body)
                response = httpx.Response(200, headers={"content-type": "application/vnd.api+json"},
                                          content=json.dumps(body).encode())
            self.pages.append((parse_qs(urlsplit(str(request.url)).query), (body.get("links") or {}).get("next")))
        return response

    def handle_request(self, request):
        return self._seen(request, super().handle_request(request))

    async def handle_async_request(self, request):
        return self._seen(request, await super().handle_async_request(request))


@pytest.fixture(scope="module")
def big_org() -> Sandbox:
    return Sandbox(SandboxConfig(prospects=PROSPECTS, rate_limit=10**6))


def paged(sb: Sandbox, clock: VirtualClock, rewrite=None, retry=None):
    transport = PageLog(sb.transport(), rewrite)
    return virtual_connector(transport, clock, retry), transport


# --- pagination ---------------------------------------------------------------------------------------------

def test_pagination_follows_cursors_and_shrinks_pages_the_gateway_refuses(big_org, clock):
    big_org.faults.clear()
    rule = big_org.faults.large_page(200)
    conn, log = paged(big_org, clock)
    ids = [record["id"] for record in conn.iterate("list_prospects", {"page_size": 1000})]
    assert ids == list(range(1, PROSPECTS + 1))
    sizes = [int(query["page[size]"][0]) for query, _ in log.pages]
    assert sizes == [125] * (PROSPECTS // 125)  # 1000, 500 and 250 were refused with 502 once each
    assert rule.fired == 3 and [o.status for o in log.outcomes[:3]] == [502, 502, 502]
    for (query, _), (_, previous_next) in zip(log.pages[1:], log.pages, strict=False):
        assert "page[offset]" not in query
        assert query["page[after]"] == parse_qs(urlsplit(previous_next).query)["page[after]"]
    assert log.pages[-1][1] is None
    conn.close()


def test_pagination_streams_one_page_at_a_time(big_org, clock):
    big_org.faults.clear()
    conn, log = paged(big_org, clock)
    records = conn.iterate("list_prospects", {"page_size": 100})
    first = next(records)
    assert first["id"] == 1 and len(log.outcomes) == 1  # nothing beyond the first page was fetched
    assert sum(1 for _ in records) == PROSPECTS - 1 and len(log.outcomes) == PROSPECTS // 100
    conn.close()


@pytest.mark.anyio
async def test_async_pagination_gets_every_record_once_through_random_faults(big_org, clock):
    big_org.faults.clear()
    for status in (429, 502, 503):
        big_org.faults.status(status, probability=0.07, path="/prospects")
    big_org.faults.drop_after(probability=0.03, path="/prospects")
    conn, log = paged(big_org, clock, retry=RetryPolicy(max_attempts=8, max_total_wait=120))
    ids = [record["id"] async for record in conn.aiterate("list_prospects", {"page_size": 50})]
    assert ids == list(range(1, PROSPECTS + 1))
    kinds = log.kinds()
    assert kinds["429"] + kinds["502"] + kinds["503"] + kinds["drop-after"] > 0
    await conn.aclose()
    big_org.faults.clear()


def test_the_record_cap_stops_the_walk_and_says_so(big_org, clock):
    big_org.faults.clear()
    conn, log = paged(big_org, clock)
    out = conn.call("list_prospects", {"paginate": True, "max_records": 250, "page_size": 100})
    assert [r["id"] for r in out["data"]] == list(range(1, 251))
    assert out["meta"] == {"pages": 3, "records": 250, "truncated": True}
    assert len(log.outcomes) == 3
    conn.close()


def test_a_cursor_handed_back_again_stops_with_a_clear_error(big_org, clock):
    big_org.faults.clear()
    first_next = []

    def loop_back(body):  # a buggy server: from the third page on, "next" points at the second page again
        link = (body.get("links") or {}).get("next")
        if link and len(first_next) < 2:
            first_next.append(link)
        elif link:
            body["links"]["next"] = first_next[0]
        return body

    conn, log = paged(big_org, clock, rewrite=loop_back)
    with pytest.raises(RepeatedCursor, match="cursor of an earlier page"):
        list(conn.iterate("list_prospects", {"page_size": 100}))
    assert len(log.outcomes) == 3
    conn.close()


# --- writes after dropped connections ---------------------------------------------------------------------

def test_a_create_whose_answer_was_lost_is_outcome_unknown_and_applied_once(clock):
    sb = Sandbox(SandboxConfig(clock=clock.tick))
    sb.faults.drop_after(method="POST", path="/prospects", times=1)
    conn = virtual_connector(sb.transport(), clock)
    with pytest.raises(OutcomeUnknown):
        conn.call("create_prospect", {"attributes": {"emails": ["lost@example.test"]}})
    posts = [e for e in sb.store.write_log if e.method == "POST"]
    assert len(posts) == 1 and len([r for r in sb.requests if r.method == "POST"]) == 1
    found = conn.call("list_prospects", {"filters": [{"field": "emails", "criteria": "lost@example.test"}]})
    assert [r["id"] for r in found["data"]] == [posts[0].id]
    conn.close()


def test_a_delete_whose_answer_was_lost_is_repeated_and_reported_done(clock):
    sb = Sandbox(SandboxConfig(clock=clock.tick))
    sb.faults.drop_after(method="DELETE", times=1)
    conn = virtual_connector(sb.transport(), clock)
    assert conn.call("delete_prospect", {"prospect_id": 3}) == {"deleted": True}
    assert [r.method for r in sb.requests] == ["DELETE", "DELETE"]
    assert [e.method for e in sb.store.write_log] == ["DELETE"]
    with pytest.raises(NotFound):
        conn.call("get_prospect", {"prospect_id": 3})
    conn.close()


def test_an_update_whose_answer_was_lost_is_repeated(clock):
    sb = Sandbox(SandboxConfig(clock=clock.tick))
    sb.faults.drop_after(method="PATCH", times=1)
    conn = virtual_connector(sb.transport(), clock)
    out = conn.call("update_stage", {"stage_id": 1, "attributes": {"name": "Renamed"}})
    assert out["data"]["attributes"]["name"] == "Renamed"
    assert [r.method for r in sb.requests] == ["PATCH", "PATCH"]
    conn.close()


# --- timeouts, over a real socket ---------------------------------------------------------------------------

TIGHT = httpx.Timeout(5.0, read=0.2)


def test_a_read_timeout_on_a_get_is_retried():
    sb = Sandbox()
    sb.faults.slow(0.5, method="GET", times=1)
    with serving(sb) as base_url:
        conn = Connector(base_url=base_url, access_token=SANDBOX_TOKEN, timeout=TIGHT,
                         retry=RetryPolicy(base_delay=0.01))
        assert conn.call("get_stage", {"stage_id": 1})["data"]["id"] == 1
        conn.close()
    assert len(sb.requests) == 2


def test_a_read_timeout_on_a_create_is_outcome_unknown_and_the_create_lands_once():
    sb = Sandbox()
    sb.faults.slow(0.5, method="POST", times=1)
    with serving(sb) as base_url:
        conn = Connector(base_url=base_url, access_token=SANDBOX_TOKEN, timeout=TIGHT)
        with pytest.raises(OutcomeUnknown, match="ReadTimeout"):
            conn.call("create_stage", {"attributes": {"name": "Slow"}})
        deadline = time.monotonic() + 5
        while not sb.store.write_log and time.monotonic() < deadline:
            time.sleep(0.05)
        conn.close()
    assert [(e.method, e.type) for e in sb.store.write_log] == [("POST", "stage")]  # it did land, once
    assert len(sb.requests) == 1


def test_a_refused_connection_is_retried_then_a_transport_error():
    with serving(Sandbox()) as base_url:
        pass  # the port is closed again: connections are refused
    conn = Connector(base_url=base_url, access_token=SANDBOX_TOKEN, timeout=httpx.Timeout(2.0),
                     retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    with pytest.raises(TransportError, match="ConnectError.*gave up after 3 attempt") as caught:
        conn.call("create_stage", {"attributes": {"name": "never sent"}})
    assert type(caught.value) is TransportError  # nothing was sent: not "outcome unknown"
    conn.close()


# --- Outreach's error details reach the caller ----------------------------------------------------------

def test_every_errors_entry_reaches_the_caller(clock):
    sb = Sandbox(SandboxConfig(clock=clock.tick))
    conn = virtual_connector(sb.transport(), clock)
    conn.call("create_prospect", {"attributes": {"emails": ["taken@example.test"]}})
    with pytest.raises(ValidationFailed) as caught:
        conn.call("create_prospect", {"attributes": {"emails": ["taken@example.test"]}})
    [entry] = caught.value.errors
    assert entry["id"] == "validationError" and entry["source"] == {"pointer": "/data/attributes/emails"}
    assert f"{entry['id']} - {entry['title']} - {entry['detail']} (at /data/attributes/emails)" in str(caught.value)
    with pytest.raises(UpstreamError) as caught:
        conn.call("list_prospects", {"page_after": "not-a-cursor"})
    assert caught.value.status_code == 400 and "(at page[after])" in str(caught.value)
    assert caught.value.errors[0]["source"] == {"parameter": "page[after]"}
    conn.close()


@pytest.mark.parametrize("detail,scope", [
    pytest.param("Your authorization does not include the required scope 'prospects.read'.", "prospects.read",
                 id="documented"),
    pytest.param('Missing scope: "sequenceStates.write"', "sequenceStates.write", id="double-quotes"),
    pytest.param("required scopes: mailings.all", "mailings.all", id="bare"),
])
def test_a_missing_oauth_scope_is_named(detail, scope, clock):
    sb = Sandbox(SandboxConfig(clock=clock.tick))
    body = {"errors": [{"id": "unauthorizedOauthScope", "title": "Unauthorized OAuth Scope", "detail": detail}]}
    sb.faults.status(403, body=json.dumps(body).encode(), times=1)
    conn = virtual_connector(sb.transport(), clock)
    with pytest.raises(PermissionDenied) as caught:
        conn.call("list_prospects", {})
    assert caught.value.missing_scope == scope
    assert f"lacks the OAuth scope {scope!r}" in str(caught.value)
    assert caught.value.errors == body["errors"] and caught.value.to_dict()["errors"] == body["errors"]
    conn.close()



# --- raw HTTP input that HTTP itself cannot carry (found by fuzzing) --------------------------------------

@pytest.mark.parametrize("data,path", [
    pytest.param({"headers": [{"key": "X-Note", "value": "caf\u00e9"}]}, "headers[0].value", id="non-ascii-value"),
    pytest.param({"headers": [{"key": "X-A", "value": "a\r\nX-Injected: 1"}]}, "headers[0].value",
                 id="header-injection"),
    pytest.param({"headers": [{"key": "Bad Name", "value": "x"}]}, "headers[0].key", id="space-in-name"),
    pytest.param({"method": "POST", "body": {"binary": "not base64!"}}, "body.binary", id="bad-base64"),
])
def test_raw_http_input_http_cannot_carry_is_invalid_and_nothing_is_sent(data, path):
    sb = Sandbox()
    conn = Connector(base_url="http://sandbox.test/api/v2", access_token=SANDBOX_TOKEN, transport=sb.transport())
    with pytest.raises(InputInvalid) as caught:
        conn.call("raw_http_request", {"method": "GET", "url": {"endpoint": "/stages"}, **data})
    assert [e["path"] for e in caught.value.errors] == [path] and sb.requests == []
    conn.close()

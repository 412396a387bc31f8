"""conn.poll: events from timestamp ranges on the in-process sandbox, with an overlap and no duplicates."""
from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from outreach_connector import Connector
from outreach_connector.errors import InputInvalid
from outreach_connector.triggers import Bookmark
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.clock import SEED_EPOCH
from tests.clocks import ManualClock

BASE = "http://sandbox.test/api/v2"


@pytest.fixture
def clock() -> ManualClock:
    """The sandbox's clock, moved by the test (a late commit carries an earlier timestamp)."""
    return ManualClock(SEED_EPOCH)


@pytest.fixture
def sandbox(clock) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock))


@pytest.fixture
def conn(sandbox) -> Connector:
    with Connector(base_url=BASE, access_token="sandbox-access-token", transport=sandbox.transport(),
                   entry_points=False) as conn:
        yield conn


def create_prospect(conn: Connector, first: str) -> int:
    return conn.call("create_prospect", {"attributes": {"firstName": first, "emails": [f"{first}@poll.example"]}})[
        "data"]["id"]


def list_queries(sandbox: Sandbox, path: str) -> list[list[tuple[str, str]]]:
    return [parse_qsl(r.query) for r in sandbox.requests if r.method == "GET" and r.path == path]


def test_a_poll_lists_the_timestamp_range_oldest_first_and_returns_events(conn, sandbox, clock):
    clock.now = SEED_EPOCH + 3600
    ident = create_prospect(conn, "ada")
    events, bookmark = conn.poll("prospect_created", since="2025-01-15T09:30:00Z")
    assert [(e["resource"], e["event"], e["trigger"]) for e in events] == [
        ({"type": "prospect", "id": ident}, "prospect.created", "prospect_created")]
    event = events[0]
    assert event["occurred_at"] == "2025-01-15T10:00:00.000Z" and event["attributes"]["firstName"] == "ada"
    assert event["relationships"]["creator"] == {"type": "user", "id": 1} and event["meta"] == {"source": "poll"}
    assert event["id"] == f"poll:prospect.created:{ident}:2025-01-15T10:00:00.000Z"
    query = list_queries(sandbox, "/api/v2/prospects")[-1]
    assert ("filter[createdAt]", "2025-01-15T09:25:00.000Z..inf") in query  # since minus the 300 s overlap
    assert ("sort", "createdAt,id") in query
    assert isinstance(bookmark, str)


def test_the_bookmark_returns_nothing_twice_and_then_only_what_is_new(conn, clock):
    clock.now = SEED_EPOCH + 3600
    first = create_prospect(conn, "ada")
    events, bookmark = conn.poll("prospect_created", since="2025-01-15T09:30:00Z")
    assert [e["resource"]["id"] for e in events] == [first]
    again, bookmark = conn.poll("prospect_created", since=bookmark)
    assert again == []
    clock.now += 10
    second = create_prospect(conn, "grace")
    newer, _ = conn.poll("prospect_created", since=bookmark)
    assert [e["resource"]["id"] for e in newer] == [second]


def test_the_overlap_catches_a_late_commit_with_an_earlier_timestamp(conn, clock):
    clock.now = SEED_EPOCH + 3600
    first = create_prospect(conn, "ada")
    _, bookmark = conn.poll("prospect_created", since="2025-01-15T09:30:00Z")
    clock.now = SEED_EPOCH + 3600 - 120  # committed after the poll, stamped two minutes before its newest
    late = create_prospect(conn, "late")
    events, _ = conn.poll("prospect_created", since=bookmark)
    assert [e["resource"]["id"] for e in events] == [late]
    assert first != late


def test_a_record_updated_again_is_a_new_event(conn, clock):
    clock.now = SEED_EPOCH + 3600
    ident = create_prospect(conn, "ada")
    events, bookmark = conn.poll("prospect_updated", since="2025-01-15T09:30:00Z")
    assert [e["resource"]["id"] for e in events] == [ident]
    clock.now += 5
    conn.call("update_prospect", {"prospect_id": ident, "attributes": {"title": "CTO"}})
    events, _ = conn.poll("prospect_updated", since=bookmark)
    assert [(e["resource"]["id"], e["occurred_at"]) for e in events] == [(ident, "2025-01-15T10:00:05.000Z")]


def test_limit_bounds_a_poll_and_the_bookmark_continues(conn, clock):
    clock.now = SEED_EPOCH + 3600
    made = [create_prospect(conn, f"p{i}") for i in range(5)]  # five records with the same timestamp
    seen, bookmark = [], "2025-01-15T09:30:00Z"
    for _ in range(3):
        events, bookmark = conn.poll("prospect_created", since=bookmark, limit=2)
        seen += [e["resource"]["id"] for e in events]
    assert seen == made


def test_filters_go_to_outreach_and_the_state_is_required(conn, sandbox):
    events, _ = conn.poll("sequence_state_finished", {"sequence_id": 1})
    assert events and {e["relationships"]["sequence"]["id"] for e in events} == {1}
    assert {e["attributes"]["state"] for e in events} == {"finished"}
    query = list_queries(sandbox, "/api/v2/sequenceStates")[-1]
    assert ("filter[sequence][id]", "1") in query and ("filter[state]", "finished") in query
    assert ("filter[stateChangedAt]", "neginf..inf") in query


def test_a_webhook_only_trigger_cannot_poll_and_nothing_is_sent(conn, sandbox):
    before = len(sandbox.requests)
    with pytest.raises(InputInvalid, match="prospect_destroyed cannot be polled"):
        conn.poll("prospect_destroyed")
    assert len(sandbox.requests) == before


@pytest.mark.parametrize("input, since, path", [
    ({"sequence_id": "x"}, None, "sequence_id"),
    ({"colour": "red"}, None, "colour"),
    ({}, "not a bookmark", "since"),
    ({}, 12, "since"),
])
def test_bad_input_or_since_is_refused_by_name_and_nothing_is_sent(conn, sandbox, input, since, path):
    before = len(sandbox.requests)
    with pytest.raises(InputInvalid) as caught:
        conn.poll("sequence_state_finished", input, since=since)
    assert caught.value.errors[0]["path"] == path and len(sandbox.requests) == before


def test_a_bookmark_of_another_trigger_or_other_filters_is_refused(conn):
    _, bookmark = conn.poll("sequence_state_finished", {"sequence_id": 1}, since="2030-01-01T00:00:00Z")
    with pytest.raises(InputInvalid, match="belongs to trigger 'sequence_state_finished'"):
        conn.poll("prospect_created", since=bookmark)
    with pytest.raises(InputInvalid, match="other filters"):
        conn.poll("sequence_state_finished", {"sequence_id": 2}, since=bookmark)


def test_a_bookmark_forgets_what_is_older_than_the_overlap():
    bookmark = Bookmark("prospect_updated", None, {})
    bookmark.returned("1", "2025-01-15T09:00:00.000Z", overlap=60)
    bookmark.returned("2", "2025-01-15T09:00:30.000Z", overlap=60)
    bookmark.returned("3", "2025-01-15T09:05:00.000Z", overlap=60)
    assert bookmark.seen == {"3": "2025-01-15T09:05:00.000Z"}
    assert bookmark.lower_bound(60) == "2025-01-15T09:04:00.000Z"


def test_a_long_poll_reads_each_remembered_timestamp_a_bounded_number_of_times(monkeypatch):
    # 3,000 records a second apart under a 10-second overlap: the bookmark forgets from the front, so each
    # timestamp is parsed a few times at most (rebuilding the whole memory whenever its oldest entry aged out
    # parsed every remembered one again on every record: ~11 per record here, quadratic in the overlap).
    import outreach_connector.triggers as triggers

    parsed = []
    real = triggers.parse_time
    monkeypatch.setattr(triggers, "parse_time", lambda text: parsed.append(text) or real(text))
    bookmark = Bookmark("prospect_updated", None, {})
    for second in range(3000):
        bookmark.returned(str(second), f"2025-01-15T{9 + second // 3600:02d}:{second // 60 % 60:02d}:"
                                       f"{second % 60:02d}.000Z", overlap=10)
    assert 3000 <= len(parsed) <= 3 * 3000
    assert sorted(bookmark.seen, key=int) == [str(second) for second in range(2989, 3000)]


def test_an_older_record_after_newer_ones_is_remembered_until_it_ages_out():
    bookmark = Bookmark("prospect_updated", None, {})
    bookmark.returned("2", "2025-01-15T09:00:30.000Z", overlap=60)
    bookmark.returned("1", "2025-01-15T08:00:00.000Z", overlap=60)  # late, and already older than the overlap
    assert bookmark.already("2", "2025-01-15T09:00:30.000Z") and bookmark.already("1", "2025-01-15T08:00:00.000Z")
    assert bookmark.newest.isoformat().startswith("2025-01-15T09:00:30")
    bookmark.returned("3", "2025-01-15T09:02:00.000Z", overlap=60)  # "2" ages out, and "1" behind it
    assert bookmark.seen == {"3": "2025-01-15T09:02:00.000Z"}

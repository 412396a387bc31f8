"""The label cache's bounds (time, collection size, count) and the cursors, fed by hand or a small sandbox."""
from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from outreach_connector import Connector
from outreach_connector.errors import InputInvalid
from outreach_connector.labels import LabelCache, LabelIndex, decode_cursor, encode_cursor
from outreach_sandbox import Sandbox, SandboxConfig

from .conftest import SANDBOX_URL
from tests.clocks import ManualClock


def test_an_index_expires_after_its_ttl():
    clock = ManualClock(1000.0)
    cache = LabelCache(ttl=60, clock=clock)
    cache.put("k", LabelIndex.of([{"text": "Cold", "value": 1}], clock()))
    clock.now += 59
    assert cache.get("k") is not None
    clock.now += 1
    assert cache.get("k") is None and len(cache) == 0


def test_the_least_recently_used_index_goes_first():
    cache = LabelCache(max_indexes=2, clock=ManualClock(1000.0))
    for key in "abc":
        cache.put(key, LabelIndex.of([], 1000.0))
        if key == "b":
            cache.get("a")
    assert (cache.get("a") is not None, cache.get("b"), cache.get("c") is not None) == (True, None, True)


def test_matching_ignores_case_and_spacing():
    index = LabelIndex.of([{"text": "Yarrow  Robotics 16", "value": 1}, {"text": "Straße", "value": 2}], 0.0)
    assert [o["value"] for o in index.matches("ROW robotics")] == [1]
    assert [o["value"] for o in index.matches("strasse")] == [2]


def test_cursors_round_trip_and_refuse_strangers():
    assert decode_cursor(encode_cursor({"q": ["abc", None]})) == {"q": ["abc", None]}
    assert decode_cursor("abc") is None
    assert decode_cursor("ddl1.!!!") is None


def test_a_collection_over_the_bound_is_not_read_into_memory():
    org = Sandbox(SandboxConfig(accounts=30))
    with Connector(base_url=SANDBOX_URL, access_token="sandbox-access-token", transport=org.transport()) as conn:
        conn.labels.bound = 20
        answer = conn.call("list_accounts_ddl", {"search": org.store.get("account", 7).attributes["name"].lower()})
    sent = [dict(parse_qsl(r.query)) for r in org.requests]
    assert sent[0] == {"page[size]": "1", "count": "true", "fields[account]": "name"}
    assert all(q["page[size]"] == "100" and "filter[name]" in q or "filter[domain]" in q for q in sent[1:])
    assert 7 in {o["value"] for o in answer["result"]}


def test_the_sessions_own_write_shows_in_its_next_search():
    org = Sandbox(SandboxConfig(accounts=30))
    with Connector(base_url=SANDBOX_URL, access_token="sandbox-access-token", transport=org.transport()) as conn:
        assert conn.call("list_accounts_ddl", {"search": "quokka"})["result"] == []
        created = conn.call("create_account", {"attributes": {"name": "Zebra Quokka Holdings"}})
        answer = conn.call("list_accounts_ddl", {"search": "quokka"})
    assert answer["result"] == [{"text": "Zebra Quokka Holdings", "value": created["data"]["id"]}]


def test_a_cursor_of_the_right_tag_but_the_wrong_shape_is_refused():
    org = Sandbox(SandboxConfig())
    with Connector(base_url=SANDBOX_URL, access_token="sandbox-access-token", transport=org.transport()) as conn:
        for state in ({"o": "ten"}, {"o": -1}, {"a": 5}, {"q": [1]}):
            with pytest.raises(InputInvalid):
                conn.call("list_accounts_ddl", {"search": "x" if "a" not in state else "", "page_after":
                                                encode_cursor(state)})
    assert org.requests == []

"""DDL behaviours through the Python API against a sandbox org of 3,000 accounts and 20,000 prospects."""
from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from outreach_connector.errors import InputInvalid

from .conftest import ACCOUNTS, session


def sent_since(org, start: int) -> list[tuple[str, dict[str, str]]]:
    return [(r.path, dict(parse_qsl(r.query))) for r in org.requests[start:]]


def every_page(conn, name: str, data: dict) -> list[dict]:
    options, cursor = [], None
    while True:
        answer = conn.call(name, {**data, **({"page_after": cursor} if cursor else {})})
        options += answer["result"]
        cursor = answer["next_page_after"]
        if cursor is None:
            return options


def test_paging_reaches_every_account_once(conn):
    options = every_page(conn, "list_accounts_ddl", {})
    assert len(options) == ACCOUNTS
    assert {o["value"] for o in options} == set(range(1, ACCOUNTS + 1))
    assert [o["text"] for o in options] == sorted(o["text"] for o in options)  # the DDL's order: by name


def test_account_search_ignores_case_and_matches_inside_the_name(conn, org):
    answer = conn.call("list_accounts_ddl", {"search": "rrow robotics 16"})
    assert answer == {"result": [{"text": "Yarrow Robotics 16", "value": 2999}], "next_page_after": None}
    assert org.store.get("account", 2999).attributes["name"] == "Yarrow Robotics 16"


def test_a_warm_search_sends_nothing_and_a_cold_one_reads_sparse_pages(conn, org):
    start = len(org.requests)
    conn.call("list_accounts_ddl", {"search": "robotics"})
    cold = sent_since(org, start)
    assert cold[0] == ("/api/v2/accounts", {"page[size]": "1", "count": "true", "fields[account]": "name"})
    assert [q["page[size]"] for _, q in cold[1:]] == ["1000"] * 3
    assert all(q["fields[account]"] == "name" for _, q in cold)
    start = len(org.requests)
    conn.call("list_accounts_ddl", {"search": "LABS"})
    assert sent_since(org, start) == []


def test_search_pages_cover_every_match_once(conn):
    options = every_page(conn, "list_accounts_ddl", {"search": "Robotics"})
    assert len(options) > 100  # more than one page
    assert len({o["value"] for o in options}) == len(options)
    assert all("robotics" in o["text"].lower() for o in options)


def test_stage_search_ignores_case(conn):
    assert conn.call("list_stages_ddl", {"search": "cold"})["result"] == [{"text": "Cold", "value": 1}]


@pytest.mark.parametrize("search", [
    pytest.param("arjun patel", id="lower-case-full-name"),
    pytest.param("ARJUN.PATEL6@ironbarkrobotics14.example", id="email-any-case"),
    pytest.param("patel", id="last-name"),
])
def test_prospect_search_beyond_the_index_uses_outreachs_exact_filters(conn, org, search):
    start = len(org.requests)
    answer = conn.call("list_prospects_ddl", {"search": search})
    assert {"text": "Arjun Patel <arjun.patel6@ironbarkrobotics14.example>", "value": 19999} in answer["result"]
    sent = sent_since(org, start)
    assert sent[0][1]["page[size]"] == "1"  # the probe: 20,000 is over the bound, no label page is read
    assert all(int(q["page[size]"]) <= 100 for _, q in sent)
    assert all(key.startswith("filter[") and key[7:-1] in ("emails", "firstName", "lastName")
               for _, q in sent[1:] for key in q if key.startswith("filter["))


def test_prospect_search_pages_through_one_last_name(conn):
    options = every_page(conn, "list_prospects_ddl", {"search": "Patel"})
    assert len(options) > 100
    assert len({o["value"] for o in options}) == len(options)
    assert all("patel" in o["text"].lower() for o in options)


def test_saved_values_come_back_labelled_in_the_order_asked(conn):
    answer = conn.call("list_prospects_ddl", {"value": [19999, "3", 99999999]})
    assert answer == {"result": [
        {"text": "Arjun Patel <arjun.patel6@ironbarkrobotics14.example>", "value": 19999},
        {"text": "Jasper Lindqvist <jasper.lindqvist@emberlinerobotics16.example>", "value": 3}],
        "next_page_after": None}
    assert conn.call("list_accounts_ddl", {"value": 2999})["result"] == [{"text": "Yarrow Robotics 16", "value": 2999}]


@pytest.mark.parametrize("name,data,child,relationship,parent", [
    pytest.param("list_prospects_ddl", {"account_id": 2600}, "prospect", "account", 2600, id="prospects-of-account"),
    pytest.param("list_opportunities_ddl", {"account_id": 2302}, "opportunity", "account", 2302,
                 id="opportunities-of-account"),
    pytest.param("list_phone_numbers_ddl", {"prospect_id": 19999}, "phoneNumber", "prospect", 19999,
                 id="phones-of-prospect"),
    pytest.param("list_sequence_steps_ddl", {"sequence_id": 2}, "sequenceStep", "sequence", 2, id="steps-of-sequence"),
    pytest.param("list_sequence_states_ddl", {"sequence_id": "1"}, "sequenceState", "sequence", 1,
                 id="states-of-sequence"),
    pytest.param("list_sequence_states_ddl", {"prospect_id": 6}, "sequenceState", "prospect", 6,
                 id="states-of-prospect"),
    pytest.param("list_mailboxes_ddl", {"user_id": 3}, "mailbox", "user", 3, id="mailboxes-of-user"),
])
def test_parent_filters_narrow_to_the_parents_records(conn, org, name, data, child, relationship, parent):
    expected = {r.id for r in org.store.records(child) if r.ref_id(relationship) == parent} if child != "prospect" \
        else set(org.store.related_ids("prospect", "account", "account", parent))
    assert expected
    assert {o["value"] for o in every_page(conn, name, data)} == expected


def test_parent_and_search_together(conn, org):
    names = {org.store.get("prospect", i).attributes["firstName"]
             for i in org.store.related_ids("prospect", "account", "account", 2600)}
    first = sorted(names)[0]
    answer = conn.call("list_prospects_ddl", {"account_id": 2600, "search": first[1:].upper()})
    assert answer["result"] and all(first.lower() in o["text"].lower() for o in answer["result"])
    assert {o["value"] for o in answer["result"]} <= set(org.store.related_ids("prospect", "account", "account", 2600))


def test_labels_belong_to_one_session(org):
    with session(org) as first, session(org) as second:
        first.call("list_stages_ddl", {"search": "cold"})
        start = len(org.requests)
        second.call("list_stages_ddl", {"search": "cold"})
        assert len(org.requests) > start  # the second credential reads its own labels


@pytest.mark.parametrize("page_after", [
    pytest.param("not-a-cursor", id="foreign"),
    pytest.param("ddl1.eyJvIjoxMDB9", id="index-cursor-on-a-plain-page"),
])
def test_a_cursor_the_dropdown_did_not_give_is_refused_before_sending(conn, org, page_after):
    start = len(org.requests)
    with pytest.raises(InputInvalid) as caught:
        conn.call("list_stages_ddl", {"page_after": page_after})
    assert [e["path"] for e in caught.value.errors] == ["page_after"]
    assert len(org.requests) == start


@pytest.mark.anyio
async def test_async_calls_share_the_flow(org):
    async with session(org) as conn:
        answer = await conn.acall("list_accounts_ddl", {"search": "YARROW ROBOTICS 16"})
        assert answer["result"] == [{"text": "Yarrow Robotics 16", "value": 2999}]

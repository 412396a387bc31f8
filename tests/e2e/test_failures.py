"""Outreach-side failures through the connector and the sandbox: 404, 422, 415-free writes, 429 then success."""
from __future__ import annotations

import pytest

from outreach_connector.errors import NotFound, RateLimited, ValidationFailed


def test_404_for_a_missing_record(sandbox_connector):
    with pytest.raises(NotFound) as caught:
        sandbox_connector.call("get_prospect", {"prospect_id": 999999})
    assert caught.value.errors == [{"id": "resourceNotFound", "title": "Resource Not Found",
                                    "detail": "Could not find 'prospect' with ID '999999'."}]


def test_422_for_a_prospect_already_in_the_sequence(sandbox_connector):
    with pytest.raises(ValidationFailed) as caught:  # seeded: prospect 1 is active in sequence 1
        sandbox_connector.call("add_prospect_to_sequence", {"prospect_id": 1, "sequence_id": 1, "mailbox_id": 1})
    assert caught.value.status_code == 422
    assert caught.value.errors[0]["id"] == "validationError"
    assert "source" in caught.value.errors[0]


def test_422_for_a_duplicate_prospect_email(sandbox_connector):
    taken = sandbox_connector.call("get_prospect", {"prospect_id": 1})["data"]["attributes"]["emails"]
    with pytest.raises(ValidationFailed) as caught:
        sandbox_connector.call("create_prospect", {"attributes": {"emails": taken}})
    assert caught.value.errors[0]["source"]["pointer"].startswith("/data/attributes/emails")


def test_422_when_an_action_does_not_fit_the_state(sandbox_connector):
    sandbox_connector.call("set_sequence_state_action", {"sequence_state_id": 1, "action": "pause"})
    with pytest.raises(ValidationFailed):
        sandbox_connector.call("set_sequence_state_action", {"sequence_state_id": 1, "action": "pause"})


def test_429_then_success(sandbox, sandbox_connector):
    rule = sandbox.faults.status(429, times=2, path="/stages", retry_after=0)
    out = sandbox_connector.call("list_stages", {"page_size": 2})
    assert len(out["data"]) == 2 and rule.fired == 2


def test_429_beyond_the_budget_is_rate_limited(sandbox, sandbox_connector):
    sandbox.faults.status(429, times=10, path="/stages", retry_after=3600)
    with pytest.raises(RateLimited) as caught:
        sandbox_connector.call("list_stages", {})
    assert caught.value.retry_after == 3600


def test_a_create_dropped_after_commit_is_not_repeated(sandbox, sandbox_connector):
    from outreach_connector.errors import OutcomeUnknown

    sandbox.faults.drop_after(method="POST", path="/stages", times=1)
    before = sandbox.store.count("stage")
    with pytest.raises(OutcomeUnknown):
        sandbox_connector.call("create_stage", {"attributes": {"name": "Once only"}})
    assert sandbox.store.count("stage") == before + 1  # applied once, and only once


def test_auto_pagination_walks_the_whole_collection(sandbox_connector):
    out = sandbox_connector.call("list_prospects", {"paginate": True, "page_size": 7, "fields": ["lastName"]})
    assert [r["id"] for r in out["data"]] == list(range(1, 41))
    assert out["meta"] == {"pages": 6, "records": 40, "truncated": False}


def test_auto_pagination_shrinks_pages_the_sandbox_refuses(sandbox, sandbox_connector):
    sandbox.faults.large_page(10)
    ids = [r["id"] for r in sandbox_connector.iterate("list_prospects", {"page_size": 40})]
    assert ids == list(range(1, 41))

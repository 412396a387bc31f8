"""Bulk actions (kind collection_action) and the mailbox EWS link actions, through the connector."""
from __future__ import annotations

import httpx
import pytest

from conftest import FakeOutreach, jsonapi
from outreach_connector.errors import InputInvalid, OutcomeUnknown, OutputInvalid

BATCH = {"data": {"type": "batch", "id": 9, "attributes": {"action": "prospectsAddTags", "state": "pending"}}}


def test_a_dropped_connection_after_a_bulk_action_is_outcome_unknown_and_not_retried(make_connector):
    def drop(request):
        raise httpx.RemoteProtocolError("server disconnected", request=request)

    fake = FakeOutreach(drop)
    with pytest.raises(OutcomeUnknown, match="may or may not have applied"):
        make_connector(fake).call("batch_prospects_add_tags", {"attributes": {"ids": [1], "tags": ["x"]}})
    assert len(fake.requests) == 1  # each call makes a batch: a blind retry could make two


@pytest.mark.parametrize("data", [
    {"attributes": {"tags": ["x"]}},  # Outreach would tag every prospect
    {"action_params": {"skipConfirmation": True}},
    {},
])
def test_a_bulk_action_without_ids_or_a_filter_is_refused_before_sending(make_connector, data):
    with pytest.raises(InputInvalid):
        make_connector(FakeOutreach()).call("batch_prospects_add_tags", data)


@pytest.mark.parametrize("data, field", [
    ({"attributes": {"ids": []}}, "ids"),
    ({"attributes": {"ids": [1], "color": "red"}}, "color"),  # only BulkModify takes free attributes
    ({"attributes": {"ids": [1]}}, "objectName"),
    ({"attributes": {"ids": [1], "tags": []}}, "tags"),  # what the action adds is required, and not empty
])
def test_bad_bulk_input_names_the_field(make_connector, data, field):
    name = {"objectName": "batch_custom_object_bulk_delete", "tags": "batch_prospects_add_tags"}.get(
        field, "batch_prospects_destroy_all")
    with pytest.raises(InputInvalid, match=field):
        make_connector(FakeOutreach()).call(name, data)


def test_a_bulk_action_answers_the_batch_document(make_connector):
    fake = FakeOutreach(lambda r: jsonapi(200, BATCH))
    assert make_connector(fake).call("batch_prospects_add_tags", {"attributes": {"ids": [1], "tags": ["x"]}}) == BATCH


@pytest.mark.parametrize("answer", [{}, {"data": {"type": "mailbox", "id": 2}}])
def test_ews_link_accepts_the_empty_object_and_the_mailbox(make_connector, answer):
    fake = FakeOutreach(lambda r: jsonapi(200, answer))
    out = make_connector(fake, strict_output=True).call("set_mailbox_action",
                                                         {"mailbox_id": 2, "action": "unlinkEwsMasterAccount"})
    assert out == answer


def test_an_action_answer_that_is_neither_is_still_refused(make_connector):
    fake = FakeOutreach(lambda r: jsonapi(200, {"ok": True}))
    with pytest.raises(OutputInvalid):
        make_connector(fake, strict_output=True).call("set_mailbox_action", {"mailbox_id": 2, "action": "testSend"})


@pytest.mark.parametrize("operation, member, ddl", [
    ("batch_prospects_assign_owner", "ownerId", "list_users_ddl"),
    ("batch_accounts_assign_owner", "ownerId", "list_users_ddl"),
    ("batch_prospects_add_to_sequence", "sequenceId", "list_sequences_ddl"),
    ("batch_prospects_add_to_sequence", "mailboxId", "list_mailboxes_ddl"),
    ("batch_prospects_assign_account", "accountId", "list_accounts_ddl"),
    ("batch_prospects_assign_opportunity", "opportunityId", "list_opportunities_ddl"),
])
def test_a_bulk_action_offers_the_dropdown_of_the_record_it_names(operation, member, ddl):
    from outreach_connector import connector

    schema = connector.describe(operation)["input_schema"]
    assert schema["properties"]["attributes"]["properties"][member]["lookup"] == {"operation": ddl, "input": {}}

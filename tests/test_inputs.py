"""Bad input is refused with every offending field named, and no request leaves the process."""
from __future__ import annotations

import json

import pytest

from conftest import FakeOutreach
from outreach_connector.errors import InputInvalid, UnknownOperation

CASES = [
    pytest.param("list_prospects", {"page_size": 0}, [("page_size", "less than the minimum")], id="page-size-0"),
    pytest.param("list_prospects", {"page_size": 1001}, [("page_size", "greater than the maximum")],
                 id="page-size-1001"),
    pytest.param("list_prospects", {"page_size": "10"}, [("page_size", "not of type")], id="page-size-string"),
    pytest.param("list_prospects", {"filters": [{"field": "shoeSize", "criteria": 1}]},
                 [("filters[0].field", "is not one of")], id="unknown-filter-field"),
    pytest.param("list_prospects", {"sort": {"sort_by": "shoeSize"}}, [("sort.sort_by", "is not one of")],
                 id="unknown-sort-field"),
    pytest.param("list_prospects", {"sort": {"sort_by": "id", "sort_direction": "up"}},
                 [("sort.sort_direction", "is not one of")], id="bad-sort-direction"),
    pytest.param("list_prospects", {"fields": ["firstName", "firstName"]}, [("fields", "non-unique")],
                 id="duplicate-fields"),
    pytest.param("list_prospects", {"pageSize": 5}, [("pageSize", "unknown field")], id="unknown-key"),
    pytest.param("get_stage", {}, [("stage_id", "required field is missing")], id="missing-id"),
    pytest.param("get_stage", {"stage_id": "12a"}, [("stage_id", "is not a positive whole number")],
                 id="non-numeric-id"),
    pytest.param("get_stage", {"stage_id": -3}, [("stage_id", "less than the minimum")], id="negative-id"),
    pytest.param("update_stage", {"stage_id": 1}, [("input", "")], id="update-with-nothing"),
    pytest.param("create_prospect", {"attributes": {"createdAt": "2020-01-01", "firstName": 5, "custom1": "ok",
                                                     "favouriteColour": "red"}},
                 [("attributes.createdAt", "read-only"), ("attributes.favouriteColour", "unknown field"),
                  ("attributes.firstName", "not of type")], id="read-only-unknown-wrong-type"),
    pytest.param("create_prospect", {"relationships": {"creator": 1}},
                 [("relationships.creator", "read-only")], id="read-only-relationship"),
    pytest.param("create_account", {"attributes": {"name": "x" * 256}}, [("attributes.name", "longer than")],
                 id="too-long"),
    pytest.param("create_sequence_state", {"relationships": {"prospect": 1}},
                 [("relationships.sequence", "required"), ("relationships.mailbox", "required")],
                 id="missing-required-relationships"),
    pytest.param("set_task_action", {"task_id": 1, "action": "explode"}, [("action", "is not one of")],
                 id="unknown-action"),
    pytest.param("set_task_action", {"task_id": 1, "action": "updateNote", "action_params": {"dueAt": "x"}},
                 [("action_params.note", "required"), ("action_params.dueAt", "unknown field")],
                 id="param-of-another-action"),
    pytest.param("create_compliance_request", {"requester_email": "a@b.c", "request_type": "Export",
                                               "object_type": "Prospect"},
                 [("request_type", "is not one of"), ("request_object_email", "required")],
                 id="compliance-request"),
    pytest.param("raw_http_request", {"method": "TRACE", "url": {"endpoint": "/x"}},
                 [("method", "is not one of")], id="raw-method"),
    pytest.param("list_users_ddl", {"q": "x"}, [("q", "unknown field")], id="ddl-unknown-key"),
    pytest.param("list_prospects", [], [("input", "not of type")], id="not-an-object"),
    pytest.param("create_account", {"attributes": {"name": "a\ud800", "domain": "\udfffb"}},
                 [("attributes.name", "lone surrogate"), ("attributes.domain", "lone surrogate")],
                 id="lone-surrogates"),
    pytest.param("create_account", {"attributes": {"\ud800": 1}}, [("attributes.?", "lone surrogate")],
                 id="lone-surrogate-key"),
]


@pytest.mark.parametrize("operation,data,expected", CASES)
def test_invalid_input_names_every_field_and_sends_nothing(operation, data, expected, make_connector):
    fake = FakeOutreach()  # fails the test on any request
    with pytest.raises(InputInvalid) as caught:
        make_connector(fake).call(operation, data)
    found = caught.value.errors
    for path, fragment in expected:
        assert any(e["path"] == path and fragment in e["message"] for e in found), (path, fragment, found)
    assert fake.requests == []


def test_custom_fields_are_real_attributes(make_connector):
    from conftest import jsonapi

    fake = FakeOutreach(lambda r: jsonapi(201, {"data": {"type": "prospect", "id": 1}}))
    make_connector(fake).call("create_prospect", {"attributes": {"custom1": "a", "custom150": "z"}})
    assert len(fake.requests) == 1


def test_an_unknown_operation_is_refused(make_connector):
    with pytest.raises(UnknownOperation, match="'list_widgets'"):
        make_connector(FakeOutreach()).call("list_widgets", {})


def test_a_surrogate_pair_is_ordinary_text(make_connector):
    from conftest import jsonapi

    fake = FakeOutreach(lambda r: jsonapi(201, {"data": {"type": "account", "id": 1}}))
    name = json.loads('"\\ud83d\\ude00"')  # a pair in JSON is one character (an emoji)
    make_connector(fake).call("create_account", {"attributes": {"name": name}})
    assert "\U0001f600" in fake.requests[0].content.decode()

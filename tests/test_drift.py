"""Output drift: a mistyped attribute is reported and the record returned as sent; structure still raises."""
from __future__ import annotations

import logging

import pytest

from conftest import FakeOutreach, jsonapi
from outreach_connector.drift import DriftReport
from outreach_connector.errors import OutputInvalid

STAGE = {"type": "stage", "id": 7, "attributes": {"name": 42, "order": 1}}  # name is a string in the schema


def answering(body: dict) -> FakeOutreach:
    return FakeOutreach(lambda request: jsonapi(200, body))


def test_lenient_default_returns_the_record_as_sent_and_reports_it(make_connector, caplog):
    reports: list[DriftReport] = []
    conn = make_connector(answering({"data": STAGE}), on_drift=reports.append)
    with caplog.at_level(logging.WARNING, logger="outreach_connector.drift"):
        first = conn.call("get_stage", {"stage_id": 7})
        conn.call("get_stage", {"stage_id": 7})
    assert first == {"data": STAGE}
    assert reports == [DriftReport(operation="get_stage", attribute_path="attributes.name",
                                   path="data.attributes.name", record_type="stage", record_id=7,
                                   message=reports[0].message, value=42)] * 2
    assert "42" in reports[0].message
    assert conn.drift_counts == {("get_stage", "attributes.name"): 2}
    assert [r.getMessage() for r in caplog.records] == [
        "get_stage: Outreach sent attributes.name as integer, which its output schema does not allow; the "
        "record is returned as sent (further drift on this path is counted, not logged)"]


def test_drift_in_a_list_is_counted_per_record_and_logged_once(make_connector, caplog):
    second = {**STAGE, "id": 8, "attributes": {"name": ["a"]}}
    conn = make_connector(answering({"data": [STAGE, second], "links": {}, "meta": {}}))
    with caplog.at_level(logging.WARNING, logger="outreach_connector.drift"):
        output = conn.call("list_stages", {})
    assert [r["attributes"]["name"] for r in output["data"]] == [42, ["a"]]
    assert conn.drift_counts == {("list_stages", "attributes.name"): 2}
    assert len(caplog.records) == 1


def test_the_log_line_never_carries_the_value(make_connector, caplog):
    secret = {**STAGE, "attributes": {"name": {"email": "jane@example.com"}}}
    conn = make_connector(answering({"data": secret}))
    with caplog.at_level(logging.WARNING, logger="outreach_connector.drift"):
        conn.call("get_stage", {"stage_id": 7})
    assert "jane@example.com" not in caplog.text and "as object" in caplog.text


def test_strict_output_raises_on_drift_and_reports_nothing(make_connector):
    reports: list[DriftReport] = []
    conn = make_connector(answering({"data": STAGE}), strict_output=True, on_drift=reports.append)
    with pytest.raises(OutputInvalid) as caught:
        conn.call("get_stage", {"stage_id": 7})
    assert [e["path"] for e in caught.value.errors] == ["data.attributes.name"]
    assert caught.value.raw == {"data": STAGE}
    assert reports == [] and conn.drift_counts == {}


@pytest.mark.parametrize("body,path", [
    pytest.param({"meta": {}}, "data", id="no-data"),
    pytest.param({"data": {**STAGE, "type": "prospect"}}, "data.type", id="wrong-type"),
    pytest.param({"data": {"type": "stage", "attributes": {}}}, "data.id", id="no-id"),
    pytest.param({"data": [STAGE]}, "data", id="list-for-one-record"),
    pytest.param({"data": {**STAGE, "attributes": []}}, "data.attributes", id="attributes-not-an-object"),
    pytest.param({"data": {**STAGE, "relationships": {"x": 5}}}, "data.relationships.x", id="bad-relationship"),
])
def test_structural_violations_raise_even_when_lenient(make_connector, body, path):
    reports: list[DriftReport] = []
    conn = make_connector(answering(body), on_drift=reports.append)
    with pytest.raises(OutputInvalid) as caught:
        conn.call("get_stage", {"stage_id": 7})
    assert path in [e["path"] for e in caught.value.errors]
    assert reports == [] and conn.drift_counts == {}


def test_structure_and_drift_together_raise_with_every_problem(make_connector):
    conn = make_connector(answering({"data": {"type": "stage", "attributes": {"name": 42}}}))
    with pytest.raises(OutputInvalid) as caught:
        conn.call("get_stage", {"stage_id": 7})
    assert sorted(e["path"] for e in caught.value.errors) == ["data.attributes.name", "data.id"]
    assert conn.drift_counts == {}

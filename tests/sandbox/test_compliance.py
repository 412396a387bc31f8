"""The non-standard compliance-request endpoint."""
from __future__ import annotations

import re

import pytest

REQUEST = {"requester_email": "john.doe@example.com", "request_type": "Delete", "object_type": "Prospect",
           "request_object_email": "jane.smith@company.com"}


def post(client, attributes: dict):
    return client.post("/complianceRequests", json={"data": {"type": "complianceRequest", "attributes": attributes}})


def test_create_answers_with_the_batch_id_and_stores_a_camel_case_record(sb, client):
    prospect = client.get("/prospects/2").json()["data"]["attributes"]["emails"][0]
    admin = client.get("/users/1").json()["data"]["attributes"]["email"]
    response = post(client, {**REQUEST, "requester_email": admin, "request_object_email": prospect})
    assert response.status_code == 201
    batch = response.json()["data"]["batch_compliance_request_id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", batch)
    assert response.json() == {"data": {"batch_compliance_request_id": batch}}
    stored = client.get("/complianceRequests", params={"filter[state]": "pending"}).json()["data"]
    assert len(stored) == 1
    record = client.get(f"/complianceRequests/{stored[0]['id']}").json()["data"]
    assert record["attributes"] | {"uuid": None, "createdAt": None, "updatedAt": None} == {
        "batchComplianceRequestUuid": batch, "objectType": "Prospect", "pii": {"email": prospect},
        "requestObjectId": "2", "requestType": "Delete", "requesterId": 1, "state": "pending",
        "uuid": None, "createdAt": None, "updatedAt": None}
    assert record["relationships"]["requester"] == {"data": {"type": "user", "id": 1}}
    assert sb.store.write_log[-1].type == "complianceRequest"


def test_recipient_requests_record_the_address(client):
    response = post(client, {**REQUEST, "object_type": "Recipient"})
    assert response.status_code == 201
    record = client.get("/complianceRequests", params={"filter[state]": "pending"}).json()["data"][0]
    assert record["attributes"]["requestObjectId"] == "jane.smith@company.com"
    assert record["relationships"]["requester"] == {"data": None}  # not an Outreach user of this org


@pytest.mark.parametrize(("change", "pointer"), [
    pytest.param({"request_type": "Export"}, "/data/attributes/request_type", id="only-delete"),
    pytest.param({"object_type": "Account"}, "/data/attributes/object_type", id="object-type"),
    pytest.param({"requester_email": "not-an-email"}, "/data/attributes/requester_email", id="requester-email"),
    pytest.param({"request_object_email": None}, "/data/attributes/request_object_email", id="missing-email"),
    pytest.param({"surprise": "x"}, "/data/attributes/surprise", id="unknown-attribute"),
])
def test_invalid_requests_are_422(client, change, pointer):
    response = post(client, {**REQUEST, **change})
    assert response.status_code == 422
    assert [e["source"]["pointer"] for e in response.json()["errors"]] == [pointer]


def test_every_missing_field_is_reported(client):
    response = post(client, {})
    assert [e["source"]["pointer"] for e in response.json()["errors"]] == [
        f"/data/attributes/{name}" for name in REQUEST]


def test_no_update_or_delete(client):
    assert client.delete("/complianceRequests/1").status_code == 405
    body = {"data": {"type": "complianceRequest", "id": 1}}
    assert client.patch("/complianceRequests/1", json=body).status_code == 405

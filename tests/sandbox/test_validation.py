"""Write validation: exact 400/403/409/422 answers, each problem located by source.pointer."""
from __future__ import annotations

import pytest

from .conftest import doc


def errors(response) -> list[tuple[str, str]]:
    return [(e["source"]["pointer"], e["detail"]) for e in response.json()["errors"]]


STATE_RELS = {"prospect": ("prospect", 3), "sequence": ("sequence", 5), "mailbox": ("mailbox", 1)}

CASES = [
    pytest.param("/prospects", doc("prospect", {"favouriteColour": "blue"}),
                 [("/data/attributes/favouriteColour", "Unknown attribute 'favouriteColour' for prospect.")],
                 id="unknown-attribute"),
    pytest.param("/prospects", doc("prospect", {"createdAt": "2024-01-01T00:00:00Z"}),
                 [("/data/attributes/createdAt", "Created at is read-only.")], id="read-only-attribute"),
    pytest.param("/prospects", doc("prospect", {"firstName": 42}),
                 [("/data/attributes/firstName", "First name must be string.")], id="wrong-json-type"),
    pytest.param("/prospects", doc("prospect", {"score": True}),
                 [("/data/attributes/score", "Score must be number.")], id="boolean-is-not-a-number"),
    pytest.param("/prospects", doc("prospect", {"emails": ["a@x.example", 3]}),
                 [("/data/attributes/emails", "Emails must be an array of strings.")], id="array-items"),
    pytest.param("/prospects", doc("prospect", {"firstName": "x" * 256}),
                 [("/data/attributes/firstName", "First name is too long (maximum is 255 characters).")],
                 id="too-long"),
    pytest.param("/prospects", doc("prospect", {"availableAt": "next tuesday"}),
                 [("/data/attributes/availableAt", "Available at is not an ISO-8601 date-time.")], id="bad-datetime"),
    pytest.param("/prospects", doc("prospect", {"dateOfBirth": "1990-13-01"}),
                 [("/data/attributes/dateOfBirth", "Date of birth is not a date (YYYY-MM-DD).")], id="bad-date"),
    pytest.param("/prospects", doc("prospect", {}, {"owner": ("user", 999)}),
                 [("/data/relationships/owner", "Owner refers to user 999, which does not exist.")],
                 id="missing-target"),
    pytest.param("/prospects", doc("prospect", {}, {"owner": ("account", 1)}),
                 [("/data/relationships/owner/data/type", "Owner must be of type user.")], id="wrong-target-type"),
    pytest.param("/prospects", doc("prospect", {}, {"creator": ("user", 1)}),
                 [("/data/relationships/creator", "Creator is read-only.")], id="read-only-relationship"),
    pytest.param("/prospects", {"data": {"type": "prospect", "relationships": {
                     "phoneNumbers": {"data": [{"type": "phoneNumber", "id": 1}]}}}},
                 [("/data/relationships/phoneNumbers", "Phone numbers follows phoneNumber.prospect: set it there.")],
                 id="derived-to-many"),
    pytest.param("/prospects", doc("prospect", {}, {"bestFriend": ("prospect", 1)}),
                 [("/data/relationships/bestFriend", "Unknown relationship 'bestFriend' for prospect.")],
                 id="unknown-relationship"),
    pytest.param("/prospects", {"data": {"type": "prospect", "relationships": {"owner": {"id": 1}}}},
                 [("/data/relationships/owner", "Owner must be an object with 'data'.")], id="malformed-relationship"),
    pytest.param("/prospects", {"data": {"type": "prospect", "relationships": {
                     "owner": {"data": {"type": "user", "id": "one"}}}}},
                 [("/data/relationships/owner/data/id", "Owner id must be an integer.")], id="non-integer-id"),
    pytest.param("/sequenceStates", doc("sequenceState", {}, {}),
                 [("/data/relationships/prospect", "Prospect can't be blank."),
                  ("/data/relationships/sequence", "Sequence can't be blank."),
                  ("/data/relationships/mailbox", "Mailbox can't be blank.")], id="sequence-state-required"),
    pytest.param("/accounts", doc("account", {"domain": "x.example"}),
                 [("/data/attributes/name", "Name can't be blank.")], id="account-name-required"),
    pytest.param("/tasks", doc("task", {"note": "hi"}),
                 [("/data/attributes/action", "Action can't be blank."),
                  ("/data/relationships/owner", "Owner can't be blank."),
                  ("/data/relationships/subject", "Subject can't be blank.")], id="task-required"),
    pytest.param("/opportunityProspectRoles", doc("opportunityProspectRole", {"role": "Champion"},
                                                  {"opportunity": ("opportunity", 1)}),
                 [("/data/relationships/prospect", "Prospect can't be blank.")], id="role-needs-prospect"),
]


@pytest.mark.parametrize(("path", "body", "expected"), CASES)
def test_invalid_create_is_422_with_pointers(sb, client, path, body, expected):
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert errors(response) == expected
    assert all(e["id"] == "validationError" and e["title"] == "Validation Error" for e in response.json()["errors"])
    assert sb.store.write_log == []


def test_every_problem_is_reported_at_once(client):
    body = doc("prospect", {"nope": 1, "firstName": 5}, {"owner": ("user", 999)})
    assert [p for p, _ in errors(client.post("/prospects", json=body))] == [
        "/data/attributes/nope", "/data/attributes/firstName", "/data/relationships/owner"]


def test_duplicate_prospect_email_is_422(client):
    taken = client.get("/prospects/4").json()["data"]["attributes"]["emails"][0]
    response = client.post("/prospects", json=doc("prospect", {"emails": [taken.upper()]}))
    assert response.status_code == 422
    assert errors(response) == [("/data/attributes/emails", f"Email '{taken}' is already taken by prospect 4.")]
    other = client.patch("/prospects/5", json=doc("prospect", {"emails": [taken]}, ident=5))
    assert other.status_code == 422
    assert client.patch("/prospects/4", json=doc("prospect", {"emails": [taken]}, ident=4)).status_code == 200


def test_email_frees_up_when_changed_or_deleted(client):
    moved = client.get("/prospects/4").json()["data"]["attributes"]["emails"][0]
    deleted = client.get("/prospects/6").json()["data"]["attributes"]["emails"][0]
    client.patch("/prospects/4", json=doc("prospect", {"emails": ["moved@x.example"]}, ident=4))
    client.delete("/prospects/6")
    assert client.post("/prospects", json=doc("prospect", {"emails": [moved]})).status_code == 201
    assert client.post("/prospects", json=doc("prospect", {"emails": [deleted]})).status_code == 201


def test_prospect_already_active_in_sequence_is_422(sb, client):
    assert client.post("/sequenceStates", json=doc("sequenceState", {}, STATE_RELS)).status_code == 201
    again = client.post("/sequenceStates", json=doc("sequenceState", {}, STATE_RELS))
    assert again.status_code == 422
    new_id = sb.store.write_log[-1].id
    assert errors(again) == [("/data/relationships/prospect",
                              f"Prospect 3 is already active in sequence 5 (sequenceState {new_id}).")]
    assert client.post(f"/sequenceStates/{new_id}/actions/finish").status_code == 200
    assert client.post("/sequenceStates", json=doc("sequenceState", {}, STATE_RELS)).status_code == 201


def test_new_sequence_state_starts_active_on_the_first_step(client):
    created = client.post("/sequenceStates", json=doc("sequenceState", {}, STATE_RELS)).json()["data"]
    assert created["attributes"]["state"] == "active"
    rels = created["relationships"]
    first_step = client.get("/sequenceSteps", params={"filter[sequence][id]": 5, "sort": "order"}).json()["data"][0]
    assert rels["sequenceStep"] == {"data": {"type": "sequenceStep", "id": first_step["id"]}}
    prospect = client.get("/prospects/3").json()["data"]
    assert rels["account"] == prospect["relationships"]["account"]
    assert rels["user"] == {"data": {"type": "user", "id": 1}}


@pytest.mark.parametrize(("body", "status", "code"), [
    pytest.param(b"{not json", 400, "badRequest", id="not-json"),
    pytest.param(b'{"data": []}', 400, "badRequest", id="data-not-object"),
    pytest.param(b'{"data": {"attributes": {}}}', 400, "badRequest", id="missing-type"),
    pytest.param(b'{"data": {"type": "stage", "attributes": []}}', 400, "badRequest", id="attributes-not-object"),
    pytest.param(b'{"data": {"type": "account", "attributes": {}}}', 409, "conflict", id="type-mismatch"),
    pytest.param(b'{"data": {"type": "stage", "id": 5, "attributes": {"name": "x"}}}', 403, "forbidden",
                 id="client-id"),
])
def test_malformed_documents(client, body, status, code):
    response = client.post("/stages", content=body)
    assert response.status_code == status
    assert response.json()["errors"][0]["id"] == code


def test_patch_id_must_match_the_url(client):
    response = client.patch("/stages/1", json=doc("stage", {"name": "x"}, ident=2))
    assert response.status_code == 409
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/id"}
    assert client.patch("/stages/1", json=doc("stage", {"name": "x"})).status_code == 409


def test_patch_of_a_missing_record_is_404_before_validation(client):
    assert client.patch("/stages/999", json=doc("stage", {"bogus": 1}, ident=999)).status_code == 404


def test_custom_fields_are_real_attributes(client):
    response = client.patch("/prospects/1", json=doc("prospect", {"custom150": "edge"}, ident=1))
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["custom150"] == "edge"


def test_datetimes_are_stored_in_outreach_form(client):
    response = client.patch("/tasks/1", json=doc("task", {"dueAt": "2025-03-01T10:00:00+02:00"}, ident=1))
    assert response.json()["data"]["attributes"]["dueAt"] == "2025-03-01T08:00:00.000Z"

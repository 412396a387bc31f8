"""The seed is connected as real data is: relationships that real records carry point at seeded records,
user duties are /duties records, and a token's scope names every collection it may use."""
from __future__ import annotations

import httpx
import pytest

CONNECTED = [  # (collection, relationship, target collection) that real data fills and the seed used to leave null
    ("users", "role", "roles"), ("users", "profile", "profiles"), ("prospects", "persona", "personas"),
    ("calls", "opportunity", "opportunities"), ("calls", "sequence", "sequences"),
    ("calls", "sequenceState", "sequenceStates"), ("calls", "sequenceStep", "sequenceSteps"),
    ("calls", "task", "tasks"),
    ("events", "account", "accounts"), ("events", "call", "calls"), ("events", "opportunity", "opportunities"),
    ("events", "task", "tasks"), ("tasks", "call", "calls"), ("tasks", "opportunity", "opportunities"),
    ("tasks", "template", "templates"), ("tasks", "sequenceTemplate", "sequenceTemplates"),
]


def records(client: httpx.Client, collection: str) -> list[dict]:
    return client.get(f"/{collection}", params={"page[size]": 1000}).json()["data"]


@pytest.mark.parametrize("collection, relationship, target", CONNECTED)
def test_seeded_records_carry_the_relationship_and_it_resolves(client, collection, relationship, target):
    linked = [r["relationships"][relationship]["data"] for r in records(client, collection)
              if r["relationships"][relationship]["data"]]
    assert linked, f"no seeded {collection} has a {relationship}"
    for ref in linked:
        assert client.get(f"/{target}/{ref['id']}").status_code == 200


def test_a_call_for_a_task_shares_its_prospect_sequence_and_state(client):
    for call in records(client, "calls"):
        rels = call["relationships"]
        if rels["task"]["data"]:
            task = client.get(f"/tasks/{rels['task']['data']['id']}").json()["data"]["relationships"]
            for name in ("prospect", "sequence", "sequenceState", "sequenceStep"):
                assert rels[name]["data"] == task[name]["data"], name
            assert task["call"]["data"] == {"type": "call", "id": call["id"]}


def test_user_duties_are_duties_records(client):
    duties = {d["id"]: d["attributes"] for d in records(client, "duties")}
    for user in records(client, "users"):
        for duty in user["attributes"]["duties"]:
            assert duty["id"] in duties
            assert (duty["duty_type"], duty["name"]) == (duties[duty["id"]]["symbolicName"],
                                                         duties[duty["id"]]["dutyType"])


def test_the_token_scope_names_every_served_collection(sb):
    with httpx.Client(transport=sb.transport(), base_url="http://sandbox.test") as c:
        grant = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret",
                 "grant_type": "refresh_token", "refresh_token": "sandbox-refresh-token"}
        body = c.post("/oauth/token", data=grant).json()
    served = {f"{t.collection}.all" for t in sb.catalogue.types.values()}
    assert set(body["scope"].split()) == served
    assert {"webhooks.all", "personas.all", "duties.all"} <= served

"""Bulk actions (POST /batches/actions/<name>): the batch and items they make, when they apply, what they refuse."""
from __future__ import annotations

from .conftest import doc


def bulk(client, name: str, attributes: dict, query: dict | None = None, **params):
    query = {**(query or {}), **{f"actionParams[{k}]": v for k, v in params.items()}}
    return client.post(f"/batches/actions/{name}", params=query, json=doc("batch", attributes))


def record(client, path: str) -> dict:
    return client.get(path).json()["data"]


def items_of(client, batch_id: int) -> list[dict]:
    return [i["attributes"] for i in client.get("/batchItems", params={"filter[batch][id]": batch_id}).json()["data"]]


def test_a_bulk_action_waits_pending_until_confirmed_then_applies(client):
    made = bulk(client, "prospectsAddTags", {"ids": [1, 2], "tags": ["Bulk"]})
    assert made.status_code == 200
    batch = made.json()["data"]
    assert {k: batch["attributes"][k] for k in ("action", "state", "total", "pending", "confirmCount")} == \
        {"action": "prospectsAddTags", "state": "pending", "total": 2, "pending": 2, "confirmCount": 2}
    assert [(i["state"], i["data"]) for i in items_of(client, batch["id"])] == \
        [("pending", '{"prospectId": 1}'), ("pending", '{"prospectId": 2}')]
    assert "Bulk" not in record(client, "/prospects/1")["attributes"]["tags"]  # nothing changes before confirm

    confirmed = client.post(f"/batches/{batch['id']}/actions/confirm").json()["data"]["attributes"]

    assert (confirmed["state"], confirmed["pending"], confirmed["failures"]) == ("finished", 0, 0)
    assert record(client, "/prospects/1")["attributes"]["tags"] == ["Trade Show", "Bulk"]
    assert {i["state"] for i in items_of(client, batch["id"])} == {"finished"}


def test_skip_confirmation_applies_at_once_and_a_missing_record_fails_its_item_only(client):
    made = bulk(client, "accountsAssignOwner", {"ids": [1, 999], "ownerId": 3}, skipConfirmation="true")
    batch = made.json()["data"]["attributes"]
    assert (batch["state"], batch["failures"]) == ("finished", 1)
    assert record(client, "/accounts/1")["relationships"]["owner"]["data"] == {"type": "user", "id": 3}
    assert [(i["failed"], i["info"]) for i in items_of(client, made.json()["data"]["id"])] == \
        [(False, None), (True, "account 999 does not exist.")]


def test_a_filter_selects_the_records_and_no_ids_nor_filter_means_all(client):
    by_filter = bulk(client, "prospectsAddTags", {"tags": ["x"]}, {"actionParams[filter][owner][id]": "4"})
    assert by_filter.json()["data"]["attributes"]["total"] == 3
    everything = bulk(client, "accountAddTags", {"tags": ["x"]})  # the vendor default: every account
    assert everything.json()["data"]["attributes"]["total"] == 12


def test_refusals_name_what_is_wrong(client):
    unknown = bulk(client, "prospectsAddTags", {"ids": [1], "tags": ["x"]}, confirmedCount="1")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["source"] == \
        {"parameter": "actionParams[confirmedCount]"}
    no_tags = bulk(client, "prospectsAddTags", {"ids": [1]})
    assert no_tags.status_code == 400 and "'tags' is required" in no_tags.json()["errors"][0]["detail"]
    bad_ids = bulk(client, "prospectsDestroyAll", {"ids": ["1"]})
    assert bad_ids.status_code == 400 and bad_ids.json()["errors"][0]["source"] == {"pointer": "/data/attributes/ids"}
    no_object = bulk(client, "customObjectBulkDelete", {"ids": [1]})
    assert no_object.status_code == 400 and "objectName" in no_object.json()["errors"][0]["detail"]
    assert bulk(client, "prospectsTeleport", {"ids": [1]}).status_code == 404
    assert client.get("/batches/actions/prospectsAddTags").status_code == 405
    assert client.post("/prospects/actions/prospectsAddTags", json=doc("batch", {})).status_code == 404


def test_bulk_modify_checks_values_as_an_update_would_and_fails_the_item(client):
    made = bulk(client, "prospectsBulkModify", {"ids": [1, 2], "title": {"not": "text"}}, skipConfirmation="true")
    assert made.json()["data"]["attributes"]["failures"] == 2
    assert items_of(client, made.json()["data"]["id"])[0]["info"] == "Title must be string."
    assert record(client, "/prospects/1")["attributes"]["title"] != {"not": "text"}


def test_a_filter_or_list_member_it_cannot_use_is_a_400_naming_it(client):
    unknown = bulk(client, "prospectsAddTags", {"tags": ["x"]}, {"actionParams[filter][nope]": "1"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["source"] == {"parameter": "actionParams[filter][nope]"}
    not_a_list = bulk(client, "prospectsAddTags", {"ids": [1], "tags": "x"})
    assert not_a_list.status_code == 400 and "list of strings" in not_a_list.json()["errors"][0]["detail"]


def test_assignments_are_added_removed_and_cleared(client):
    def assigned() -> list:
        return [u["id"] for u in record(client, "/prospects/2")["relationships"]["assignedUsers"]["data"]]

    bulk(client, "prospectsAddAssignments", {"ids": [2], "userIds": ["3", "5"]}, skipConfirmation="true")
    assert assigned() == [3, 5]
    bulk(client, "prospectsRemoveAssignments", {"ids": [2], "userIds": ["3"]}, skipConfirmation="true")
    assert assigned() == [5]
    bulk(client, "prospectsRemoveAllAssignments", {"ids": [2]}, skipConfirmation="true")
    assert assigned() == []

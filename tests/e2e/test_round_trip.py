"""Write back what you read: every writable attribute value the sandbox sends passes create/update validation.

The sandbox sends the shapes real Outreach sends (``tools/observed_overlay.yaml``): prospects' dates as
date-times, users' duties as lists, some snippets' tags as a string. Every type with a create or update is covered,
the seed's and the generated ones alike. A value read from Outreach must not be refused locally when written back.
"""
from __future__ import annotations

import pytest

from outreach_connector.catalogue_folders import load_entries
from outreach_connector.errors import InputInvalid
from outreach_connector.validation import schema_of

ENTRIES = load_entries()
LISTS = {e.resource: e.name for e in ENTRIES if e.kind == "list"}
GETS = {e.resource: e for e in ENTRIES if e.kind == "get"}  # for types with no list, e.g. orgSetting
WRITES = [e for e in ENTRIES if e.kind in ("create", "update") and (e.resource in LISTS or e.resource in GETS)
          and "attributes" in schema_of(e.input_schema)["properties"]]


def records_read(connector, resource: str, count: int) -> list[dict]:
    """Up to ``count`` records as the sandbox sends them: a list page, or the seeded record 1 of a get-only type."""
    if resource in LISTS:
        return connector.call(LISTS[resource], {"page_size": count})["data"]
    return [connector.call(GETS[resource].name, {GETS[resource].id_input: 1})["data"]]


def written_back(entry, record: dict) -> dict:
    """The record's writable attributes (and the relationships the write needs) as the operation's input."""
    props = schema_of(entry.input_schema)["properties"]
    writable = props["attributes"]["properties"]
    data: dict = {"attributes": {k: v for k, v in record["attributes"].items() if k in writable}}
    required_rels = props["relationships"].get("required", [])
    if required_rels:
        data["relationships"] = {n: linked(props["relationships"]["properties"][n], record["relationships"][n]["data"])
                                 for n in required_rels}
    if entry.kind == "update":
        data[entry.id_input] = record["id"]
    return data


def linked(schema: dict, data: dict):
    """A to-one as its input takes it: the id, or {type, id} where the relationship takes several types."""
    return {"type": data["type"], "id": data["id"]} if "properties" in schema else data["id"]


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in WRITES])
def test_every_record_read_validates_when_written_back(sandbox_connector, entry):
    records = records_read(sandbox_connector, entry.resource, 50)
    assert records
    refused = {}
    for record in records:
        try:
            sandbox_connector.validate(entry.name, written_back(entry, record))
        except InputInvalid as error:
            refused[record["id"]] = error.errors
    assert refused == {}


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in WRITES if e.kind == "update"])
def test_the_sandbox_accepts_the_write_back_and_nothing_changes(sandbox_connector, entry):
    record = records_read(sandbox_connector, entry.resource, 1)[0]
    after = sandbox_connector.call(entry.name, written_back(entry, record))["data"]
    unchanged = {k: v for k, v in record["attributes"].items() if k != "updatedAt"}
    assert {k: after["attributes"][k] for k in unchanged} == unchanged


def test_snippet_tags_round_trip_in_both_shapes_outreach_sends(sandbox_connector):
    snippets = sandbox_connector.call("list_snippets", {"page_size": 2})["data"]
    sent = [s["attributes"]["tags"] for s in snippets]
    assert sent == ["Quick Response", ["Quick Response"]]  # a string as real Outreach sends it, and a list
    for snippet, tags in zip(snippets, sent):
        updated = sandbox_connector.call("update_snippet", {"snippet_id": snippet["id"], "attributes": {"tags": tags}})
        assert updated["data"]["attributes"]["tags"] == tags
    assert sandbox_connector.drift_counts == {}


def test_prospect_dates_round_trip_as_outreach_sends_them(sandbox_connector):
    prospects = sandbox_connector.call("list_prospects", {"page_size": 10})["data"]
    dated = next(p for p in prospects if p["attributes"]["dateOfBirth"])
    born = dated["attributes"]["dateOfBirth"]
    assert born.endswith("T21:00:00.000Z")  # a date-time, as real Outreach sends it
    created = sandbox_connector.call("create_prospect", {"attributes": {
        "firstName": "Round", "dateOfBirth": born, "graduationDate": "2012-06-01"}})["data"]
    assert (created["attributes"]["dateOfBirth"], created["attributes"]["graduationDate"]) == (born, "2012-06-01")
    assert sandbox_connector.drift_counts == {}


def test_users_with_duty_lists_read_without_drift(sandbox_connector):
    user = sandbox_connector.call("get_user", {"user_id": 1})["data"]
    # a /duties record
    assert user["attributes"]["duties"] == [{"id": 3, "name": "Sales Manager", "duty_type": "sales_manager"}]
    listed = sandbox_connector.call("list_users", {"paginate": True})["data"]
    assert all(isinstance(u["attributes"]["duties"], list) for u in listed)
    assert sandbox_connector.drift_counts == {}


def test_create_account_without_a_name_fails_locally_naming_it(sandbox, sandbox_connector):
    before = len(sandbox.store.write_log)
    for empty in ({}, {"attributes": {}}):
        with pytest.raises(InputInvalid) as caught:
            sandbox_connector.call("create_account", empty)
        assert caught.value.errors == [{"path": "attributes.name", "message": "required field is missing"}]
    assert len(sandbox.store.write_log) == before

"""Observed types: every place real Outreach data departs from the vendor documents has a reviewed decision.

The evidence (the types in the Singer tap's and Airbyte's schemas of real tenants' records) is kept in
``tools/data/vendor-facts`` (``tools/extract_vendor_facts.py``); the decisions in ``tools/observed_overlay.yaml``.
"""
from __future__ import annotations

import json

import pytest

from conftest import ROOT, VENDOR_FACTS
from outreach_connector.catalogue_folders import load_entries, load_resource
from outreach_connector.validation import compile_schema, errors_for, schema_of
from tools.gen_resources import apply_observed
from tools.observed import SOURCES, disagreements, load_overlay


REFERENCE = VENDOR_FACTS
OVERLAY = load_overlay()
ENTRIES = {e.name: e for e in load_entries()}


def vendor() -> dict:
    openapi = REFERENCE / "outreach-openapi.json"
    return json.loads(openapi.read_text())["components"]["schemas"]


def decided() -> set[str]:
    only = {f"{t}.{n}" for t, names in OVERLAY["observed_only"].items() for n in names}
    return set(OVERLAY["typed_differently"]) | only | set(OVERLAY["rejected"])


def test_every_disagreement_in_the_evidence_has_a_decision_and_no_decision_is_stale():
    found = set(disagreements(REFERENCE, OVERLAY["streams"], vendor()))
    assert sorted(found - decided()) == [], "undecided: add them to tools/observed_overlay.yaml"
    assert sorted(decided() - found) == [], "stale: the evidence no longer shows these"


def test_every_evidence_stream_is_mapped_to_a_type_or_marked_unused():
    streams = {p.stem for source in SOURCES for p in (REFERENCE / source).glob("*.json")}
    assert streams == set(OVERLAY["streams"])
    types = set(OVERLAY["streams"].values())
    assert sorted(t for t in types if not (ROOT / "schemas" / "resources" / f"{t}.json").exists()) == []


def test_generation_stops_on_an_undecided_disagreement_of_any_type_it_is_given(tmp_path):
    (tmp_path / "singer-io-tap-outreach").mkdir()
    (tmp_path / "singer-io-tap-outreach" / "teams.json").write_text(
        json.dumps({"properties": {"mood": {"type": ["null", "string"]}}}))
    with pytest.raises(SystemExit, match="team.mood: the evidence disagrees"):
        apply_observed([{"type": "team", "attributes": {}}], tmp_path, vendor())
    account = {"type": "account", "attributes": {}}
    apply_observed([account], tmp_path, vendor())  # the team is another generator's: not checked here
    assert account == {"type": "account", "attributes": {}, "requiredOnCreate": ["name"]}


def test_each_decision_is_a_known_word_with_a_reason():
    for key, decision in OVERLAY["typed_differently"].items():
        assert decision["decision"] in ("union", "vendor") and decision["why"], key
    for key, decision in OVERLAY["rejected"].items():
        assert decision["decision"] == "vendor" and decision["why"], key


def test_evidence_judged_wrong_is_noted_on_the_resource_and_adds_no_attribute():
    schema = json.loads((ROOT / "schemas" / "resources" / "sequenceTemplate.json").read_text())
    assert schema["x-observed-rejected"]["negaitveReplyCount"]["sources"] == [
        "singer-io-tap-outreach/sequence_templates.json"]
    attributes = load_resource("sequenceTemplate").attributes
    assert "negaitveReplyCount" not in attributes and "negativeReplyCount" in attributes


def test_users_duties_as_a_list_or_an_object_are_valid_output():
    validator = compile_schema(ENTRIES["get_user"].output_schema)
    for duties in ([{"id": 1, "name": "Admin", "duty_type": "admin"}], {"name": "ADMIN"}, None):
        assert errors_for(validator, {"data": {"type": "user", "id": 1, "attributes": {"duties": duties}}}) == []
    note = schema_of(ENTRIES["get_user"].output_schema)["properties"]["data"]["properties"]["attributes"][
        "properties"]["duties"]["x-observed"]
    assert "airbyte-source-outreach/users.json" in note and "singer-io-tap-outreach/users.json" in note


def test_a_vendor_decision_leaves_the_vendor_type_alone():
    attrs = schema_of(ENTRIES["list_users"].output_schema)["properties"]["data"]["items"]["properties"][
        "attributes"]["properties"]
    assert attrs["senderNotificationsExcluded"] == {"type": ["boolean", "null"]}


@pytest.mark.parametrize("date", ["1990-12-30", "1990-12-30T21:00:00.000Z", None])
def test_prospect_dates_take_a_date_or_a_date_time_on_input(date):
    validator = compile_schema(ENTRIES["create_prospect"].input_schema)
    assert errors_for(validator, {"attributes": {"dateOfBirth": date, "jobStartDate": date}}) == []


@pytest.mark.parametrize("tags", [["Useful", "Prospecting"], "Useful", None])
def test_snippet_tags_take_a_list_or_a_string_on_input_and_output(tags):
    for name, given in (("create_snippet", {}), ("update_snippet", {"snippet_id": 1})):
        assert errors_for(compile_schema(ENTRIES[name].input_schema), {**given, "attributes": {"tags": tags}}) == []
    output = {"data": {"type": "snippet", "id": 1, "attributes": {"tags": tags}}}
    assert errors_for(compile_schema(ENTRIES["get_snippet"].output_schema), output) == []


def test_snippet_tags_still_refuse_what_is_neither():
    validator = compile_schema(ENTRIES["create_snippet"].input_schema)
    assert [e["path"] for e in errors_for(validator, {"attributes": {"tags": 3}})] == ["attributes.tags"]


def test_prospect_dates_still_refuse_what_is_neither():
    validator = compile_schema(ENTRIES["create_prospect"].input_schema)
    assert [e["path"] for e in errors_for(validator, {"attributes": {"dateOfBirth": "30/12/1990"}})] == \
        ["attributes.dateOfBirth"]


SAMPLES = {"date": "1990-12-30", "date-time": "1990-12-30T21:00:00.000Z", None: "a@example.com\nb@example.com"}


def sample_of(form: dict):
    """A value that fits one input alternative of a union attribute."""
    kinds = [form["type"]] if isinstance(form["type"], str) else [k for k in form["type"] if k != "null"]
    kind = kinds[0]
    if kind == "array":
        return [sample_of(form["items"])]
    return {"string": SAMPLES[form.get("format")], "object": {}, "null": None}[kind]


UNION_INPUTS = [(e.name, name, form) for e in ENTRIES.values() if e.kind in ("create", "update")
                for name, schema in schema_of(e.input_schema)["properties"].get("attributes", {})
                .get("properties", {}).items()
                if "x-observed" in schema for form in schema["oneOf"]]


@pytest.mark.parametrize(("operation", "attribute", "form"), UNION_INPUTS,
                         ids=[f"{o}.{a}.{f['type']}-{f.get('format', '')}" for o, a, f in UNION_INPUTS])
def test_a_value_of_each_union_form_is_accepted_on_input(operation, attribute, form):
    """``oneOf`` refuses a value that fits two alternatives: a vendor string beside an observed string would
    refuse a mailbox's newline-delimited ``prospectEmailExclusions`` exactly as the vendor documents it."""
    problems = errors_for(compile_schema(ENTRIES[operation].input_schema),
                          {"attributes": {attribute: sample_of(form)}})
    assert [p for p in problems if p["path"].startswith(f"attributes.{attribute}")] == []


@pytest.mark.parametrize("exclusions", ["a@example.com\nb@example.com", ["a@example.com"], None])
def test_mailbox_exclusions_take_the_vendor_string_or_the_observed_list(exclusions):
    for name, given in (("create_mailbox", {"email": "a@example.com"}), ("update_mailbox", {})):
        validator = compile_schema(ENTRIES[name].input_schema)
        extra = {} if name == "create_mailbox" else {"mailbox_id": 1}
        assert errors_for(validator, {**extra, "attributes": {**given, "prospectEmailExclusions": exclusions}}) == []


def test_observed_only_attributes_are_known_on_output_and_unknown_on_input():
    output = schema_of(ENTRIES["get_user"].output_schema)["properties"]["data"]["properties"]["attributes"]
    assert output["properties"]["primaryTimezone"]["type"] == ["null", "string"]
    for name in ("create_account", "update_account"):
        attrs = schema_of(ENTRIES[name].input_schema)["properties"]["attributes"]["properties"]
        assert "trashedAt" not in attrs and "name" in attrs
    assert "trashedAt" in load_resource("account").attributes

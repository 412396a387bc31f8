"""Outreach's create requirements (tools/create_requirements.yaml): each create operation's input requires them
(present, not null, not empty) so the error is local, and the sandbox refuses a create without exactly them."""
from __future__ import annotations

import pytest

from conftest import FakeOutreach
from outreach_connector.catalogue_folders import load_entries
from outreach_connector.errors import InputInvalid
from outreach_connector.validation import schema_of
from outreach_sandbox.schema import load_catalogue
from tools import create_requirements

REQUIREMENTS = create_requirements.load()
CATALOGUE = load_catalogue()
# sequenceState's create takes flat ids (prospect_id, ...), required by its entry's id_relationships
CREATES = {e.resource: e for e in load_entries() if e.kind == "create" and not e.id_relationships}


def test_every_entry_has_a_basis_and_its_evidence(tmp_path):
    assert all(entry["basis"] in ("documented", "judged") and entry["evidence"] for entry in REQUIREMENTS.values())
    bare = tmp_path / "bare.yaml"
    bare.write_text("task:\n  attributes: [action]\n  basis: judged\n")
    with pytest.raises(SystemExit, match="task needs a basis"):
        create_requirements.load(bare)


@pytest.mark.parametrize("type_name", sorted(REQUIREMENTS))
def test_the_sandbox_requires_exactly_the_reviewed_members(type_name):
    entry = REQUIREMENTS[type_name]
    assert CATALOGUE.types[type_name].required_attributes == tuple(entry.get("attributes", ()))
    assert CATALOGUE.types[type_name].required_relationships == tuple(entry.get("relationships", ()))


def test_nothing_else_is_required_by_the_sandbox():
    requiring = {name for name, t in CATALOGUE.types.items() if t.required_attributes or t.required_relationships}
    assert requiring == set(REQUIREMENTS)


@pytest.mark.parametrize("type_name", sorted(set(REQUIREMENTS) & set(CREATES)))
def test_the_create_input_requires_every_member_the_sandbox_refuses_a_create_without(type_name):
    schema = schema_of(CREATES[type_name].input_schema)
    rtype = CATALOGUE.types[type_name]
    for member, names in (("attributes", rtype.required_attributes), ("relationships", rtype.required_relationships)):
        if names:
            assert member in schema["required"]
            assert set(names) <= set(schema["properties"][member]["required"])
            for name in names:
                kinds = schema["properties"][member]["properties"][name]["type"]
                assert "null" not in ([kinds] if isinstance(kinds, str) else kinds)


def test_create_task_without_what_outreach_needs_is_refused_locally_naming_each_member(make_connector):
    fake = FakeOutreach()
    with pytest.raises(InputInvalid) as raised:
        make_connector(fake).call("create_task", {"attributes": {"action": ""}, "relationships": {"owner": None}})
    assert {e["path"] for e in raised.value.errors} == {  # a missing object is named by the members it needs
        "attributes.action", "relationships.owner", "relationships.subject.type", "relationships.subject.id"}
    assert fake.requests == []


def test_an_update_requires_nothing_the_create_does():
    schema = schema_of(next(e for e in load_entries() if e.name == "update_task").input_schema)
    assert "required" not in schema["properties"]["attributes"]
    assert schema["properties"]["relationships"]["required"] == []

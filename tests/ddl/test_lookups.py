"""Dependent lookups: the templates in the generated and served input schemas name real parent fields."""
from __future__ import annotations

import re

import pytest

from outreach_connector.catalogue_folders import load_entries, resource_for
from outreach_connector.connector import operations
from outreach_connector.server.catalogue import served_operation

TEMPLATE = re.compile(r"^\{\{\{properties\.([A-Za-z0-9_.]+)\}\}\}$")
DDLS = {e.name: e for e in load_entries() if e.kind == "ddl"}
LISTS = {e.resource: e.name for e in DDLS.values()}


def lookups(schema: dict, path: str = ""):
    """(dotted path, lookup) of every field with a lookup, nested objects included."""
    for name, sub in (schema.get("properties") or {}).items():
        if "lookup" in sub:
            yield path + name, sub["lookup"]
        yield from lookups(sub, f"{path}{name}.")


def field_at(schema: dict, dotted: str) -> dict:
    for part in dotted.split("."):
        schema = schema["properties"][part]
    return schema


OPERATIONS = operations()


def test_every_template_names_a_sibling_that_holds_the_parents_id():
    checked = 0
    for op in OPERATIONS:
        for path, lookup in lookups(op["input_schema"]):
            parents = DDLS[lookup["operation"]].ddl.parents
            for key, template in lookup["input"].items():
                target = resource_for(DDLS[lookup["operation"]]).relationships[parents[key]]["x-target"]
                parent = field_at(op["input_schema"], TEMPLATE.match(template).group(1))
                assert parent["lookup"]["operation"] == LISTS[target], (op["name"], path, key)
                checked += 1
    assert checked >= 6


@pytest.mark.parametrize("operation,path,expected", [
    pytest.param("create_call", "relationships.phoneNumber",
                 {"prospect_id": "{{{properties.relationships.prospect}}}"}, id="phone-of-prospect"),
    pytest.param("create_call", "relationships.sequenceState",
                 {"prospect_id": "{{{properties.relationships.prospect}}}",
                  "sequence_id": "{{{properties.relationships.sequence}}}"}, id="state-of-prospect-and-sequence"),
    pytest.param("create_call", "relationships.sequenceStep",
                 {"sequence_id": "{{{properties.relationships.sequence}}}"}, id="step-of-sequence"),
    pytest.param("create_opportunity", "relationships.primaryProspect",
                 {"account_id": "{{{properties.relationships.account}}}"}, id="prospect-of-account"),
    pytest.param("add_prospect_to_sequence", "prospect_id", {}, id="independent"),
    pytest.param("list_sequence_steps_ddl", "sequence_id", {}, id="a-ddls-own-parent-field"),
])
def test_served_schemas_carry_the_dependent_lookups(operation, path, expected):
    served = served_operation(next(op for op in OPERATIONS if op["name"] == operation))
    assert field_at(served["inputSchema"], path)["lookup"]["input"] == expected


@pytest.mark.parametrize("name", sorted(DDLS))
def test_every_ddl_takes_search_page_after_value_and_its_parents(name):
    schema = next(op for op in OPERATIONS if op["name"] == name)["input_schema"]
    assert set(schema["properties"]) == {"search", "page_after", "value", *DDLS[name].ddl.parents}
    assert not schema.get("required")
    for key in DDLS[name].ddl.parents:
        assert schema["properties"][key]["lookup"]["input"] == {}

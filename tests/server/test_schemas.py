"""Schema reduction to the draft-04 keyword set form builders read, for every operation."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from outreach_connector.connector import operations
from outreach_connector.server.schemas import to_form_schema

ALLOWED = {"type", "properties", "required", "items", "enum", "oneOf", "additionalProperties", "title",
           "description", "default", "format", "minimum", "maximum", "lookup", "advanced"}
SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
OPERATIONS = operations()


def keywords(schema, found=None) -> set[str]:
    """Every keyword used at a schema position (property names are not keywords)."""
    found = set() if found is None else found
    if not isinstance(schema, dict):
        return found
    found.update(schema)
    for sub in (schema.get("properties") or {}).values():
        keywords(sub, found)
    items = schema.get("items")
    for sub in items if isinstance(items, list) else [items]:
        keywords(sub, found)
    keywords(schema.get("additionalProperties"), found)
    for sub in schema.get("oneOf", []):
        keywords(sub, found)
    return found


@pytest.mark.parametrize("operation", [pytest.param(op, id=op["name"]) for op in OPERATIONS])
def test_reduced_schemas_are_draft04_with_only_allowed_keywords(operation):
    for schema in (operation["input_schema"], operation["output_schema"]):
        reduced = to_form_schema(schema)
        assert keywords(reduced) <= ALLOWED
        jsonschema.Draft4Validator.check_schema(reduced)
        assert "$ref" not in json.dumps(reduced)  # self-contained


def accepted_samples() -> list:
    """Documented samples the connector's own schema accepts (DDL samples are source records, not output)."""
    cases = []
    for path in sorted(SAMPLES.glob("*.json")):
        name, direction = path.name.removesuffix(".json").rsplit(".", 1)
        schema = next(op for op in OPERATIONS if op["name"] == name)[f"{direction}_schema"]
        instance = json.loads(path.read_text())
        if jsonschema.Draft7Validator(schema).is_valid(instance):
            cases.append(pytest.param(schema, instance, id=path.name))
    return cases


@pytest.mark.parametrize("schema, instance", accepted_samples())
def test_reduced_schemas_never_reject_what_the_connector_accepts(schema, instance):
    """Reduction loosens, never tightens: what the connector accepts fits the served schema."""
    jsonschema.Draft4Validator(to_form_schema(schema)).validate(instance)


def test_most_samples_are_checked():
    assert len(accepted_samples()) >= 35


@pytest.mark.parametrize("source, served", [
    pytest.param({"const": "pause"}, {"enum": ["pause"]}, id="const-to-enum"),
    pytest.param({"type": "object", "required": []}, {"type": "object"}, id="empty-required-dropped"),
    pytest.param({"$id": "x", "$schema": "y", "x-filterable": True, "pattern": "a", "maxLength": 3,
                  "uniqueItems": True, "readOnly": True, "type": "string"}, {"type": "string"}, id="dropped"),
    pytest.param({"anyOf": [{"type": "string"}, {"type": ["integer", "null"]}]},
                 {"type": ["string", "integer", "null"]}, id="anyOf-types-to-type-list"),
    pytest.param({"anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"type": "null"}]},
                 {"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"type": "null"}]},
                 id="anyOf-shapes-to-oneOf"),
    pytest.param({"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"type": "object"},
                 id="anyOf-presence-constraint-dropped"),
    pytest.param({"type": "object", "properties": {"a": {"type": "string"}},
                  "allOf": [{"properties": {"b": {"const": 1}}, "required": ["b"]},
                            {"if": {"properties": {"a": {"const": "x"}}}, "then": {"required": ["c"]}}]},
                 {"type": "object", "properties": {"b": {"enum": [1]}, "a": {"type": "string"}}, "required": ["b"]},
                 id="allOf-merged-conditionals-dropped"),
    pytest.param({"type": "array", "items": {"type": "string", "lookup": {"operation": "list_users_ddl",
                                                                          "input": {}}}},
                 {"type": "array", "items": {"type": "string", "lookup": {"operation": "list_users_ddl",
                                                                           "input": {}}}}, id="lookup-kept"),
    pytest.param({"type": "object", "properties": {"enum": {"type": "string"}}, "additionalProperties": False,
                  "advanced": ["enum"]},
                 {"type": "object", "properties": {"enum": {"type": "string"}}, "additionalProperties": False,
                  "advanced": ["enum"]}, id="property-named-like-a-keyword"),
])
def test_reduction_rules(source, served):
    assert to_form_schema(source) == served


def test_every_ddl_fed_field_keeps_its_lookup():
    lookups = 0
    for operation in OPERATIONS:
        source, served = json.dumps(operation["input_schema"]), json.dumps(to_form_schema(operation["input_schema"]))
        assert source.count('"lookup"') == served.count('"lookup"')
        lookups += served.count('"lookup"')
    assert lookups > 0

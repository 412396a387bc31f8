"""Sandbox responses validate against Outreach's official OpenAPI response schemas.

The vendor document's schemas come from the facts kept in the project (``tools/data/vendor-facts``, prose
dropped by ``tools/extract_vendor_facts.py``). OpenAPI 3.0's ``nullable`` becomes a JSON Schema ``null`` type.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from outreach_sandbox.schema import ERRATA, load_catalogue

from .conftest import REPO_ROOT

OPENAPI = REPO_ROOT / "tools" / "data" / "vendor-facts" / "outreach-openapi.json"
CATALOGUE = load_catalogue()
DOC_URI = "urn:outreach-openapi"


def nullable_to_json_schema(node):
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema; ``$ref`` made absolute within the stored document."""
    if isinstance(node, list):
        return [nullable_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: nullable_to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#"):
        out["$ref"] = DOC_URI + out["$ref"]
    if node.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def apply_errata(document: dict) -> dict:
    """Drop the vendor limits the sandbox knowingly corrects (see ``outreach_sandbox.schema.ERRATA``)."""
    for (type_name, attribute), fix in ERRATA.items():
        if fix.get("max_length", "keep") is None:
            document["components"]["schemas"][type_name]["properties"][attribute].pop("maxLength", None)
    return document


def apply_observed(document: dict) -> dict:
    """Widen the vendor types where real data is reviewed to differ (``x-observed`` unions in the resource
    schemas, from ``tools/observed_overlay.yaml``): the sandbox sends what Outreach sends."""
    for path in sorted((REPO_ROOT / "schemas" / "resources").glob("*.json")):
        resource = json.loads(path.read_text())
        for name, attr in resource["properties"]["attributes"]["properties"].items():
            note = attr.get("x-observed") or {}
            if note.get("decision") == "union":
                vendor = document["components"]["schemas"][resource["title"]]["properties"][name]
                vendor["type"] = sorted({vendor["type"], *note["type"]} - {"null"})
                vendor.pop("items", None)
    return document


@lru_cache(maxsize=1)
def registry() -> Registry:
    converted = nullable_to_json_schema(apply_observed(apply_errata(json.loads(Path(OPENAPI).read_text()))))
    return Registry().with_resource(DOC_URI, Resource(converted, specification=DRAFT7))


def validator(type_name: str) -> Draft7Validator:
    schema = {"$ref": f"{DOC_URI}#/components/schemas/{type_name}Response"}
    return Draft7Validator(schema, registry=registry())


def problems(type_name: str, resources: list[dict]) -> list[str]:
    check = validator(type_name)
    return [f"{r['id']} {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for r in resources for e in check.iter_errors(r)][:10]


# Not checked: the legacy audit type is not in the OpenAPI; auditLog and orgSetting ids are UUID strings there,
# while the sandbox's store keys every record by an integer id (a known, documented deviation); kaiaVoiceImport
# is create-only, so there is nothing to read back.
UNCHECKED = {"audit", "auditLog", "orgSetting", "kaiaVoiceImport"}
VALIDATED = sorted(t for t in CATALOGUE.types if t not in UNCHECKED)


@pytest.mark.parametrize("type_name", VALIDATED)
def test_list_and_get_conform(client, type_name):
    path, methods = CATALOGUE[type_name].path, CATALOGUE[type_name].methods
    listed = client.get(path, params={"page[size]": 1000}).json()["data"] if "list" in methods else []
    first = listed[0]["id"] if listed else 1
    got = [client.get(f"{path}/{first}").json()["data"]] if "get" in methods else []
    assert listed or got
    assert problems(type_name, listed + got) == []


def test_created_records_conform(client):
    created = client.post("/prospects", json={"data": {"type": "prospect", "attributes": {"firstName": "A"}}})
    assert problems("prospect", [created.json()["data"]]) == []


def test_the_check_catches_a_wrong_type():
    assert problems("prospect", [{"type": "prospect", "id": "1", "attributes": {"firstName": 3}}]) != []

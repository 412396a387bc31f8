"""Generate ``schemas/resources/<type>.json`` from Outreach's official API description.

Reads the facts of the OpenAPI document (types, nullability, max lengths, badges) and of the JSON hyper-schema
(read-only, filterable and sortable flags, relationship targets, allowed methods and member actions) kept in
``tools/data/vendor-facts`` (extracted from the reference by ``tools/extract_vendor_facts.py``, so any clone
regenerates). Writes one JSON Schema per resource type the connector's operations touch: names, types and flags.

Where real tenants' data (the Singer and Airbyte schemas beside the vendor's) types an attribute differently, or
shows one the vendor lacks, the reviewed decision in ``tools/observed_overlay.yaml`` is written beside the
vendor type as ``x-observed`` (see ``tools/observed.py``).

Usage: python -m tools.gen_resources [--facts DIR] [--check]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools import create_requirements
from tools.generated import write_or_check
from tools.observed import disagreements, load_overlay, observed_schema

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "tools" / "data" / "vendor-facts"  # written by tools/extract_vendor_facts.py
OUT_DIR = ROOT / "schemas" / "resources"
OVERLAY_NAME = "tools/observed_overlay.yaml"

# The resource types the seed's 95 operations use, with their collection paths (tools/gen_extended.py passes the
# paths of the types only the generated entries use).
RESOURCE_PATHS = {
    "account": "/accounts",
    "call": "/calls",
    "callDisposition": "/callDispositions",
    "callPurpose": "/callPurposes",
    "complianceRequest": "/complianceRequests",
    "event": "/events",
    "mailAlias": "/mailAliases",
    "mailbox": "/mailboxes",
    "mailing": "/mailings",
    "opportunity": "/opportunities",
    "opportunityProspectRole": "/opportunityProspectRoles",
    "opportunityStage": "/opportunityStages",
    "phoneNumber": "/phoneNumbers",
    "prospect": "/prospects",
    "recipient": "/recipients",
    "sequence": "/sequences",
    "sequenceState": "/sequenceStates",
    "sequenceStep": "/sequenceSteps",
    "stage": "/stages",
    "task": "/tasks",
    "taskPriority": "/taskPriorities",
    "template": "/templates",
    "user": "/users",
}

# The legacy `audit` type (`/audits`) is in neither vendor document; the operations spec's list-audits
# sample is the only description of its attributes, so they are recorded here as data.
AUDIT_SUPPLEMENT = {
    "type": "audit",
    "path": "/audits",
    "methods": ["list"],
    "actions": [],
    "source": "operations spec sample (legacy type, absent from the OpenAPI and hyper-schema)",
    "attributes": {
        "eventName": {"type": ["string", "null"], "readOnly": True, "x-filterable": True, "x-sortable": True},
        "orgId": {"type": ["string", "null"], "readOnly": True},
        "requestIp": {"type": ["string", "null"], "readOnly": True},
        "timestamp": {"type": ["string", "null"], "format": "date-time", "readOnly": True,
                      "x-filterable": True, "x-sortable": True},
        "user": {"type": ["string", "null"], "readOnly": True, "x-filterable": True},
        "userId": {"type": ["integer", "null"], "readOnly": True, "x-filterable": True},
    },
    "relationships": {},
}

# Where the vendor document contradicts itself, the contradiction is resolved here, with the reason.
ERRATA = {
    # maxLength 4, yet the documented values are "finish", "continue" and "pause".
    ("sequence", "primaryReplyAction"): {"drop": "maxLength"},
    ("sequence", "secondaryReplyAction"): {"drop": "maxLength"},
}

HS_METHOD_KIND = {("GET", "self"): "get", ("GET", "instances"): "list", ("POST", "create"): "create",
                  ("PATCH", "update"): "update", ("DELETE", "destroy"): "delete"}


def badges(prop: dict) -> set[str]:
    """The badges of the vendor's description (readonly, writeonly, filterable, sortable), as the facts keep them."""
    return set(prop.get("x-badges", ()))


def json_type(prop: dict) -> dict:
    """The JSON Schema type of one OpenAPI attribute, nullable where Outreach says so."""
    out: dict = {}
    kind = prop.get("type")
    if kind is None:
        return out  # untyped in the vendor document: anything goes
    out["type"] = [kind, "null"] if prop.get("nullable") else kind
    if kind == "array" and isinstance(prop.get("items"), dict) and prop["items"].get("type"):
        out["items"] = {"type": prop["items"]["type"]}
    for key in ("format", "maxLength"):
        if key in prop and not (key == "format" and prop[key] in ("float", "email")):
            out[key] = prop[key]
    return out


def attribute_schema(name: str, oas_prop: dict, hs_def: dict | None) -> dict:
    schema = json_type(oas_prop)
    flags = badges(oas_prop)
    hs_def = hs_def or {}
    if "readonly" in flags:
        schema["readOnly"] = True
    if "writeonly" in flags:
        schema["writeOnly"] = True
    if "filterable" in flags or hs_def.get("filterable"):
        schema["x-filterable"] = True
    if "sortable" in flags or hs_def.get("sortable"):
        schema["x-sortable"] = True
    return schema


def apply_errata(type_name: str, attributes: dict) -> dict:
    for (errata_type, name), fix in ERRATA.items():
        if errata_type == type_name:
            attributes[name].pop(fix["drop"], None)
    return attributes


def hs_targets(hs_def: dict) -> tuple[list[str], bool]:
    """Relationship target types (several when polymorphic) and whether it is to-many."""
    refs = [hs_def.get("$ref") or (hs_def.get("items") or {}).get("$ref")]
    if refs == [None]:
        refs = [alt.get("$ref") for alt in hs_def.get("anyOf", [])]
    return [r.rsplit("/", 1)[-1] for r in refs if r], hs_def.get("type") == "array"


def relationship_schema(name: str, oas_rel: dict, hs_def: dict | None) -> dict:
    hs_def = hs_def or {}
    targets, to_many = hs_targets(hs_def)
    data = (oas_rel.get("properties") or {}).get("data") or {}
    if not targets:
        targets = ((data.get("properties") or {}).get("type") or {}).get("enum") or \
                  (((data.get("items") or {}).get("properties") or {}).get("type") or {}).get("enum") or []
        to_many = to_many or data.get("type") == "array"
    flags = badges(oas_rel)
    schema: dict = {"x-target": targets[0] if targets else None, "x-to-many": bool(to_many)}
    if len(targets) > 1:
        schema["x-targets"] = sorted(targets)
    if "readonly" in flags or hs_def.get("readOnly"):
        schema["readOnly"] = True
    if not oas_rel.get("x-no-filter"):
        schema["x-filterable"] = True
    if hs_def.get("data") is False or (not data and to_many):
        schema["x-links-only"] = True
    return schema


def methods_and_actions(hs_type: dict) -> tuple[list[str], list[str]]:
    methods, actions = [], []
    for link in hs_type.get("links", []):
        kind = HS_METHOD_KIND.get((link["method"], link["rel"]))
        if kind:
            methods.append(kind)
        elif "/actions/" in link["href"] and "{:id}" in link["href"]:
            actions.append(link["href"].rsplit("/", 1)[-1])
    order = ["list", "get", "create", "update", "delete"]
    return sorted(set(methods), key=order.index), sorted(set(actions))


def build_resource(type_name: str, oas: dict, hs: dict, path: str | None = None) -> dict:
    """One resource description; ``path`` for types outside RESOURCE_PATHS (tools/gen_extended.py)."""
    schemas = oas["components"]["schemas"]
    hs_type = hs["definitions"][type_name]
    hs_defs = hs_type.get("definitions", {})
    oas_attrs = schemas[type_name].get("properties", {})
    oas_rels = schemas.get(f"{type_name}Relationships", {}).get("properties", {})
    methods, actions = methods_and_actions(hs_type)
    return {
        "type": type_name,
        "path": path or RESOURCE_PATHS[type_name],
        "methods": methods,
        "actions": actions,
        "source": "Outreach OpenAPI + JSON hyper-schema",
        "attributes": apply_errata(type_name, {n: attribute_schema(n, p, hs_defs.get(n))
                                                for n, p in sorted(oas_attrs.items())}),
        "relationships": {n: relationship_schema(n, p, hs_defs.get(n)) for n, p in sorted(oas_rels.items())},
    }


def as_json_schema(resource: dict) -> dict:
    """Wrap one resource description as a JSON Schema of a JSON:API resource object."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"resources/{resource['type']}.json",
        "title": resource["type"],
        "x-outreach": {k: resource[k] for k in ("type", "path", "methods", "actions", "source", "requiredOnCreate",
                                                "requiredRelationshipsOnCreate") if k in resource},
        "type": "object",
        "properties": {
            "type": {"enum": [resource["type"]]},
            "id": {"type": ["integer", "string"]},
            "attributes": {"type": "object", "properties": resource["attributes"]},
            "relationships": {"type": "object", "properties": resource["relationships"]},
        },
        **({"x-observed-rejected": resource["rejected"]} if resource.get("rejected") else {}),
    }


def observed_note(seen, decision: str, why: str) -> dict:
    return {**observed_schema(seen), "decision": decision, "why": why, "sources": sorted(seen.sources)}


def apply_observed(resources: list[dict], evidence: Path, vendor: dict) -> None:
    """Write each reviewed decision beside the vendor type of the types in ``resources`` (each generator passes
    its own); an undecided disagreement of any of them fails generation."""
    overlay = load_overlay()
    by_type = {r["type"]: r for r in resources}
    only = {f"{t}.{n}" for t, names in overlay["observed_only"].items() for n in names}
    found = disagreements(evidence, overlay["streams"], vendor)
    for key, seen in sorted((k, s) for k, s in found.items() if s.type_name in by_type):
        resource = by_type[seen.type_name]
        if key in overlay["typed_differently"]:
            decided = overlay["typed_differently"][key]
            resource["attributes"][seen.attribute]["x-observed"] = \
                observed_note(seen, decided["decision"], decided["why"])
        elif key in only:
            resource["attributes"][seen.attribute] = \
                {"x-observed": observed_note(seen, "observed", "the vendor documents lack it")}
        elif key in overlay["rejected"]:
            decided = overlay["rejected"][key]
            resource.setdefault("rejected", {})[seen.attribute] = \
                observed_note(seen, decided["decision"], decided["why"])
        else:
            raise SystemExit(f"{key}: the evidence disagrees with the vendor and {OVERLAY_NAME} has no decision")
    create_requirements.annotate(resources)


def load_facts(facts: Path) -> tuple[dict, dict]:
    """The OpenAPI and hyper-schema facts (the documents' shape, without prose)."""
    return (json.loads((facts / "outreach-openapi.json").read_text()),
            json.loads((facts / "outreach-hyper-schema.json").read_text()))


def generate(facts: Path) -> dict[str, str]:
    """Return {file name: JSON text} for every resource schema."""
    oas, hs = load_facts(facts)
    resources = [build_resource(t, oas, hs) for t in sorted(RESOURCE_PATHS)] + [AUDIT_SUPPLEMENT]
    apply_observed(resources, facts, oas["components"]["schemas"])
    return {f"{r['type']}.json": json.dumps(as_json_schema(r), indent=1, sort_keys=True) + "\n"
            for r in resources}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=FACTS)
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ")
    args = parser.parse_args(argv)
    return write_or_check(generate(args.facts), OUT_DIR, args.check, "resource schemas")


if __name__ == "__main__":
    sys.exit(main())

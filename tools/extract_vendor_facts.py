"""Extract the facts the generators and tests need from the Outreach reference folder into ``tools/data/vendor-facts``.

The reference (Outreach's OpenAPI and hyper-schema, and the Singer and Airbyte stream schemas of real tenants'
data) lives outside the repository; a clone has only what this script keeps: paths, links, methods, attribute
names, types and flags. Vendor prose is dropped: the badges in an attribute's description become ``x-badges``
and a relationship's "cannot be used as a filter" becomes ``x-no-filter``. The one text kept is what the
catalogue publishes verbatim: the bulk actions' descriptions and their body members'
(``operations/outreach_batch.yaml``).

The documents keep their shape (same keys, same order), pruned, so the generators read them as they read the
originals. Rerun after the reference changes, then the generators (docs/development.md, "Regenerating"):

Usage: python -m tools.extract_vendor_facts [--reference DIR] [--check]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tools.generated import write_or_check

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "tools" / "data" / "vendor-facts"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference" / "outreach-schemas"
VENDOR = "outreach-official-via-api-evangelist"
EVIDENCE = ("singer-io-tap-outreach", "airbyte-source-outreach")

BADGE = re.compile(r"badges/(readonly|writeonly|filterable|sortable)\.svg")
NO_FILTER = re.compile(r"cannot be used as a filter")
# JSON Schema keywords kept (everything else is prose or vendor bookkeeping); maps of names to schemas recurse.
KEYWORDS = {"type", "nullable", "format", "maxLength", "enum", "$ref", "readOnly", "filterable", "sortable", "data",
            "links", "additionalProperties"}
SCHEMA_MAPS = {"properties", "definitions"}
SCHEMA_LISTS = {"anyOf", "oneOf", "allOf"}
LINK_KEYS = ("href", "method", "rel", "requiredParams", "optionalParams")


def flags(description: str | None) -> dict:
    """What a description says as data: its badges and whether a relationship can be a filter."""
    text = description or ""
    out: dict = {}
    if BADGE.search(text):
        out["x-badges"] = BADGE.findall(text)
    if NO_FILTER.search(text):
        out["x-no-filter"] = True
    return out


def schema_facts(node, keep_descriptions: bool = False):
    """A schema without prose: keywords from KEYWORDS, nested schemas pruned alike, descriptions as flags."""
    if not isinstance(node, dict):
        return node
    out: dict = {}
    for key, value in node.items():
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: schema_facts(s, keep_descriptions) for name, s in value.items()}
        elif key in SCHEMA_LISTS:
            out[key] = [schema_facts(s, keep_descriptions) for s in value]
        elif key == "items":
            out[key] = schema_facts(value, keep_descriptions)
        elif key == "description" and keep_descriptions:
            out[key] = value
        elif key in KEYWORDS:
            out[key] = value
    return {**out, **flags(node.get("description"))}


def bulk_operation(operation: dict) -> dict:
    """A bulk action (POST /batches/actions/<name>): its description and body, texts the catalogue publishes."""
    body = operation["requestBody"]["content"]["application/vnd.api+json"]["schema"]
    return {"description": operation.get("description", ""),
            "requestBody": {"content": {"application/vnd.api+json": {"schema": schema_facts(body, True)}}}}


def openapi_facts(oas: dict) -> dict:
    paths = {path: {"post": bulk_operation(item["post"])} for path, item in oas["paths"].items()
             if re.fullmatch(r"/batches/actions/\w+", path) and "post" in item}
    schemas = {name: schema_facts(s) for name, s in oas["components"]["schemas"].items()}
    return {"paths": paths, "components": {"schemas": schemas}}


def hyper_schema_facts(hs: dict) -> dict:
    """Per type: its links (href, method, rel, params) and its members' types and flags (no target schemas)."""
    types = {}
    for name, definition in hs["definitions"].items():
        links = [{k: link[k] for k in LINK_KEYS if k in link} for link in definition.get("links", [])]
        types[name] = {"definitions": {n: schema_facts(s) for n, s in definition.get("definitions", {}).items()},
                       "links": links}
    return {"definitions": types}


def evidence_facts(stream: dict) -> dict:
    """A stream's attribute types; its ``items`` verbatim (the generators copy them into ``x-observed``)."""
    return {"properties": {name: {k: v for k, v in schema.items() if k in ("type", "format", "items")}
                           for name, schema in stream["properties"].items()}}


def dumps(document: dict) -> str:
    # One member a line: diffs stay readable.
    return json.dumps(document, indent=0, separators=(",", ":"), ensure_ascii=False) + "\n"


def extract(reference: Path) -> dict[str, str]:
    """{path relative to FACTS: text} for every facts file."""
    vendor = reference / VENDOR
    files = {"outreach-openapi.json": dumps(openapi_facts(json.loads((vendor / "outreach-openapi.json").read_text()))),
             "outreach-hyper-schema.json":
                 dumps(hyper_schema_facts(json.loads((vendor / "outreach-hyper-schema.json").read_text())))}
    for source in EVIDENCE:
        for path in sorted((reference / source).glob("*.json")):
            files[f"{source}/{path.name}"] = dumps(evidence_facts(json.loads(path.read_text())))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                        help="the outreach-schemas folder of the reference (default: ../shared/reference/...)")
    parser.add_argument("--check", action="store_true", help="fail if the committed facts differ")
    args = parser.parse_args(argv)
    if not (args.reference / VENDOR).is_dir():
        parser.error(f"{args.reference} has no {VENDOR}/: name the reference's outreach-schemas folder")
    return write_or_check(extract(args.reference), FACTS, args.check, "vendor facts")


if __name__ == "__main__":
    sys.exit(main())

"""Generate the per-operation input/output schemas of the generic kinds from the entries and resource schemas.

Each generated schema is self-contained (shared definitions are inlined) so that it can be served as is and
validated without a reference resolver. Operations with hand-written schemas (raw HTTP, execute link,
compliance request) are skipped.

Usage: python -m tools.gen_operation_schemas [--check]
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

from outreach_connector.catalogue_folders import ResourceInfo, load_entries, load_resource, load_schema
from outreach_connector.spec import GENERATED_KINDS, OperationSpec
from tools import editor_fields
from tools.generated import write_or_check

ROOT = Path(__file__).resolve().parents[1]


SHARED = json.loads((ROOT / "schemas" / "shared.json").read_text())["$defs"]
DRAFT = "http://json-schema.org/draft-07/schema#"


def shared(name: str, **extra) -> dict:
    return {**copy.deepcopy(SHARED[name]), **extra}


def ddl_lookups(origin: str) -> dict[str, str]:
    """Resource type -> the DDL operation that lists it. Seed schemas see only seed DDLs: they stay exactly as
    specified when generated dropdowns are added."""
    return {e.resource: e.name for e in load_entries()
            if e.kind == "ddl" and (origin != "seed" or e.origin == "seed")}


def ddl_parents(spec: OperationSpec) -> dict[str, str]:
    """A DDL's parent inputs: input key (``sequence_id``) -> the resource type its id names."""
    rels = load_resource(spec.resource).relationships
    return {key: rels[rel]["x-target"] for key, rel in spec.ddl.parents.items()}


def ddl_input(spec: OperationSpec) -> dict:
    props = {
        "search": {"type": "string", "maxLength": 255, "title": "Search",
                   "description": "Only options whose text contains this, ignoring case. Collections too big "
                                  "to index are searched with Outreach's exact filters instead (whole names, "
                                  "e-mail addresses)."},
        "page_after": {"type": "string", "minLength": 1, "maxLength": 4096, "title": "Next page",
                       "description": "The next_page_after of the previous answer, with the same other inputs."},
        "value": {"oneOf": [shared("record_id"), {"type": "array", "items": shared("record_id"), "minItems": 1,
                                                  "maxItems": 1000}],
                  "title": "Saved value", "description": "One id or a list of ids: exactly those options, "
                                                         "to show the labels of a saved selection."},
    }
    for key, target in ddl_parents(spec).items():
        title = key.replace("_", " ").capitalize().replace(" id", " ID")
        props[key] = with_lookup(shared("record_id", title=title, description=f"Only options of this {target}."),
                                 target, spec.origin)
    return {"type": "object", "additionalProperties": False, "properties": props,
            "advanced": ["page_after", "value"]}


def ddl_output() -> dict:
    schema = shared("ddl_output")
    schema["properties"]["next_page_after"] = {
        "type": ["string", "null"], "title": "Next page",
        "description": "Pass it back as page_after for the next options; null after the last page."}
    return schema


def dependent_lookups() -> dict[str, dict[str, str]]:
    """DDL name -> {parent input key: resource type}, for the DDLs that take a parent."""
    return {e.name: ddl_parents(e) for e in load_entries() if e.kind == "ddl" and e.ddl.parents}


def wire_lookups(schema: dict, origin: str, path: str = "") -> dict:
    """Fill each dependent lookup's ``input`` with the sibling fields that hold its parents' ids.

    A sibling holds a parent when its own lookup lists the parent's resource type; the template names it by
    its dotted input path, falafel's ``{{{properties.<path>}}}``.
    """
    props = schema.get("properties") or {}
    listing = {sub["lookup"]["operation"]: name for name, sub in props.items() if "lookup" in sub}
    by_type = {target: listing[ddl] for target, ddl in ddl_lookups(origin).items() if ddl in listing}
    parents = dependent_lookups()
    for name, sub in props.items():
        if "lookup" in sub:
            wanted = parents.get(sub["lookup"]["operation"], {})
            holders = {key: by_type.get(target) for key, target in wanted.items()}
            sub["lookup"]["input"] = {key: "{{{properties." + path + holder + "}}}"
                                      for key, holder in holders.items() if holder not in (None, name)}
        if sub.get("type") == "object":
            wire_lookups(sub, origin, f"{path}{name}.")
    return schema


def with_lookup(schema: dict, target: str | None, origin: str) -> dict:
    ddl = ddl_lookups(origin).get(target or "")
    return {**schema, "lookup": {"operation": ddl, "input": {}}} if ddl else schema


def observed(schema: dict, *decisions: str) -> dict | None:
    """The reviewed ``x-observed`` note of an attribute when its decision is one of ``decisions``."""
    note = schema.get("x-observed")
    return note if note and note["decision"] in decisions else None


def observed_alternatives(note: dict) -> list[dict]:
    """One input alternative per observed type (and string format): what Outreach was seen to send."""
    alternatives = []
    for kind in note.get("type", []):
        if kind == "string" and note.get("formats"):
            alternatives += [{"type": "string", "format": f} for f in note["formats"]]
        elif kind != "null":
            alternatives.append({"type": kind, **({"items": note["items"]} if kind == "array" else {})})
    return alternatives


def covers(kept: dict, observed_form: dict) -> bool:
    """True when an alternative already takes the observed form's values. ``oneOf`` refuses a value that fits
    two alternatives, so an observed plain string beside the vendor's string would refuse every string."""
    if kept["type"] != observed_form["type"]:
        return False
    if kept["type"] == "string":
        return kept.get("format") in (None, observed_form.get("format"))
    return kept.get("items") == observed_form.get("items")


def writable_attribute(schema: dict) -> dict:
    """Vendor type and limits; where real data differs (a reviewed union), every shape Outreach sends as well."""
    vendor = {k: v for k, v in schema.items() if k in ("type", "format", "maxLength", "items")}
    note = observed(schema, "union")
    if not note:
        return vendor
    kinds = vendor.pop("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    alternatives = [{"type": k, **vendor} for k in kinds if k != "null"]
    alternatives += [a for a in observed_alternatives(note) if not any(covers(v, a) for v in alternatives)]
    nullable = "null" in kinds + note.get("type", [])
    return {"oneOf": alternatives + ([{"type": "null"}] if nullable else []), "x-observed": note["why"]}


def writable_attributes(res: ResourceInfo) -> dict:
    """Attributes only real data shows stay unknown on input: nothing shows Outreach accepting them."""
    return {n: writable_attribute(s) for n, s in sorted(res.writable_attributes().items())
            if not observed(s, "observed")}


def relationship_input(name: str, rel: dict, origin: str) -> dict:
    """name -> id for to-one, a list of ids for to-many, {type, id} where the relationship is polymorphic."""
    if rel.get("x-to-many"):
        return {"type": "array", "items": shared("record_id"), "title": name}
    if rel.get("x-targets"):
        ident = {"type": "object", "additionalProperties": False, "required": ["type", "id"],
                 "properties": {"type": {"enum": rel["x-targets"]}, "id": shared("record_id")}}
        return {"type": ["object", "null"], **{k: v for k, v in ident.items() if k != "type"}, "title": name}
    return with_lookup(shared("record_id", type=["integer", "string", "null"], title=name), rel["x-target"],
                       origin)


def id_input(spec: OperationSpec) -> dict:
    title = spec.id_input.replace("_", " ").capitalize().replace(" id", " ID")
    return with_lookup(shared("record_id", title=title), spec.resource, spec.origin)


def fields_input(res: ResourceInfo) -> dict:
    names = sorted(res.attributes) + sorted(res.relationships)
    return {"type": "array", "uniqueItems": True, "items": {"enum": names}, "title": "Fields",
            "description": f"Sparse fieldset: only these attributes and relationships of each {res.type}."}


def filter_fields(res: ResourceInfo) -> list[str]:
    rels = [f"{n}.id" for n, r in sorted(res.relationships.items()) if r.get("x-filterable")]
    return ["id"] + sorted(res.attributes) + rels


def list_input(spec: OperationSpec, res: ResourceInfo) -> dict:
    sort_obj = {"type": "object", "additionalProperties": False, "required": ["sort_by"],
                "properties": {"sort_by": {"enum": ["id"] + sorted(res.attributes), "title": "Sort by"},
                               "sort_direction": shared("sort_direction")}}
    filter_item = {"type": "object", "additionalProperties": False, "required": ["field", "criteria"],
                   "properties": {"field": {"enum": filter_fields(res), "title": "Field"},
                                  "criteria": shared("filter_criteria", title="Criteria")}}
    return {
        "type": "object", "additionalProperties": False,
        "x-filterable": ["id"] + res.flagged("x-filterable"), "x-sortable": ["id"] + res.flagged("x-sortable"),
        "properties": {
            "page_size": shared("page_size"),
            "filters": {"type": "array", "items": filter_item, "title": "Filters"},
            "sort": {"oneOf": [sort_obj, {"type": "array", "minItems": 1, "items": sort_obj}], "title": "Sort"},
            "fields": fields_input(res),
            "page_after": shared("page_after"),
            "count": {"type": "boolean", "default": True, "title": "Count",
                      "description": "Ask Outreach for meta.count (slower on big collections)."},
            "paginate": {"type": "boolean", "default": False, "title": "All pages",
                         "description": "Follow links.next and return the records of every page in one list."},
            "max_records": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 10000,
                            "title": "Record cap", "description": "With paginate: stop after this many records."},
        },
        "advanced": ["fields", "page_after", "count", "paginate", "max_records"],
    }


def write_input(spec: OperationSpec, res: ResourceInfo) -> dict:
    """Input of create/update: attributes + relationships, or flat id keys mapped to relationships."""
    props: dict = {}
    required: list[str] = []
    if spec.id_relationships:
        rels = res.relationships
        for key, rel in spec.id_relationships.items():
            props[key] = with_lookup(shared("record_id", title=key.replace("_", " ").capitalize()),
                                     rels[rel]["x-target"], spec.origin)
        required = list(spec.id_relationships)
    else:
        attrs = writable_attributes(res)
        rels = {n: relationship_input(n, r, spec.origin) for n, r in sorted(res.writable_relationships().items())}
        props["attributes"] = {"type": "object", "additionalProperties": False, "properties": attrs,
                               "title": "Attributes"}
        props["relationships"] = {"type": "object", "additionalProperties": False, "properties": rels,
                                  "title": "Relationships", "required": list(spec.required_relationships)}
        required += required_on_create(spec, props)
        if props["relationships"]["required"] and "relationships" not in required:
            required.append("relationships")
    if spec.kind == "update":
        props = {spec.id_input: id_input(spec), **props}
        required.insert(0, spec.id_input)
    schema = {"type": "object", "additionalProperties": False, "required": required, "properties": props}
    if spec.kind == "update":
        schema["anyOf"] = [{"required": ["attributes"]}, {"required": ["relationships"]}]
    return schema


def required_on_create(spec: OperationSpec, props: dict) -> list[str]:
    """Members Outreach refuses a create without (tools/create_requirements.yaml, through the resource schema):
    required here, and neither null nor empty, so the error is local. Returns the top-level keys they make
    required."""
    if spec.kind != "create":
        return []
    outreach = load_schema(f"resources/{spec.resource}.json")["x-outreach"]
    wanted = (("attributes", outreach.get("requiredOnCreate", [])),
              ("relationships", outreach.get("requiredRelationshipsOnCreate", [])))
    for member, names in wanted:
        members = props[member]
        if names:
            members["required"] = list(dict.fromkeys([*members.get("required", []), *names]))
        for name in names:
            members["properties"][name] = not_blank(members["properties"][name])
    return [member for member, names in wanted if names and member == "attributes"]


def not_blank(schema: dict) -> dict:
    """``schema`` without null, and a string at least one character long."""
    out = copy.deepcopy(schema)
    if isinstance(out.get("type"), list):
        kinds = [k for k in out["type"] if k != "null"]
        out["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "enum" in out:
        out["enum"] = [v for v in out["enum"] if v is not None]
    if (out.get("type") == "string" or "string" in (out.get("type") or [])) and "pattern" not in out:
        out["minLength"] = max(out.get("minLength", 0), 1)
    return out


def action_input(spec: OperationSpec) -> dict:
    params: dict = {}
    for action in spec.actions.values():
        params.update(copy.deepcopy(action.params))
    rules = [{"if": {"properties": {"action": {"const": name}}},
              "then": {"properties": {"action_params": {"properties": a.params, "additionalProperties": False,
                                                        "required": list(a.required)}},
                       **({"required": ["action_params"]} if a.required else {})}}
             for name, a in spec.actions.items()]
    return {
        "type": "object", "additionalProperties": False, "required": [spec.id_input, "action"],
        "properties": {
            spec.id_input: id_input(spec),
            "action": {"enum": list(spec.actions), "title": "Action"},
            "action_params": {"type": "object", "additionalProperties": False, "properties": params,
                              "title": "Action parameters"},
        },
        "allOf": rules,
    }


def bulk_filter(spec: OperationSpec) -> dict:
    """The records to act on, in a list's filter shape; field names from the target type where there is one."""
    field = ({"enum": filter_fields(load_resource(spec.bulk.target))} if spec.bulk.target
             else {"type": "string", "minLength": 1, "maxLength": 255})
    item = {"type": "object", "additionalProperties": False, "required": ["field", "criteria"],
            "properties": {"field": {**field, "title": "Field"},
                           "criteria": shared("filter_criteria", title="Criteria")}}
    return {"type": "array", "minItems": 1, "items": item, "title": "Filter",
            "description": "Act on the records matching these filters (actionParams[filter])."}


def collection_action_input(spec: OperationSpec) -> dict:
    """attributes (the body's data.attributes) and action_params. Outreach acts on ALL records when neither
    ``ids`` nor a filter is given; that is refused here, so no call empties a collection by omission."""
    bulk = spec.bulk
    free = {"type": ["string", "number", "boolean", "null"]} if bulk.free_attributes else False
    params = {"filter": bulk_filter(spec), **copy.deepcopy(bulk.params)}
    members = {name: with_lookup({k: v for k, v in member.items() if k != "x-target"}, member.get("x-target"),
                                 spec.origin) for name, member in bulk.attributes.items()}
    attributes = {"type": "object", "additionalProperties": free, "properties": members,
                  "required": list(bulk.required), "title": "Attributes"}
    schema = {
        "type": "object", "additionalProperties": False,
        "properties": {"attributes": attributes,
                       "action_params": {"type": "object", "additionalProperties": False, "properties": params,
                                         "required": list(bulk.required_params), "title": "Action parameters"}},
        "anyOf": [{"required": ["attributes"], "properties": {"attributes": {"required": ["ids"]}}},
                  {"required": ["action_params"], "properties": {"action_params": {"required": ["filter"]}}}],
    }
    schema["required"] = [*(["attributes"] if bulk.required else []),
                          *(["action_params"] if bulk.required_params else [])]
    return schema


def input_schema(spec: OperationSpec) -> dict:
    return wire_lookups(unwired_input_schema(spec), spec.origin)


def unwired_input_schema(spec: OperationSpec) -> dict:
    if spec.kind == "ddl":
        return ddl_input(spec)
    res = load_resource(spec.resource)
    if spec.kind == "list":
        return list_input(spec, res)
    if spec.kind in ("get", "delete"):
        props = {spec.id_input: id_input(spec)}
        if spec.kind == "get":
            props["fields"] = fields_input(res)
        return {"type": "object", "additionalProperties": False, "required": [spec.id_input], "properties": props}
    if spec.kind == "action":
        return action_input(spec)
    if spec.kind == "collection_action":
        return collection_action_input(spec)
    return write_input(spec, res)


def output_attribute(schema: dict) -> dict:
    """Lenient on values: every attribute may be null, formats and lengths are Outreach's business.

    Where real data is typed otherwise (a reviewed ``x-observed`` union, or an attribute only real data shows),
    both types are accepted and the note says where the observed one comes from.
    """
    note = observed(schema, "union", "observed")
    kind = schema.get("type") if not note or note["decision"] == "union" else note.get("type")
    if kind is None:
        return {}
    kinds = [kind] if isinstance(kind, str) else list(kind)
    kinds += note.get("type", []) if note else []
    kinds = ["number" if k == "integer" else k for k in kinds]  # real data sends 1.0 for integer counts
    out: dict = {"type": sorted(set(kinds) | {"null"})}
    if note:
        out["x-observed"] = f"{note['why']} ({', '.join(note['sources'])})"
    return out


def resource_object(res: ResourceInfo) -> dict:
    return {
        "type": "object", "required": ["type", "id"],
        "properties": {
            "type": {"enum": [res.type]},
            "id": {"type": ["integer", "string"]},
            "attributes": {"type": "object",
                           "properties": {n: output_attribute(s) for n, s in sorted(res.attributes.items())}},
            "relationships": {"type": "object", "additionalProperties": shared("relationship_object")},
            "links": shared("links"),
            "meta": {"type": "object"},
        },
    }


def output_schema(spec: OperationSpec) -> dict:
    if spec.kind == "ddl":
        return ddl_output()
    if spec.kind == "delete":
        return shared("deleted")
    res = load_resource(spec.resource)
    data = resource_object(res)
    if spec.kind == "list":
        data = {"type": "array", "items": data}
    schema = {"type": "object", "required": ["data"],
              "properties": {"data": data, "links": shared("links"), "meta": {"type": "object"},
                             "included": {"type": "array", "items": {"type": "object"}}}}
    empty = [f"{name}: {a.empty_answer}" for name, a in (spec.actions or {}).items() if a.empty_answer]
    if empty:  # the vendor's documents disagree on what these answer; both are accepted
        return {"anyOf": [schema, {"type": "object", "maxProperties": 0}], "x-empty-answer": empty}
    return schema


def document(spec: OperationSpec, which: str, body: dict) -> dict:
    return {"$schema": DRAFT, "$id": getattr(spec, f"{which}_schema"),
            "title": f"{spec.title}: {which}", **body}


def generate() -> dict[str, str]:
    """Return {path relative to schemas/: JSON text} for every generated schema."""
    files: dict[str, str] = {}
    for spec in load_entries():
        if spec.kind not in GENERATED_KINDS:
            continue
        for which, build in (("input", input_schema), ("output", output_schema)):
            body = build(spec)
            if which == "input":
                body = editor_fields.annotate(spec.resource, spec.kind, body)  # titles, advanced
            text = json.dumps(document(spec, which, body), indent=1, sort_keys=True) + "\n"
            files[getattr(spec, f"{which}_schema")] = text
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ")
    args = parser.parse_args(argv)
    return write_or_check(generate(), ROOT / "schemas", args.check, "operation schemas")


if __name__ == "__main__":
    sys.exit(main())

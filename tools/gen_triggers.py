"""Generate the trigger entries (triggers/*.yaml) and their schemas (schemas/triggers/*.json).

One trigger per event Outreach's webhooks send (EVENTS below, from the project's reference notes on webhooks),
named ``<resource>_<action>`` in snake_case. Everything else comes from the catalogue itself: the input
filters from the resource's to-one relationships, the output's attributes from its resource schema (all
optional: created and updated events carry only some), and the poll plan from its list operation.

Usage: python -m tools.gen_triggers [--check]
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import yaml

from outreach_connector.catalogue_folders import load_entries, load_resource, load_schema
from tools.generated import write_or_check

ROOT = Path(__file__).resolve().parents[1]


DRAFT = "http://json-schema.org/draft-07/schema#"
CRUD = ("created", "updated", "destroyed")
# Outreach's webhook events: resource -> actions (meta.eventName is "<resource>.<action>").
EVENTS: dict[str, tuple[str, ...]] = {
    "account": CRUD, "call": CRUD, "emailAddress": CRUD, "opportunity": CRUD, "opportunityProspectRole": CRUD,
    "prospect": CRUD, "sequence": CRUD,
    "mailing": (*CRUD, "bounced", "delivered", "opened", "replied"),
    "sequenceState": (*CRUD, "advanced", "finished"),
    "task": (*CRUD, "completed"),
    "import": ("created", "finished"),
    "kaiaRecording": ("created",),
    "user": ("created", "updated"),
}
# Relationships a trigger can be filtered by, where the resource has them as to-one.
FILTERABLE = ("account", "prospect", "sequence", "opportunity", "mailbox", "owner", "user")
# How a poll recognises each event: the timestamp attribute whose range holds it, and the state it leaves.
POLL_TIMESTAMP = {"created": "createdAt", "updated": "updatedAt", "bounced": "bouncedAt",
                  "delivered": "deliveredAt", "opened": "openedAt", "replied": "repliedAt",
                  "finished": "stateChangedAt", "completed": "stateChangedAt"}
POLL_STATE = {("sequenceState", "finished"): "finished", ("task", "completed"): "complete",
              ("import", "finished"): "finished"}
WORDS = {"created": "was created", "updated": "changed", "destroyed": "was deleted", "bounced": "bounced",
         "delivered": "was delivered", "opened": "was opened", "replied": "got a reply",
         "advanced": "moved to its next step", "finished": "finished", "completed": "was completed"}
CARRIES = {"created": "the attributes it was created with", "updated": "only the attributes that changed",
           "destroyed": "its last known attributes and relationships"}
EVENT_REF = {"type": "object", "required": ["type", "id"], "additionalProperties": False,
             "properties": {"type": {"type": "string"}, "id": {"type": ["integer", "string"]}}}
KEPT_KEYWORDS = ("type", "format", "description", "title")


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def noun(resource: str) -> str:
    return snake(resource).replace("_", " ").replace("kaia", "Kaia")


def trigger_name(resource: str, action: str) -> str:
    return f"{snake(resource)}_{action}"


def list_operations() -> dict[str, object]:
    return {e.resource: e for e in load_entries() if e.kind == "list"}


def ddl_lookups() -> dict[str, str]:
    return {e.resource: e.name for e in load_entries() if e.kind == "ddl"}


def to_one_filters(resource: str) -> dict[str, str]:
    """Input key -> relationship, for the filterable relationships the resource has as to-one."""
    rels = load_resource(resource).relationships
    return {f"{snake(name)}_id": name for name in FILTERABLE
            if name in rels and not rels[name].get("x-to-many") and rels[name].get("x-target")}


def poll_plan(resource: str, action: str, lists: dict) -> dict | None:
    """The list operation and timestamp that find the event, when both exist (else webhook only)."""
    timestamp, entry = POLL_TIMESTAMP.get(action), lists.get(resource)
    if timestamp is None or entry is None:
        return None
    fields = load_schema(entry.input_schema)["properties"]
    sortable = json.dumps(fields.get("sort", {}))
    filterable = fields.get("filters", {}).get("items", {}).get("properties", {}).get("field", {}).get("enum", [])
    state = POLL_STATE.get((resource, action))
    if timestamp not in filterable or f'"{timestamp}"' not in sortable or (state and "state" not in filterable):
        return None
    return {"operation": entry.name, "timestamp": timestamp, **({"state": state} if state else {})}


def input_schema(resource: str, filters: dict[str, str], lookups: dict[str, str]) -> dict:
    rels = load_resource(resource).relationships
    shared = json.loads((ROOT / "schemas" / "shared.json").read_text())["$defs"]["record_id"]
    props = {}
    for key, rel in filters.items():
        target = rels[rel]["x-target"]
        prop = {**copy.deepcopy(shared), "title": key.replace("_", " ").capitalize().replace(" id", " ID"),
                "description": f"Only events whose {noun(resource)} has this {rel} ({noun(target)} ID)."}
        if target in lookups:
            prop["lookup"] = {"operation": lookups[target], "input": {}}
        props[key] = prop
    return {"$schema": DRAFT, "type": "object", "additionalProperties": False, "properties": props}


def attribute_schema(prop: dict) -> dict:
    """An attribute as an event may carry it: its type and format, nothing that could refuse drifted data."""
    return {k: v for k, v in prop.items() if k in KEPT_KEYWORDS}


def output_schema(name: str, resource: str, action: str) -> dict:
    info = load_resource(resource)
    relationship = {"oneOf": [EVENT_REF, {"type": "array", "items": EVENT_REF}, {"type": "null"}]}
    return {
        "$schema": DRAFT, "type": "object", "title": f"{resource}.{action} event",
        "required": ["id", "trigger", "event", "occurred_at", "received_at", "resource", "attributes",
                     "relationships", "meta"],
        "properties": {
            "id": {"type": "string", "title": "Event ID",
                   "description": "Stable for one Outreach event: redeliveries share it."},
            "trigger": {"type": "string", "enum": [name]},
            "event": {"type": "string", "enum": [f"{resource}.{action}"]},
            "occurred_at": {"type": ["string", "null"], "format": "date-time"},
            "received_at": {"type": "string", "format": "date-time"},
            "resource": {"type": "object", "required": ["type", "id"], "properties": {
                "type": {"type": "string", "enum": [resource]}, "id": {"type": ["integer", "string"]}}},
            "attributes": {"type": "object", "title": "Attributes",
                           "description": f"As Outreach sent them: {CARRIES.get(action, 'what Outreach sent')}.",
                           "properties": {n: attribute_schema(p) for n, p in info.attributes.items()}},
            "relationships": {"type": "object", "title": "Relationships",
                              "description": "Relationship name -> {type, id}, a list of them, or null.",
                              "properties": {n: relationship for n in info.relationships},
                              "additionalProperties": relationship},
            "meta": {"type": "object", "title": "Meta",
                     "description": "Outreach's meta (eventName, deliveredAt, jobId...) or, for a poll, "
                                    "{\"source\": \"poll\"}."},
        },
    }


def description(resource: str, action: str, poll: dict | None) -> str:
    article = "An" if noun(resource)[0] in "aeiou" else "A"
    subject = "A prospect's sequence state" if resource == "sequenceState" else f"{article} {noun(resource)}"
    text = f"{subject} {WORDS[action]} (Outreach's {resource}.{action} event"
    text += f", carrying {CARRIES[action]})." if action in CARRIES else ")."
    return text + ("" if poll else " Webhook only: polling cannot see this event.")


def generate() -> dict[str, str]:
    files: dict[str, str] = {}
    lists, lookups = list_operations(), ddl_lookups()
    for resource, actions in EVENTS.items():
        entries = []
        for action in actions:
            name, filters = trigger_name(resource, action), to_one_filters(resource)
            poll = poll_plan(resource, action, lists)
            entry = {"name": name, "title": f"{noun(resource).capitalize()} {WORDS[action]}",
                     "description": description(resource, action, poll), "resource": resource, "action": action}
            entry |= {"filters": filters} if filters else {}
            entry |= {"poll": poll} if poll else {}
            entry |= {"input_schema": f"triggers/{name}.input.json", "output_schema": f"triggers/{name}.output.json"}
            entries.append(entry)
            files[f"schemas/triggers/{name}.input.json"] = dump_json(input_schema(resource, filters, lookups))
            files[f"schemas/triggers/{name}.output.json"] = dump_json(output_schema(name, resource, action))
        header = (f"# Triggers for Outreach's `{resource}` webhook events. Generated by tools/gen_triggers.py; "
                  "schemas: schemas/triggers/.\n")
        files[f"triggers/{snake(resource)}.yaml"] = header + yaml.safe_dump(entries, sort_keys=False, width=110)
    return files


def dump_json(schema: dict) -> str:
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files are not current")
    args = parser.parse_args(argv)
    return write_or_check(generate(), ROOT, args.check, "trigger files")


if __name__ == "__main__":
    sys.exit(main())

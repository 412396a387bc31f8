"""Trigger entries: one per Outreach webhook event, declarative, registered through the plugin hooks, listed by
the CLI and the server."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from outreach_connector.catalogue_folders import core_folder, read_index
from outreach_connector.cli import main
from outreach_connector.errors import UnknownTrigger
from outreach_connector.registry import Registry, shared_registry
from outreach_connector.validation import compile_schema

ROOT = Path(__file__).resolve().parents[2]
CRUD = ["created", "updated", "destroyed"]
# Written out from the reference notes on Outreach's webhooks, independently of tools/gen_triggers.py.
OUTREACH_EVENTS = {
    "account": CRUD, "call": CRUD, "emailAddress": CRUD, "opportunity": CRUD, "opportunityProspectRole": CRUD,
    "prospect": CRUD, "sequence": CRUD, "mailing": CRUD + ["bounced", "delivered", "opened", "replied"],
    "sequenceState": CRUD + ["advanced", "finished"], "task": CRUD + ["completed"],
    "import": ["created", "finished"], "kaiaRecording": ["created"], "user": ["created", "updated"],
}


def registry() -> Registry:
    return shared_registry(())


def test_one_trigger_per_outreach_event_named_resource_action():
    found = {(t.spec.resource, t.spec.action): t.spec.name for t in registry().triggers()}
    wanted = {(resource, action) for resource, actions in OUTREACH_EVENTS.items() for action in actions}
    assert set(found) == wanted and len(found) == 42
    assert found[("sequenceState", "finished")] == "sequence_state_finished"
    assert found[("opportunityProspectRole", "created")] == "opportunity_prospect_role_created"
    assert found[("mailing", "replied")] == "mailing_replied"


def test_the_generated_files_and_the_index_are_current():
    for tool in ("tools.gen_triggers", "tools.gen_catalogue_index"):
        result = subprocess.run([sys.executable, "-m", tool, "--check"], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_index_covers_the_trigger_files_so_start_up_parses_no_yaml():
    folder = core_folder()
    sources = [(path, path.read_bytes()) for path in folder.indexed_files()]
    indexed = read_index(folder.root, sources)
    assert indexed is not None and "triggers/sequence_state.yaml" in indexed


def test_a_filter_names_a_relationship_the_record_has_with_its_dropdown():
    trigger = registry().trigger("sequence_state_finished")
    assert trigger.spec.filters["sequence_id"] == "sequence"
    sequence_id = trigger.input_schema["properties"]["sequence_id"]
    assert sequence_id["lookup"] == {"operation": "list_sequences_ddl", "input": {}}
    assert trigger.input_schema["additionalProperties"] is False and "required" not in trigger.input_schema
    assert "sequence_id" not in registry().trigger("user_created").spec.filters  # a user has no sequence


def test_the_output_schema_is_the_event_with_every_attribute_optional():
    trigger = registry().trigger("prospect_updated")
    schema = trigger.output_schema
    assert schema["properties"]["event"]["enum"] == ["prospect.updated"]
    assert "required" not in schema["properties"]["attributes"]
    assert "firstName" in schema["properties"]["attributes"]["properties"]
    event = {"id": "e-1", "trigger": "prospect_updated", "event": "prospect.updated",
             "occurred_at": "2025-01-15T09:00:00.000Z", "received_at": "2025-01-15T09:00:01.000Z",
             "resource": {"type": "prospect", "id": 5}, "attributes": {"title": "CTO"},
             "relationships": {"owner": {"type": "user", "id": 1}, "account": None,
                               "tags": [{"type": "tag", "id": 2}]}, "meta": {"eventName": "prospect.updated"}}
    assert list(compile_schema(schema).iter_errors(event)) == []
    wrong = {**event, "event": "prospect.created"}
    assert list(compile_schema(schema).iter_errors(wrong))


@pytest.mark.parametrize("name, poll", [
    ("prospect_created", {"operation": "list_prospects", "timestamp": "createdAt", "state": None}),
    ("prospect_updated", {"operation": "list_prospects", "timestamp": "updatedAt", "state": None}),
    ("mailing_replied", {"operation": "list_mailings", "timestamp": "repliedAt", "state": None}),
    ("sequence_state_finished", {"operation": "list_sequence_states", "timestamp": "stateChangedAt",
                                 "state": "finished"}),
    ("prospect_destroyed", None), ("sequence_state_advanced", None), ("import_finished", None),
])
def test_the_poll_plan_and_which_triggers_are_webhook_only(name, poll):
    found = registry().trigger(name).spec.poll
    assert (found.model_dump() if found else None) == poll


def test_an_unknown_trigger_suggests_close_names():
    with pytest.raises(UnknownTrigger) as caught:
        registry().trigger("prospect_create")
    assert caught.value.message.startswith("unknown trigger 'prospect_create'")
    assert caught.value.suggestions[0] == "prospect_created"


def test_cli_triggers_lists_name_title_resource_action(capsys):
    code, out = main(["triggers", "--json"]), capsys.readouterr().out
    listed = json.loads(out)
    assert code == 0 and len(listed) == 42
    assert {"name": "mailing_replied", "title": "Mailing got a reply", "resource": "mailing", "action": "replied",
            "description": listed[[t["name"] for t in listed].index("mailing_replied")]["description"]} in listed
    code, out = main(["triggers"]), capsys.readouterr().out
    assert code == 0 and any(line.split()[:3] == ["task_completed", "task", "completed"] for line in out.splitlines())


def test_cli_describe_a_trigger(capsys):
    code, out = main(["describe", "sequence_state_finished", "--json"]), capsys.readouterr().out
    described = json.loads(out)
    assert code == 0 and described["kind"] == "trigger" and described["event"] == "sequenceState.finished"
    assert {"field": "sequence_id", "type": "integer or string", "required": False,
            "description": "Only events whose sequence state has this sequence (sequence ID)."} in described["inputs"]
    code, out = main(["describe", "prospect_destroyed"]), capsys.readouterr().out
    assert code == 0 and "Outreach event: prospect.destroyed" in out and "Poll: not possible" in out

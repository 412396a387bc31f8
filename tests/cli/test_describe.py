"""``describe NAME`` (item 4): the human view and ``--json``, for every operation."""
from __future__ import annotations

import pytest

from outreach_connector.cli.describe import summary
from outreach_connector.registry import shared_registry
from outreach_connector.validation import errors_for

REGISTRY = shared_registry(())


def test_describe_get_prospect_reads_as_a_summary(cli):
    result = cli("describe", "get_prospect")
    assert result.code == 0
    assert result.out.splitlines()[:8] == [
        "get_prospect: Get prospect (get)",
        "  Get one prospect by its ID, optionally limited to some fields.",
        "",
        "Outreach request: GET /prospects/{prospect_id}",
        "",
        "Required inputs:",
        "  prospect_id            integer or string  An Outreach record ID (a positive integer; digits in a "
        "string are accepted).",
        "",
    ]
    assert "  prospect_id            <- list_prospects_ddl" in result.out
    assert result.out.rstrip().endswith(
        """Try it: outreach-connector call get_prospect '{"prospect_id": 1}' --sandbox""")


def test_describe_json_takes_the_documented_sample(cli):
    described = cli("describe", "update_stage", "--json").output
    assert described["request"] == {"method": "PATCH", "path": "/stages/{stage_id}", "example_path": "/stages/123"}
    assert described["example_input"] == {"stage_id": 123, "attributes": {"name": "Qualified Lead",
                                                                         "color": "#4287f5", "order": 2}}
    assert described["example_source"] == "documented sample (fixtures/samples/update_stage.input.json)"
    assert {"field": "stage_id", "type": "integer or string", "required": True,
            "description": "An Outreach record ID (a positive integer; digits in a string are accepted)."} \
        in described["inputs"]
    assert {"field": "attributes.name", "type": "string", "required": False, "description": "Name"} \
        in described["inputs"]
    assert described["lookups"] == [{"field": "stage_id", "input": {}, "operation": "list_stages_ddl"}]


def test_numbered_custom_fields_are_one_line(cli):
    text = cli("describe", "create_prospect").out
    assert "  attributes.custom1..custom150" in text and "string  150 custom fields" in text
    assert "attributes.custom10 " not in text and "attributes.custom2 " not in text
    assert "  attributes.firstName " in text  # the named attributes stay one a line
    described = cli("describe", "create_prospect", "--json").output  # tools still get every field
    assert sum(item["field"].startswith("attributes.custom") for item in described["inputs"]) == 150


def test_an_example_the_sandbox_refuses_says_so_under_try_it(cli):
    # (create_stage's example, once refused for its missing name, now has it: create inputs require it)
    text = cli("describe", "set_sequence_action").out.rstrip().splitlines()
    assert text[-2] == ("Try it: outreach-connector call set_sequence_action "
                        "'{\"sequence_id\": 1, \"action\": \"activate\"}' --sandbox")
    assert text[-1].startswith("  (a fresh sandbox refuses this example as it stands: ValidationFailed: ")
    assert "Cannot activate sequence 1: it is already activated." in text[-1]


def test_describe_an_unknown_operation_suggests(cli):
    result = cli("describe", "get_prospekt")
    assert result.code == 2 and result.error["suggestions"][0] == "get_prospect"


@pytest.mark.parametrize("name", [pytest.param(entry.spec.name, id=entry.spec.name) for entry in REGISTRY])
def test_every_operation_has_a_summary_whose_example_is_valid_input(name):
    entry = REGISTRY[name]
    described = summary(entry)
    assert described["request"]["method"] in ("GET", "POST", "PATCH", "DELETE")
    assert errors_for(entry.input_validator, described["example_input"], entry.read_only, entry.input_schema) == []

"""The tool list: one tool per operation, annotations by kind, presets, compact schemas that stay faithful."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from outreach_connector.cli.parser import MCP_DESCRIPTION
from outreach_connector.errors import InputInvalid
from outreach_connector.mcp.tools import DEFAULT_PRESET, KIND_HINTS, tool_set
from outreach_connector.registry import shared_registry
from outreach_connector.spec import BUILTIN_KINDS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "fixtures" / "samples"
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


def tools_by_name(preset: str = "all") -> dict[str, dict]:
    return {tool["name"]: tool for tool in tool_set(preset).tools}


def validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_all_is_one_tool_per_operation_with_its_name_title_and_description():
    tools = tool_set("all").tools
    entries = list(shared_registry(()))
    assert [(t["name"], t["title"], t["description"]) for t in tools] == \
           [(e.spec.name, e.spec.title, e.spec.description) for e in entries]
    assert len(tools) == 261


def test_every_built_in_kind_is_classified():
    assert set(KIND_HINTS) == set(BUILTIN_KINDS)


def test_every_tool_states_all_four_hints():
    for tool in tool_set("all").tools:
        assert all(isinstance(tool["annotations"][hint], bool) for hint in HINTS), tool["name"]
        assert tool["annotations"]["openWorldHint"] is True


@pytest.mark.parametrize("name, read_only, destructive, idempotent", [
    pytest.param("list_prospects", True, False, True, id="list"),
    pytest.param("get_prospect", True, False, True, id="get"),
    pytest.param("list_prospects_ddl", True, False, True, id="ddl"),
    pytest.param("execute_link", True, False, True, id="execute-link-get-only"),
    pytest.param("create_prospect", False, False, False, id="create"),
    pytest.param("update_prospect", False, False, True, id="update"),
    pytest.param("delete_prospect", False, True, True, id="delete"),
    pytest.param("set_task_action", False, False, False, id="action"),
    pytest.param("batch_prospects_add_tags", False, False, False, id="bulk-action"),
    pytest.param("batch_prospects_destroy_all", False, True, False, id="bulk-destroy"),
    pytest.param("batch_custom_object_bulk_delete", False, True, False, id="bulk-delete"),
    pytest.param("create_compliance_request", False, True, False, id="compliance-request-deletes-data"),
    pytest.param("raw_http_request", False, True, False, id="raw-http-any-method"),
])
def test_annotations_follow_the_kind(name, read_only, destructive, idempotent):
    hints = tools_by_name()[name]["annotations"]
    assert (hints["readOnlyHint"], hints["destructiveHint"], hints["idempotentHint"]) == \
           (read_only, destructive, idempotent)


def test_presets():
    entries = list(shared_registry(()))
    assert tool_set("seed").names == [e.spec.name for e in entries if e.origin == "seed"]
    assert len(tool_set("seed").names) == 95
    read = tools_by_name("read")
    assert read and all(t["annotations"]["readOnlyHint"] for t in read.values())
    assert {entry.spec.kind for entry in entries if entry.spec.name in read} == {"list", "get", "ddl", "execute_link"}
    assert len(read) == sum(entry.spec.kind in ("list", "get", "ddl", "execute_link") for entry in entries)
    in_catalogue_order = [e.spec.name for e in entries if e.spec.name in ("list_stages", "get_stage")]
    assert tool_set("list_stages, get_stage").names == in_catalogue_order


def test_an_unknown_tool_name_is_refused_with_the_closest_names():
    with pytest.raises(InputInvalid) as raised:
        tool_set("list_stagez")
    assert raised.value.errors == [{"path": "tools", "message": "unknown tool 'list_stagez' (did you mean "
                                                               "list_stages or list_stages_ddl?)"}]


def test_sizes_meet_the_targets_and_match_the_help():
    """Agents pay for every byte: the default under 200 KB, all under 1 MB; --help states the figures."""
    sizes = {preset: tool_set(preset) for preset in ("seed", "read", "all")}
    assert DEFAULT_PRESET == "seed"
    assert sizes["seed"].listing_bytes() < 200_000
    assert sizes["all"].listing_bytes() < 1_000_000
    for preset, tools in sizes.items():
        stated = re.search(rf"\b{preset}( \(the default\))? (\d+) tools, (\d+) KB", MCP_DESCRIPTION)
        assert stated and (int(stated[2]), int(stated[3])) == (len(tools.tools), round(tools.listing_bytes() / 1000))


def test_custom_fields_fold_into_one_pattern():
    schema = tools_by_name()["create_prospect"]["inputSchema"]
    text = json.dumps(schema)
    assert '"custom1"' not in text and '"custom150"' not in text
    check = validator(schema)
    assert check.is_valid({"attributes": {"firstName": "Ada", "custom7": "x", "custom150": None}})
    assert not check.is_valid({"attributes": {"firstName": "Ada", "nickName2": "x"}})


def test_no_description_is_repeated_within_a_tool():
    for tool in tool_set("all").tools:
        found: Counter[str] = Counter()

        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("description"), str):
                    found[node["description"]] += 1  # noqa: B023 - walk runs within this iteration
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(tool["inputSchema"])
        assert [text for text, n in found.items() if n > 1] == [], tool["name"]


def test_input_schemas_are_self_contained_and_valid():
    for tool in tool_set("all").tools:
        refs = re.findall(r'"\$ref": "([^"]*)"', json.dumps(tool["inputSchema"]))
        assert all(ref.startswith("#/$defs/") for ref in refs), tool["name"]
        validator(tool["inputSchema"])
        if "outputSchema" in tool:
            validator(tool["outputSchema"])


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.input.json")))
def test_every_documented_sample_input_fits_its_tool(sample):
    name = sample.removesuffix(".input.json")
    assert validator(tools_by_name()[name]["inputSchema"]).is_valid(json.loads((SAMPLES / sample).read_text()))


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.output.json")
                                           if "_ddl." not in p.name))  # a DDL's samples are its source records
def test_every_documented_sample_output_fits_its_tool(sample):
    name = sample.removesuffix(".output.json")
    output = json.loads((SAMPLES / sample).read_text())
    if shared_registry(())[name].spec.kind == "list":  # over MCP a list answers its next cursor too
        output = {**output, "next_page_after": None}
    assert validator(tools_by_name()[name]["outputSchema"]).is_valid(output)


def test_output_schemas_accept_drifted_attributes():
    output = json.loads((SAMPLES / "get_prospect.output.json").read_text())
    output["data"]["attributes"]["firstName"] = 123  # Outreach changed a type: the connector returns it as sent
    output["data"]["attributes"]["custom3"] = ["a list"]
    assert validator(tools_by_name()["get_prospect"]["outputSchema"]).is_valid(output)


def test_lists_offer_one_bounded_page():
    properties = tools_by_name()["list_prospects"]["inputSchema"]["properties"]
    assert "paginate" not in properties and "max_records" not in properties
    assert (properties["page_size"]["default"], properties["page_size"]["maximum"]) == (20, 100)
    output = tools_by_name()["list_prospects"]["outputSchema"]
    assert output["properties"]["next_page_after"]["type"] == ["string", "null"]

"""Catalogue-wide checks that run for every registered operation and every committed schema."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

import jsonschema
import pytest
import yaml

from conftest import ROOT, VENDOR_FACTS
from outreach_connector.catalogue_folders import load_entries, load_resource
from outreach_connector.handlers.ddl import options
from outreach_connector.registry import Registry, get_plugin_manager
from outreach_connector.spec import BUILTIN_KINDS, GENERATED_KINDS
from outreach_connector.validation import compile_schema, errors_for, schema_of

ENTRIES = load_entries()
SAMPLES = ROOT / "fixtures" / "samples"


def spec_names() -> dict[str, tuple[str, str]]:
    with open(ROOT / "fixtures" / "operation-names.tsv", newline="") as handle:
        return {r["name"]: (r["kind"], r["title"]) for r in csv.DictReader(handle, delimiter="\t")}


def test_seed_names_and_titles_equal_the_spec_table_exactly():
    registry = Registry(get_plugin_manager(entry_points=False))
    got = {e.spec.name: ("ddl" if e.spec.kind == "ddl" else "main", e.spec.title)
           for e in registry if e.spec.origin == "seed"}
    assert got == spec_names()


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# The hyper-schema's accountsAddTags link points at /batches/actions/accountAddTags; the name follows the rel.
BULK_HREF_TO_REL = {"accountAddTags": "accountsAddTags"}


def conventional_name(entry) -> str:
    """The seed's naming convention, which every entry generated from Outreach's schema follows; bulk actions
    are ``batch_<action>`` (the batch they make, then what it does)."""
    plural = snake(entry.path.split("/")[1])
    action = entry.path.rsplit("/", 1)[-1]
    return {"list": f"list_{plural}", "ddl": f"list_{plural}_ddl",
            "action": f"set_{snake(entry.resource)}_action",
            "collection_action": f"batch_{snake(BULK_HREF_TO_REL.get(action, action))}"
            }.get(entry.kind, f"{entry.kind}_{snake(entry.resource)}")


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in ENTRIES if e.origin == "outreach-schema"])
def test_generated_entries_follow_the_seed_naming_convention(entry):
    assert entry.name == conventional_name(entry)
    if entry.id_input:
        assert entry.id_input == f"{snake(entry.resource)}_id"
        assert f"{{{entry.id_input}}}" in entry.path


def test_seed_entries_are_the_only_ones_in_the_seed_files():
    """Generated entries live in their own files, so the seed's YAML never changes when they are regenerated."""
    for path in sorted((ROOT / "operations").glob("*.yaml")) + sorted((ROOT / "ddl").glob("*.yaml")):
        origins = {raw.get("origin", "seed") for raw in yaml.safe_load(path.read_text())}
        assert origins == ({"outreach-schema"} if path.name.startswith("outreach_") else {"seed"}), path.name


@pytest.mark.reference
def test_committed_names_table_matches_the_shared_spec(shared_folder):
    assert (ROOT / "fixtures" / "operation-names.tsv").read_text() == \
        (shared_folder / "spec" / "operation-names.tsv").read_text()


def test_every_kind_is_a_builtin_kind():
    assert {e.kind for e in ENTRIES} == set(BUILTIN_KINDS)


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in ENTRIES])
def test_schemas_are_valid_draft7_and_compile(entry):
    for ref in (entry.input_schema, entry.output_schema):
        jsonschema.Draft7Validator.check_schema(schema_of(ref))
        compile_schema(ref)


def test_no_orphan_schema_files():
    used = {e.input_schema for e in ENTRIES} | {e.output_schema for e in ENTRIES}
    on_disk = {str(p.relative_to(ROOT / "schemas")) for folder in ("operations", "ddl")
               for p in (ROOT / "schemas" / folder).glob("*.json")}
    assert on_disk == used


def test_every_resource_an_entry_names_has_a_resource_schema():
    for entry in ENTRIES:
        if entry.resource:
            assert load_resource(entry.resource).path == entry.path.split("/{")[0].split("/actions/")[0]


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_extended_entries_and_resource_schemas_have_not_drifted():
    result = run_tool("tools.gen_extended", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_operation_schemas_have_not_drifted():
    result = run_tool("tools.gen_operation_schemas", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_resource_schemas_have_not_drifted_from_the_official_reference():
    result = run_tool("tools.gen_resources", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_generators_read_only_the_facts_inside_the_project(tmp_path):
    """A changed fact changes the output (so the drift checks above test the in-project facts, not a folder
    beside the checkout): a sortable attribute that is no longer sortable drifts."""
    facts = tmp_path / "facts"
    subprocess.run(["cp", "-r", str(VENDOR_FACTS), str(facts)], check=True)
    openapi = json.loads((facts / "outreach-openapi.json").read_text())
    openapi["components"]["schemas"]["account"]["properties"]["name"]["x-badges"].remove("sortable")
    (facts / "outreach-openapi.json").write_text(json.dumps(openapi))
    hyper = json.loads((facts / "outreach-hyper-schema.json").read_text())
    hyper["definitions"]["account"]["definitions"]["name"]["sortable"] = False
    (facts / "outreach-hyper-schema.json").write_text(json.dumps(hyper))
    result = run_tool("tools.gen_resources", "--check", "--facts", str(facts))
    assert (result.returncode, result.stdout.strip()) == (1, "drift: account.json")


@pytest.mark.reference
def test_fixtures_are_every_documented_sample(shared_folder):
    result = run_tool("tools.extract_fixtures", "--check", "--spec", str(shared_folder / "spec"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.reference
def test_vendor_facts_are_current_with_the_reference(shared_folder):
    result = run_tool("tools.extract_vendor_facts", "--check",
                      "--reference", str(shared_folder / "reference" / "outreach-schemas"))
    assert result.returncode == 0, result.stdout + result.stderr


def described_places(node, where: str = "") -> list[str]:
    """The JSON path of every string ``description`` in a document."""
    found = [where] if isinstance(node, dict) and isinstance(node.get("description"), str) else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        found += described_places(value, f"{where}/{key}")
    return found


def test_vendor_facts_keep_no_vendor_prose():
    """Descriptions survive only where the catalogue publishes them verbatim: the bulk actions' (POST
    /batches/actions/<name>, and their body members')."""
    found = [place for path in sorted(VENDOR_FACTS.rglob("*.json"))
             for place in described_places(json.loads(path.read_text()))]
    assert found and [p for p in found if not p.startswith("/paths//batches/actions/")] == []


def sample_cases(which: str, ddl: bool):
    by_name = {e.name: e for e in ENTRIES}
    for path in sorted(SAMPLES.glob(f"*.{which}.json")):
        entry = by_name[path.name.split(".")[0]]
        if (entry.kind == "ddl") == ddl:
            yield pytest.param(entry, json.loads(path.read_text()), id=entry.name)


@pytest.mark.parametrize("entry,sample", list(sample_cases("input", ddl=False)) + list(sample_cases("input", ddl=True)))
def test_documented_sample_inputs_validate(entry, sample):
    assert errors_for(compile_schema(entry.input_schema), sample) == []


@pytest.mark.parametrize("entry,sample", list(sample_cases("output", ddl=False)))
def test_documented_sample_outputs_validate(entry, sample):
    assert errors_for(compile_schema(entry.output_schema), sample) == []


def sample_records(sample) -> list[dict]:
    """DDL samples come as a list, {"data": [...]} or {"<plural>": [...]}: the records either way."""
    if isinstance(sample, list):
        return sample
    return next(value for value in sample.values() if isinstance(value, list))


@pytest.mark.parametrize("entry,sample", list(sample_cases("output", ddl=True)))
def test_documented_ddl_samples_become_options(entry, sample, snapshot_json):
    records = sample_records(sample)
    result = options(entry.ddl, records)
    assert errors_for(compile_schema(entry.output_schema), result) == []
    assert [o["value"] for o in result["result"]] == [r["id"] for r in records]
    assert result == snapshot_json


def test_ddl_labels_use_the_best_template_and_fall_back():
    spec = next(e for e in ENTRIES if e.name == "list_prospects_ddl").ddl
    got = options(spec, [{"id": 1, "firstName": "Ada", "lastName": "Byron", "emails": ["ada@x.io"]},
                         {"id": 2, "name": "Grace Hopper", "emails": []},
                         {"id": 3, "emails": ["only@x.io"]}, {"id": 4}, {"name": "no id"}])
    assert got == {"result": [{"text": "Ada Byron <ada@x.io>", "value": 1}, {"text": "Grace Hopper", "value": 2},
                              {"text": "only@x.io", "value": 3}, {"text": "4", "value": 4}]}


def test_fields_fed_by_a_ddl_carry_a_lookup():
    conn_schema = schema_of(next(e for e in ENTRIES if e.name == "add_prospect_to_sequence").input_schema)
    props = conn_schema["properties"]
    assert props["sequence_id"]["lookup"] == {"operation": "list_sequences_ddl", "input": {}}
    assert props["prospect_id"]["lookup"] == {"operation": "list_prospects_ddl", "input": {}}
    assert props["mailbox_id"]["lookup"] == {"operation": "list_mailboxes_ddl", "input": {}}
    stage = schema_of(next(e for e in ENTRIES if e.name == "update_stage").input_schema)
    assert stage["properties"]["stage_id"]["lookup"]["operation"] == "list_stages_ddl"


def lookups(schema) -> set[str]:
    """Every DDL a schema's fields look up, at any depth."""
    if isinstance(schema, list):
        return set().union(*map(lookups, schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    own = {schema["lookup"]["operation"]} if isinstance(schema.get("lookup"), dict) else set()
    return own.union(*(lookups(v) for v in schema.values()))


def test_seed_schemas_look_up_seed_ddls_only_and_generated_ones_every_ddl():
    seed_ddls = {e.name for e in ENTRIES if e.kind == "ddl" and e.origin == "seed"}
    for entry in ENTRIES:
        if entry.origin == "seed":
            assert lookups(schema_of(entry.input_schema)) <= seed_ddls, entry.name  # seed schemas stay as specified
    update_prospect = schema_of(next(e for e in ENTRIES if e.name == "update_prospect").input_schema)
    assert update_prospect["properties"]["relationships"]["properties"]["persona"]["lookup"]["operation"] == \
        "list_personas_ddl"


HYPER_SCHEMA = VENDOR_FACTS / "outreach-hyper-schema.json"
VERB_KINDS = {"instances": "list", "self": "get", "create": "create", "update": "update", "destroy": "delete"}
# What docs/operations.md says is left out: the import collection actions (upload bodies).
LEFT_OUT = re.compile(r"^/imports/actions/\w+$")


def catalogue_requests() -> set[tuple[str, str]]:
    """(kind, path with {} for ids) of every entry; an action entry counts once per action it runs."""
    found = set()
    for entry in ENTRIES:
        path = re.sub(r"\{\w+\}", "{}", entry.path or "")
        kind = {"compliance_request": "create", "collection_action": "action"}.get(entry.kind, entry.kind)
        found.add((kind, path))
        found.update(("action", path.removesuffix("{}") + name) for name in entry.actions or ())
    return found


def test_every_hyper_schema_link_is_an_operation_or_a_documented_omission():
    have, missing, omitted = catalogue_requests(), [], []
    for type_name, definition in json.loads(HYPER_SCHEMA.read_text())["definitions"].items():
        for link in definition.get("links", []):
            path = re.sub(r"\{:\w+\}", "{}", link["href"].removeprefix("/api/v2"))
            if (VERB_KINDS.get(link["rel"], "action"), path) not in have:
                (omitted if LEFT_OUT.match(path) else missing).append((type_name, link["rel"], path))
    assert missing == []
    assert len(omitted) == 6  # the import actions: accountsImport, prospectsImport, bulkUpsert, ...


def test_generated_kinds_have_generated_schemas_and_the_rest_hand_written():
    hand = {e.name for e in ENTRIES if e.kind not in GENERATED_KINDS}
    assert hand == {"execute_link", "raw_http_request", "create_compliance_request"}


def test_the_operations_pages_tables_are_current():
    result = run_tool("tools.gen_operations_doc", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_quickstart_is_exactly_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quickstart", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert block.strip().splitlines() == ["./run demo", "./run test"]


@pytest.mark.parametrize("kind, given, named", [
    pytest.param("list", {}, "resource/path", id="list"),
    pytest.param("get", {"resource": "prospect", "path": "/prospects"}, "id_input", id="get-without-its-id"),
    pytest.param("action", {"id_input": "prospect_id"}, "actions, resource/path", id="action"),
    pytest.param("collection_action", {"resource": "prospect", "path": "/prospects"}, "bulk", id="bulk"),
    pytest.param("ddl", {"path": "/stages"}, "ddl, resource/path", id="ddl-without-its-resource"),
])
def test_an_entry_missing_what_its_kind_needs_is_refused_naming_it(kind, given, named):
    from outreach_connector.spec import operation_spec

    raw = {"name": "x", "title": "T", "description": "D", "kind": kind, "input_schema": {}, "output_schema": {},
           **given}
    with pytest.raises(ValueError, match=f"kind '{kind}' needs {named} "):
        operation_spec(raw)

"""Folder plugins: a plugin registers a folder laid out like the core catalogue; broken ones are refused."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from outreach_connector import Connector, hookimpl
from outreach_connector.errors import PluginError, RegistryError
from outreach_connector.registry import Registry, get_plugin_manager
from outreach_sandbox import Sandbox, SandboxConfig

from .readme_plugin import readme_plugin_files, write_readme_plugin

SANDBOX_URL = "http://sandbox.test/api/v2"


class FolderPlugin:
    """A plugin object registering one folder, as an installed plugin module would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_catalog(self, register):
        register(self.folder)


def build(folder: Path) -> Registry:
    return Registry(get_plugin_manager([FolderPlugin(folder)], entry_points=False))


@pytest.fixture
def readme_catalogue(tmp_path: Path) -> Path:
    return write_readme_plugin(tmp_path) / "outreach_stage_names" / "catalogue"


def test_the_readme_plugin_has_every_file_it_needs():
    assert sorted(readme_plugin_files()) == [
        "outreach_stage_names/__init__.py",
        "outreach_stage_names/catalogue/operations/stage_names.yaml",
        "outreach_stage_names/catalogue/schemas/list_stage_names.input.json",
        "outreach_stage_names/catalogue/schemas/list_stage_names.output.json",
        "pyproject.toml",
    ]


def test_a_folder_plugins_operation_is_listed_and_runs_against_the_sandbox(readme_catalogue: Path):
    sandbox = Sandbox(SandboxConfig())
    conn = Connector(base_url=SANDBOX_URL, access_token="sandbox-access-token", transport=sandbox.transport(),
                     plugins=[FolderPlugin(readme_catalogue)], entry_points=False)

    origins = {op["name"]: op["origin"] for op in conn.operations()}
    assert origins["list_stage_names"] == "plugin" and origins["list_stages"] == "seed"  # never passed off as seed
    assert conn.describe("list_stage_names")["input_schema"]["properties"]["fields"]["items"]["enum"] == [
        "name", "order"]
    page = conn.call("list_stage_names", {"page_size": 3, "fields": ["name"]})

    with httpx.Client(transport=sandbox.transport()) as raw:  # the same page, asked for without the connector
        expected = raw.get(f"{SANDBOX_URL}/stages?page[size]=3&fields[stage]=name",
                           headers={"Authorization": "Bearer sandbox-access-token"}).json()
    assert [r["attributes"] for r in page["data"]] == [r["attributes"] for r in expected["data"]]
    assert all(set(r["attributes"]) == {"name"} for r in page["data"]) and len(page["data"]) == 3


def test_plugin_input_is_validated_against_the_plugins_own_schema(readme_catalogue: Path):
    from outreach_connector.errors import InputInvalid

    conn = Connector(access_token="t", plugins=[FolderPlugin(readme_catalogue)], entry_points=False)
    with pytest.raises(InputInvalid, match="fields"):
        conn.call("list_stage_names", {"fields": ["color"]})


def entry(**overrides) -> dict:
    base = {"name": "list_stage_names", "title": "T", "description": "D", "kind": "list", "resource": "stage",
            "path": "/stages", "input_schema": "in.json", "output_schema": "out.json"}
    return {**base, **overrides}


def write_folder(root: Path, entries: list[dict], schemas: dict[str, object] | None = None) -> Path:
    (root / "operations").mkdir(parents=True)
    (root / "operations" / "ops.yaml").write_text(yaml.safe_dump(entries))
    for relative, body in ({"in.json": {"type": "object"}, "out.json": {"type": "object"}}
                           if schemas is None else schemas).items():
        path = root / "schemas" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body if isinstance(body, str) else json.dumps(body))
    return root


@pytest.mark.parametrize("entries,schemas,problem,file", [
    pytest.param([entry(output_schema="missing.json")], None, "schema 'missing.json' cannot be read",
                 "schemas/missing.json", id="missing-schema-file"),
    pytest.param([entry(input_schema="../../etc/passwd")], None, "leaves the folder's schemas/", "broken",
                 id="path-escape"),
    pytest.param([entry()], {"in.json": "{not json", "out.json": {}}, "schema 'in.json' cannot be read",
                 "schemas/in.json", id="schema-not-json"),
    pytest.param([entry()], {"in.json": [], "out.json": {}}, "schema 'in.json' is not a JSON object",
                 "schemas/in.json", id="schema-is-a-list"),
    pytest.param([entry()], {"in.json": {}, "out.json": '"out.json"'}, "schema 'out.json' is not a JSON object",
                 "schemas/out.json", id="schema-is-a-string"),
    pytest.param([entry()], {"in.json": {"type": "objekt"}, "out.json": {}}, "input schema does not compile",
                 "in.json", id="schema-does-not-compile"),
    pytest.param([entry(resource="spaceship")], None, "unknown resource type 'spaceship'", "operations/ops.yaml",
                 id="unknown-resource"),
    pytest.param([entry(kind="teleport")], None, "no handler for kind 'teleport'", "operations/ops.yaml",
                 id="unknown-kind"),
    pytest.param([entry(titel="typo")], None, "entry 'list_stage_names'", "operations/ops.yaml", id="typo-in-entry"),
])
def test_a_broken_folder_plugin_is_refused_naming_the_plugin_and_file(tmp_path, entries, schemas, problem, file):
    folder = write_folder(tmp_path / "broken", entries, schemas)
    with pytest.raises(PluginError) as caught:
        build(folder)
    assert problem in caught.value.message
    assert "FolderPlugin" in caught.value.plugin
    assert caught.value.file.endswith(file) and f"({caught.value.file})" in caught.value.message


def test_a_folder_plugin_cannot_take_a_core_operations_name(tmp_path):
    folder = write_folder(tmp_path / "dup", [entry(name="list_stages")])
    with pytest.raises(RegistryError, match="'list_stages' is registered twice .*outreach_connector.default"):
        build(folder)


def test_a_folder_plugin_may_ship_its_own_resource_type(tmp_path):
    resource = {"type": "object", "x-outreach": {"type": "widget", "path": "/widgets"},
                "properties": {"attributes": {"properties": {"name": {"type": "string"}}},
                               "relationships": {"properties": {}}}}
    folder = write_folder(tmp_path / "widgets", [entry(name="list_widgets", resource="widget", path="/widgets")],
                          {"in.json": {"type": "object"}, "out.json": {"type": "object"},
                           "resources/widget.json": resource})
    registered = build(folder)["list_widgets"]
    assert registered.owner == f"{FolderPlugin.__module__}.FolderPlugin"
    assert registered.read_only == frozenset()


def test_a_missing_folder_and_a_failing_hook_are_refused_by_name(tmp_path):
    with pytest.raises(PluginError, match="catalogue folder does not exist"):
        build(tmp_path / "nowhere")

    class Exploding:
        @hookimpl
        def register_catalog(self, register):
            raise RuntimeError("boom")

    with pytest.raises(PluginError, match=r"Exploding.*register_catalog failed: RuntimeError: boom"):
        Registry(get_plugin_manager([Exploding()], entry_points=False))

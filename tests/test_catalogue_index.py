"""catalogue-index.json spares each start the YAML parse, and is believed only while it matches the YAML."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from outreach_connector.catalogue_folders import INDEX_FILE, CatalogueFolder, core_folder, read_index, sources_digest

ROOT = Path(__file__).resolve().parents[1]
ENTRY = {"name": "list_stage_names", "title": "From the YAML", "description": "D", "kind": "list",
         "resource": "stage", "path": "/stages", "input_schema": "in.json", "output_schema": "out.json"}


def folder_with_index(tmp_path: Path, indexed_title: str) -> CatalogueFolder:
    """A folder whose index carries a title of its own, with a digest of the YAML beside it."""
    (tmp_path / "operations").mkdir()
    entry_file = tmp_path / "operations" / "ops.yaml"
    entry_file.write_text(yaml.safe_dump([ENTRY]))
    digest = sources_digest(tmp_path, [(entry_file, entry_file.read_bytes())])
    files = {"operations/ops.yaml": [{**ENTRY, "title": indexed_title}]}
    (tmp_path / INDEX_FILE).write_text(json.dumps({"digest": digest, "files": files}))
    return CatalogueFolder(tmp_path)


def test_the_committed_core_index_is_current_and_used():
    result = subprocess.run([sys.executable, "-m", "tools.gen_catalogue_index", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    folder = core_folder()
    sources = [(path, path.read_bytes()) for path in folder.indexed_files()]  # triggers too
    assert read_index(folder.root, sources) is not None  # the fast path is the one every start takes


def test_a_current_index_is_read_instead_of_the_yaml(tmp_path):
    [spec] = folder_with_index(tmp_path, "From the index").entries()
    assert spec.title == "From the index"


def test_an_index_left_stale_by_an_edit_is_ignored(tmp_path):
    folder = folder_with_index(tmp_path, "From the index")
    (tmp_path / "operations" / "ops.yaml").write_text(yaml.safe_dump([{**ENTRY, "title": "Edited"}]))
    [spec] = folder.entries()
    assert spec.title == "Edited"


def test_the_index_gives_the_same_entries_as_the_yaml(tmp_path):
    copy = tmp_path / "core"
    shutil.copytree(core_folder().root, copy, symlinks=False)
    from_index = CatalogueFolder(copy).entries()
    (copy / INDEX_FILE).unlink()
    from_yaml = CatalogueFolder(copy).entries()
    def as_text(specs):  # key order too: it orders schemas
        return [json.dumps(s.model_dump()) for s in specs]

    assert as_text(from_index) == as_text(from_yaml)
    assert len(from_yaml) >= 238


def test_a_folder_without_an_index_whose_yaml_does_not_parse_is_refused_by_file(tmp_path):
    from outreach_connector.errors import PluginError

    (tmp_path / "operations").mkdir()
    (tmp_path / "operations" / "ops.yaml").write_text("- name: list_stage_names\n  title: [unclosed\n")
    try:
        CatalogueFolder(tmp_path).entries()
    except PluginError as error:
        assert f"({tmp_path / 'operations' / 'ops.yaml'}): unreadable YAML: " in error.message
        assert "line 2, column 10" in error.message  # where the parser gave up
    else:
        raise AssertionError("a broken entry file was read")

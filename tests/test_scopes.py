"""connector.yaml's scopes cover every resource the catalogue calls, and are exactly what tools/gen_scopes.py makes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from outreach_connector.catalogue_folders import load_entries, load_manifest

ROOT = Path(__file__).resolve().parents[1]
LEVEL = {"get": "read", "list": "read", "ddl": "read", "create": "write", "update": "write", "action": "write",
         "collection_action": "write", "compliance_request": "write", "delete": "delete"}


def test_every_operation_is_covered_by_a_manifest_scope():
    scopes = set(load_manifest().auth["scopes"])
    uncovered = []
    for entry in load_entries():
        if entry.kind not in LEVEL:
            assert entry.kind in ("raw_http", "execute_link"), entry.kind
            continue
        resource = {"batchItems": "batches"}.get(entry.path.strip("/").split("/")[0],
                                                 entry.path.strip("/").split("/")[0])
        if not {f"{resource}.{LEVEL[entry.kind]}", f"{resource}.all"} & scopes:
            uncovered.append(f"{entry.name} needs {resource}.{LEVEL[entry.kind]}")
    assert uncovered == []


def test_no_scope_is_asked_for_without_an_operation_needing_it():
    needed = set()
    for entry in load_entries():
        if entry.kind in LEVEL:
            segment = entry.path.strip("/").split("/")[0]
            needed.add({"batchItems": "batches"}.get(segment, segment))
    assert {scope.split(".")[0] for scope in load_manifest().auth["scopes"]} == needed


def test_the_manifest_and_readme_lists_are_what_the_generator_makes():
    result = subprocess.run([sys.executable, "-m", "tools.gen_scopes", "--check"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    readme = (ROOT / "README.md").read_text()
    listed = readme.split("<!-- scopes:begin -->", 1)[1].split("<!-- scopes:end -->", 1)[0]
    assert listed.split("```text\n", 1)[1].split("\n```", 1)[0].split() == load_manifest().auth["scopes"]

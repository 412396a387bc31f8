"""The CLI contract: JSON on stdout, JSON errors on stderr, exit 0 / 2 invalid input / 3 upstream / 1 other."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from outreach_connector.catalogue_folders import load_entries
from outreach_connector.cli import main


@pytest.fixture(autouse=True)
def own_config_dir(tmp_path, monkeypatch):
    """A login stored on this machine must not change what these tests see (see tests/cli/ for more)."""
    monkeypatch.setenv("OUTREACH_CONNECTOR_CONFIG_DIR", str(tmp_path / "config"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_operations_json_lists_every_operation_with_its_origin(capsys):
    code, out, _ = run(capsys, "operations", "--json")
    ops = json.loads(out)
    assert code == 0 and len(ops) == len(load_entries())
    assert {"name": "get_stage", "kind": "get", "origin": "seed", "title": "Get stage",
            "description": "Get one stage by its ID, optionally limited to some fields."} in ops
    assert {"name": "update_prospect", "kind": "update", "origin": "outreach-schema", "title": "Update prospect",
            "description": "Change some attributes or relationships of a prospect; only the members you send change."
            } in ops


def test_operations_filter_by_origin(capsys):
    _, out, _ = run(capsys, "operations", "--json", "--origin", "seed")
    seed = json.loads(out)
    _, out, _ = run(capsys, "operations", "--origin", "outreach-schema")
    lines = out.splitlines()
    assert len(seed) == 95 and {op["origin"] for op in seed} == {"seed"}
    assert len(seed) + len(lines) == len(load_entries())
    assert all(line.split()[2] == "outreach-schema" for line in lines)


def test_schema_prints_input_and_output(capsys):
    _, out, _ = run(capsys, "schema", "delete_stage")
    assert json.loads(out)["required"] == ["stage_id"]
    _, out, _ = run(capsys, "schema", "delete_stage", "--output")
    assert json.loads(out)["properties"]["deleted"] == {"enum": [True]}


def test_call_against_the_sandbox(capsys):
    code, out, err = run(capsys, "call", "get_stage", '{"stage_id": 2}', "--sandbox")
    assert (code, err) == (0, "")
    assert json.loads(out)["data"]["id"] == 2


def test_invalid_input_exits_2_with_a_json_error(capsys):
    code, out, err = run(capsys, "call", "get_stage", '{"stage_id": "two"}', "--sandbox")
    assert (code, out) == (2, "")
    error = json.loads(err)
    assert error["error"] == "InputInvalid" and error["errors"][0]["path"] == "stage_id"


def test_malformed_json_exits_2(capsys):
    code, _, err = run(capsys, "call", "get_stage", "{nope", "--sandbox")
    assert code == 2 and "not valid JSON" in json.loads(err)["message"]


def test_upstream_failure_exits_3(capsys):
    code, _, err = run(capsys, "call", "get_stage", '{"stage_id": 999}', "--sandbox")
    assert code == 3 and json.loads(err)["status_code"] == 404


def test_unknown_operation_exits_2(capsys):
    code, _, err = run(capsys, "call", "get_widget", "{}", "--sandbox")
    assert code == 2 and json.loads(err)["error"] == "UnknownOperation"


def test_input_from_a_file_and_stdin(capsys, tmp_path, monkeypatch):
    path = tmp_path / "in.json"
    path.write_text('{"stage_id": 3}')
    assert json.loads(run(capsys, "call", "get_stage", f"@{path}", "--sandbox")[1])["data"]["id"] == 3
    monkeypatch.setattr(sys, "stdin", open(path))
    assert json.loads(run(capsys, "call", "get_stage", "-", "--sandbox")[1])["data"]["id"] == 3


def test_demo_runs_the_whole_workflow(capsys):
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "sequence state" in out and "finish -> sequence state" in out and out.rstrip().endswith(
        "(outreach-connector operations).")


@pytest.mark.parametrize("env,expected", [
    pytest.param({"OUTREACH_ACCESS_TOKEN": ""}, 2, id="no-credentials"),
])
def test_console_script_in_a_fresh_process(env, expected, tmp_path):
    import os

    result = subprocess.run([sys.executable, "-m", "outreach_connector.cli", "call", "list_stages", "{}"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "OUTREACH_BASE_URL": "http://127.0.0.1:9/api/v2",
                                 "OUTREACH_CONNECTOR_CONFIG_DIR": str(tmp_path / "config"), **env})
    assert result.returncode == expected
    error = json.loads(result.stderr)
    assert error["error"] == "CredentialsMissing" and "OUTREACH_ACCESS_TOKEN" in error["message"]


def test_from_env_reads_timeouts_and_the_retry_budget():
    from outreach_connector import Connector

    conn = Connector.from_env({"OUTREACH_ACCESS_TOKEN": "t", "OUTREACH_TIMEOUT": "connect=5,read=30",
                               "OUTREACH_MAX_RETRY_WAIT": "7"})
    assert conn.sender.config.timeout.connect == 5 and conn.sender.config.timeout.read == 30
    assert conn.sender.policy.max_total_wait == 7

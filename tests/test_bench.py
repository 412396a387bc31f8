"""The benchmark runs end to end in its smallest mode and reports every case; no timing is asserted here.

Speed is measured by ``python -m outreach_connector.bench`` itself (ratios against raw httpx), never by a
timed assertion in the test suite.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from outreach_connector.bench import parser, settings_from
from outreach_connector.bench.results import Result, Target, table
from outreach_connector.bench.settings import CASES, QUICK

TINY = ["--quick", "--prospects", "120", "--page-size", "40", "--calls", "10", "--repeats", "1",
        "--pull-repeats", "1", "--cold-runs", "1", "--sessions", "5", "--server-auths", "10", "--mcp-calls", "3",
        "--trigger-deliveries", "50", "--trigger-writes", "2"]
KEYS = ["small", "page", "pull", "pull_memory", "concurrency", "cold_operations", "cold_call", "sessions_memory",
        "sessions_time", "ddl_accounts_cold", "ddl_accounts_warm", "ddl_prospects_cold", "ddl_prospects_warm",
        "server_memory", "server_throughput", "mcp_call", "mcp_list_all", "mcp_list_seed", "mcp_list_read",
        "triggers_receiver_sqlite", "triggers_receiver_postgresql", "triggers_pull_latency", "triggers_push_latency"]


def test_tiny_run_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "outreach_connector.bench", *TINY, "--json", str(out)],
                          capture_output=True, text=True, timeout=180)  # a hang guard, not a timing
    document = json.loads(out.read_text())
    assert [r["key"] for r in document["results"]] == KEYS
    assert done.returncode == (0 if document["passed"] else 1), done.stderr
    assert document["passed"] == all(r["passed"] for r in document["results"])
    assert "| case" in done.stdout and "raw httpx floor" in done.stdout
    for result in document["results"]:
        assert result["label"] in done.stdout
        assert result["connector"] > 0 and result["floor"] > 0 and result["runs"] >= 1
    assert document["settings"]["prospects"] == 120 and document["machine"]["python"]


def test_quick_mode_and_overrides():
    args = parser().parse_args(["--quick", "--prospects", "300", "--only", "small,cold"])
    settings = settings_from(args)
    assert settings.prospects == 300 and settings.repeats == QUICK.repeats
    assert settings.cases == ("small", "cold") and set(settings.cases) <= set(CASES)


def test_unknown_case_is_refused():
    with pytest.raises(SystemExit, match="unknown case"):
        settings_from(parser().parse_args(["--only", "smal"]))


@pytest.mark.parametrize("target, value, met", [
    pytest.param(Target("<=", 1.5), 1.5, True, id="cost-ratio-at-limit"),
    pytest.param(Target("<=", 1.5), 1.51, False, id="cost-ratio-over"),
    pytest.param(Target("<", 100, "MB"), 100, False, id="memory-at-limit"),
    pytest.param(Target(">=", 0.8), 0.79, False, id="throughput-under"),
])
def test_targets(target, value, met):
    assert target.met(value) is met


def test_table_marks_a_missed_target():
    rows = [Result("small", "1. small call", 2e-3, 1e-3, "s", 2.0, Target("<=", 1.5), 3)]
    text = table(rows)
    assert "2.00x" in text and "NO" in text and "2.0 ms" in text and "1.0 ms" in text

"""Every one of the seed's 95 operations succeeds through the connector against a fresh seeded sandbox."""
from __future__ import annotations

import pytest
import yaml

from conftest import ROOT

CASES = yaml.safe_load((ROOT / "tests" / "cases" / "sandbox.yaml").read_text())


@pytest.mark.parametrize("case", [pytest.param(c, id=c["operation"]) for c in CASES])
def test_operation_succeeds_against_the_sandbox(case, sandbox, sandbox_connector, snapshot_json):
    before = len(sandbox.store.write_log)
    output = sandbox_connector.call(case["operation"], case["input"])
    assert output == snapshot_json
    [request] = sandbox.requests[-1:]
    assert request.bearer
    writes = sandbox.store.write_log[before:]
    if case["operation"].split("_")[0] in ("create", "update", "delete", "add", "set"):
        assert len(writes) == 1, writes  # applied exactly once
    else:
        assert writes == []


def test_every_seed_operation_has_a_sandbox_case(sandbox_connector):
    seed = {e.spec.name for e in sandbox_connector.registry if e.spec.origin == "seed"}
    assert seed == {c["operation"] for c in CASES}

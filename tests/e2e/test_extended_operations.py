"""Every operation generated from Outreach's schema succeeds through the connector against a fresh sandbox.

Unlike the seed's cases, outputs are not snapshotted (143 more snapshots would mostly echo seed data): each
case checks the record type and id the operation is about, what a write changed, and that it was applied once.
"""
from __future__ import annotations

import pytest
import yaml

from conftest import ROOT

CASES = yaml.safe_load((ROOT / "tests" / "cases" / "sandbox_extended.yaml").read_text())
WRITE_KINDS = ("create", "update", "delete", "action")


def check_output(spec, case: dict, output: dict) -> None:
    kind = spec.kind
    if kind == "delete":
        assert output == {"deleted": True}
    elif kind == "ddl":
        assert output["result"] and all(set(o) == {"text", "value"} for o in output["result"])
    elif kind == "list":
        assert output["data"] and {r["type"] for r in output["data"]} == {spec.resource}
    else:
        assert output["data"]["type"] == spec.resource
        if spec.id_input:
            assert output["data"]["id"] == case["input"][spec.id_input]
        sent = case["input"].get("attributes", {})
        assert {k: output["data"]["attributes"][k] for k in sent} == sent


def check_stored(store, spec, case: dict, output: dict) -> None:
    """The write is in the sandbox's store, not only in the answer: a deleted record is gone, sent attributes
    are kept."""
    if spec.kind == "delete":
        assert store.get(spec.resource, int(case["input"][spec.id_input])) is None
        return
    stored = store.get(spec.resource, int(output["data"]["id"]))
    sent = case["input"].get("attributes", {})
    assert {k: stored.attributes[k] for k in sent} == sent


@pytest.mark.parametrize("case", [pytest.param(c, id=c["operation"]) for c in CASES])
def test_extended_operation_succeeds_against_the_sandbox(case, sandbox, sandbox_connector):
    spec = sandbox_connector.registry[case["operation"]].spec
    before = len(sandbox.store.write_log)
    output = sandbox_connector.call(case["operation"], case["input"])
    check_output(spec, case, output)
    writes = sandbox.store.write_log[before:]
    assert len(writes) == (1 if spec.kind in WRITE_KINDS else 0), writes  # applied exactly once, or not at all
    if writes:
        assert writes[0].type == spec.resource
        check_stored(sandbox.store, spec, case, output)


def test_every_extended_operation_has_a_sandbox_case(sandbox_connector):
    extended = {e.spec.name for e in sandbox_connector.registry if e.spec.origin == "outreach-schema"}
    assert extended == {c["operation"] for c in CASES}

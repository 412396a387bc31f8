"""Every operation generated from Outreach's schema succeeds through the connector against a fresh sandbox.

Unlike the seed's cases, outputs are not snapshotted (a snapshot per generated operation would mostly echo seed
data): each case checks the record type and id the operation is about, what a write changed, and that it was
applied once.
A bulk action (collection_action) answers the batch it made; its case lists what the batch changed in the store.
"""
from __future__ import annotations

import pytest
import yaml

from conftest import ROOT

CASES = yaml.safe_load((ROOT / "tests" / "cases" / "sandbox_extended.yaml").read_text())
WRITE_KINDS = ("create", "update", "delete", "action", "collection_action")


def check_batch(spec, case: dict, output: dict) -> None:
    batch = output["data"]["attributes"]
    assert output["data"]["type"] == "batch" and batch["action"] == spec.path.rsplit("/", 1)[-1]
    assert (batch["state"], batch["pending"], batch["failures"]) == ("finished", 0, case.get("failures", 0))
    ids = case["input"].get("attributes", {}).get("ids")
    assert batch["total"] == (len(ids) if ids else len(case["applied"]))


def check_applied(store, case: dict) -> None:
    """What the batch changed: records gone, attributes and relationships ([type, id] refs) as listed."""
    for change in case["applied"]:
        record = store.get(change["type"], change["id"])
        if change.get("deleted"):
            assert record is None
            continue
        assert {k: record.attributes.get(k) for k in change.get("attributes", {})} == change.get("attributes", {})
        refs = {k: record.relationships.get(k) for k in change.get("relationships", {})}
        as_lists = {k: [list(r) for r in v] if isinstance(v, list) else list(v or ()) for k, v in refs.items()}
        assert as_lists == change.get("relationships", {})


def check_output(spec, case: dict, output: dict) -> None:
    kind = spec.kind
    if case.get("empty_answer"):
        assert output == {}  # Outreach's OpenAPI documents {} for the mailbox EWS link actions
    elif kind == "collection_action":
        check_batch(spec, case, output)
    elif kind == "delete":
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
    writes_expected = 1 if spec.kind in WRITE_KINDS and not case.get("empty_answer") else 0
    assert len(writes) == writes_expected, writes  # applied exactly once, or not at all
    if spec.kind == "collection_action":
        assert writes[0].type == "batch"
        check_applied(sandbox.store, case)
    elif writes:
        assert writes[0].type == spec.resource
        check_stored(sandbox.store, spec, case, output)


def test_every_extended_operation_has_a_sandbox_case(sandbox_connector):
    extended = {e.spec.name for e in sandbox_connector.registry if e.spec.origin == "outreach-schema"}
    assert extended == {c["operation"] for c in CASES}

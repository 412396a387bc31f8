"""A scripted mixed workload through the sandbox with ~20% of responses faulted (429, 502, 503, drops).

Every read must succeed, every idempotent write must succeed, and the sandbox's own records must show that no
create was applied twice: creates that ended in ``OutcomeUnknown`` are counted, reconciled by the caller with
a (faulted, retried) read, and checked against the sandbox's store and write log.

Figures are printed; ``pytest tests/reliability/test_fault_workload.py -s`` shows them.
"""
from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice

import pytest

from outreach_connector.errors import ConnectorError, OutcomeUnknown, UpstreamError
from outreach_connector.retry import RetryPolicy
from outreach_sandbox import Sandbox, SandboxConfig

from .conftest import CountingSends, RecordingTransport, VirtualClock, virtual_connector

OPERATIONS = 300
FAULT_RATE = 0.055  # five independent rules (429, 502, 503 at this rate, drops at half): ~20% of answers
# Reads must get through a 20% fault rate: 8 attempts fail together with probability 0.2**8 (2.6e-6).
POLICY = RetryPolicy(max_attempts=8, max_total_wait=120)
SEEDED_PROSPECTS = 60  # 1..40 are read, 41..60 deleted
MIX = {"get_prospect": 22, "get_account": 8, "list_prospects": 10, "iterate_prospects": 5, "list_stages": 5,
       "create_prospect": 18, "create_account": 12, "update_account": 12, "delete_prospect": 8}
READS = {"get_prospect", "get_account", "list_prospects", "iterate_prospects", "list_stages"}


def faulty_sandbox(clock: VirtualClock, seed: int) -> Sandbox:
    sb = Sandbox(SandboxConfig(seed=seed, clock=clock.tick, rate_limit=10**6, prospects=SEEDED_PROSPECTS))
    for status in (429, 502, 503):
        sb.faults.status(status, probability=FAULT_RATE)
    sb.faults.drop_before(probability=FAULT_RATE / 2)
    sb.faults.drop_after(probability=FAULT_RATE / 2)
    return sb


@dataclass
class Step:
    """One scripted operation: its name, connector input, and for creates the marker that identifies it."""

    kind: str
    operation: str
    input: dict
    marker: str | None = None


def script(seed: int) -> list[Step]:
    rng = random.Random(seed)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=OPERATIONS)
    deletable = list(range(41, SEEDED_PROSPECTS + 1))
    steps = []
    for i, kind in enumerate(kinds):
        if kind == "delete_prospect" and not deletable:
            kind = "get_prospect"
        steps.append(make_step(i, kind, rng, deletable))
    return steps


def make_step(i: int, kind: str, rng: random.Random, deletable: list[int]) -> Step:
    pid = rng.randint(1, 40)
    if kind == "get_prospect":
        return Step(kind, kind, {"prospect_id": pid})
    if kind == "get_account":
        return Step(kind, kind, {"account_id": rng.randint(1, 12)})
    if kind == "list_prospects":
        return Step(kind, kind, {"page_size": 20, "sort": {"sort_by": "id"}})
    if kind == "iterate_prospects":
        return Step(kind, "list_prospects", {"page_size": 25})
    if kind == "list_stages":
        return Step(kind, kind, {})
    if kind == "create_prospect":
        email = f"workload-{i}@example.test"
        return Step(kind, kind, {"attributes": {"emails": [email], "firstName": "Load", "lastName": f"W{i}"}}, email)
    if kind == "create_account":
        name = f"Workload account {i}"
        return Step(kind, kind, {"attributes": {"name": name}}, name)
    if kind == "update_account":
        return Step(kind, kind, {"account_id": rng.randint(1, 12), "attributes": {"custom1": f"Touched {i}"}})
    return Step(kind, kind, {"prospect_id": deletable.pop(0)})


@dataclass
class Results:
    outcomes: Counter = field(default_factory=Counter)       # "<kind> <result>"
    created: dict = field(default_factory=dict)              # marker -> id the connector returned
    unknown: list = field(default_factory=list)              # steps that ended OutcomeUnknown
    refused: list = field(default_factory=list)              # creates answered 5xx, not repeated
    failures: list = field(default_factory=list)             # anything a reliable connector must not let through

    def record(self, step: Step, output, error: Exception | None) -> None:
        if error is None:
            self.outcomes[f"{step.kind} ok"] += 1
            if step.marker:
                self.created[step.marker] = output["data"]["id"]
            return
        self.outcomes[f"{step.kind} {type(error).__name__}"] += 1
        if step.marker and isinstance(error, OutcomeUnknown):
            self.unknown.append(step)
        elif step.marker and isinstance(error, UpstreamError) and error.status_code in (500, 502, 504):
            self.refused.append(step)
        else:  # a read, an update or a delete that failed, or a create that failed for another reason
            self.failures.append((step.kind, step.input, repr(error)))


def run_step(conn, step: Step):
    if step.kind == "iterate_prospects":
        return list(islice(conn.iterate(step.operation, step.input), 70))
    return conn.call(step.operation, step.input)


def run_sync(conn, steps: list[Step]) -> Results:
    results = Results()
    for step in steps:
        try:
            results.record(step, run_step(conn, step), None)
        except ConnectorError as error:
            results.record(step, None, error)
    return results


async def run_async(conn, steps: list[Step], workers: int) -> Results:
    results = Results()
    queue = list(reversed(steps))

    async def worker():
        while queue:
            step = queue.pop()
            try:
                if step.kind == "iterate_prospects":
                    output = [r async for r in conn.aiterate(step.operation, step.input)][:70]
                else:
                    output = await conn.acall(step.operation, step.input)
                results.record(step, output, None)
            except ConnectorError as error:
                results.record(step, None, error)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return results


def store_matches(sb: Sandbox, step: Step) -> list[int]:
    """ids of live records carrying the step's marker, straight from the sandbox's store."""
    if step.kind == "create_prospect":
        return [r.id for r in sb.store.records("prospect") if step.marker in (r.attributes.get("emails") or [])]
    return [r.id for r in sb.store.records("account") if r.attributes.get("name") == step.marker]


def reconcile(conn, step: Step) -> list[int]:
    """What a careful caller does after OutcomeUnknown: look the record up by its unique marker."""
    field_name = "emails" if step.kind == "create_prospect" else "name"
    operation = "list_prospects" if step.kind == "create_prospect" else "list_accounts"
    page = conn.call(operation, {"filters": [{"field": field_name, "criteria": step.marker}]})
    return [record["id"] for record in page["data"]]


def measure(steps: list[Step], results: Results, transport: RecordingTransport, sends: CountingSends) -> dict:
    """The workload's figures, from the connector's side of the wire (before any reconciliation)."""
    kinds = transport.kinds()
    faults = {k: kinds[k] for k in ("429", "502", "503", "drop-before", "drop-after")}
    requests = len(transport.outcomes)
    return {
        "operations": len(steps), "http_requests": requests, "logical_sends": sends.count,
        "retries": requests - sends.count, "faults": faults, "fault_rate": round(sum(faults.values()) / requests, 3),
        "reads_ok": sum(v for k, v in results.outcomes.items() if k.split()[0] in READS and k.endswith(" ok")),
        "creates": sum(1 for s in steps if s.marker), "creates_ok": len(results.created),
        "outcome_unknown": len(results.unknown), "creates_refused_5xx": len(results.refused),
        "outcomes": dict(sorted(results.outcomes.items())),
    }


def check(sb: Sandbox, conn, steps: list[Step], results: Results, figures: dict) -> None:
    """No failure slipped through, and the sandbox's own records show no create applied twice."""
    assert results.failures == [], results.failures
    assert figures["reads_ok"] == sum(1 for s in steps if s.kind in READS)
    assert 0.15 <= figures["fault_rate"] <= 0.25, figures
    by_marker = {s.marker: store_matches(sb, s) for s in steps if s.marker}
    duplicates = {m: ids for m, ids in by_marker.items() if len(ids) > 1}
    assert duplicates == {}
    for marker, ident in results.created.items():
        assert by_marker[marker] == [ident]
    for step in results.refused:  # a status fault never runs the request
        assert by_marker[step.marker] == []
    applied_unknown = 0
    for step in results.unknown:
        found = reconcile(conn, step)  # faulted reads too: they must get through
        assert found == by_marker[step.marker] and len(found) <= 1
        applied_unknown += len(found)
    # The write log agrees: one applied POST per create that landed, none more.
    posts = [e for e in sb.store.write_log if e.method == "POST" and e.type in ("prospect", "account")]
    assert len(posts) == len(results.created) + applied_unknown
    assert len({(e.type, e.id) for e in posts}) == len(posts)
    figures.update(outcome_unknown_applied=applied_unknown, duplicates=len(duplicates))


def run_checked(sb, conn, steps, results, transport, sends) -> dict:
    figures = measure(steps, results, transport, sends)
    check(sb, conn, steps, results, figures)
    assert figures["outcome_unknown"] > 0 and figures["retries"] > 0  # the faults did bite
    return figures


@pytest.mark.parametrize("seed", [1])
def test_sync_workload_survives_faults_without_duplicates(seed):
    clock = VirtualClock(latency=0.05)
    sb = faulty_sandbox(clock, seed)
    transport = RecordingTransport(sb.transport())
    conn = virtual_connector(transport, clock, POLICY)
    sends = CountingSends(conn)
    steps = script(seed)
    figures = run_checked(sb, conn, steps, run_sync(conn, steps), transport, sends)
    conn.close()
    print(f"\nfault workload (sync, seed {seed}): {figures}")


@pytest.mark.anyio
async def test_async_workload_with_concurrent_callers_survives_faults_without_duplicates():
    clock = VirtualClock(latency=0.05)
    sb = faulty_sandbox(clock, 3)
    transport = RecordingTransport(sb.transport())
    conn = virtual_connector(transport, clock, POLICY)
    sends = CountingSends(conn)
    steps = script(3)
    results = await run_async(conn, steps, workers=8)
    figures = run_checked(sb, conn, steps, results, transport, sends)
    await conn.aclose()
    conn.close()
    print(f"\nfault workload (async, 8 concurrent callers): {figures}")

"""Seed data: only known members, consistent references, determinism, and a 50,000-prospect org that is cheap."""
from __future__ import annotations

import time

import httpx
import pytest

from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.schema import load_catalogue
from outreach_sandbox.validation import check_attribute

from .conftest import AUTH, BASE

CATALOGUE = load_catalogue()


@pytest.fixture(scope="module")
def seeded() -> Sandbox:
    return Sandbox()


@pytest.mark.parametrize("type_name", sorted(CATALOGUE.types))
def test_seed_records_use_known_members_with_valid_values(seeded, type_name):
    rtype = CATALOGUE[type_name]
    for record in seeded.store.records(type_name):
        for name, value in record.attributes.items():
            assert name in rtype.attributes, f"{type_name}.{name}"
            normalized, problem = check_attribute(rtype.attributes[name], value)
            assert problem is None and normalized == value, f"{type_name} {record.id} {name}={value!r}: {problem}"
        assert set(record.relationships) <= set(rtype.relationships), type_name


@pytest.mark.parametrize("type_name", sorted(CATALOGUE.types))
def test_seed_references_point_at_existing_records_of_the_right_type(seeded, type_name):
    rtype = CATALOGUE[type_name]
    for record in seeded.store.records(type_name):
        for name, ref in record.relationships.items():
            if ref is None or isinstance(ref, list):
                continue
            assert ref[0] in rtype.relationships[name].targets, f"{type_name}.{name} -> {ref}"
            if ref[0] in CATALOGUE:
                assert seeded.store.get(*ref) is not None, f"{type_name} {record.id}.{name} -> {ref}"


def test_seed_prospect_emails_are_unique():
    sb = Sandbox(SandboxConfig(prospects=5000, accounts=3))
    emails = [e for r in sb.store.records("prospect") for e in r.attributes["emails"]]
    assert len(emails) == len(set(emails)) == 5000


def test_seeded_prospects_are_never_twice_in_one_sequence(seeded):
    pairs = [(s.ref_id("prospect"), s.ref_id("sequence")) for s in seeded.store.records("sequenceState")]
    assert len(pairs) == len(set(pairs))


def test_seed_looks_like_a_real_org(seeded):
    prospect = seeded.store.get("prospect", 1).attributes
    assert {"firstName", "lastName", "emails", "title", "company", "tags", "workPhones", "custom1"} <= set(prospect)
    assert len(CATALOGUE["prospect"].attributes) >= 150
    tasks = seeded.store.records("task")
    assert {t.attributes["state"] for t in tasks} == {"complete", "incomplete"}
    assert any(t.attributes["taskType"].startswith("sequence_step") for t in tasks)
    assert {s.attributes["state"] for s in seeded.store.records("sequenceState")} >= {"active", "paused"}
    assert all(seeded.store.get("mailbox", u.id) for u in seeded.store.records("user"))


def _dump(sb: Sandbox) -> list[bytes]:
    with httpx.Client(transport=sb.transport(), base_url=BASE, headers=AUTH) as client:
        bodies = [client.get(CATALOGUE[t].path, params={"page[size]": 1000}).content for t in sorted(CATALOGUE.types)]
        bodies.append(client.post("/stages", json={"data": {"type": "stage", "attributes": {"name": "N"}}},
                                  headers={"Content-Type": "application/vnd.api+json"}).content)
        return bodies


def test_same_seed_gives_byte_identical_responses():
    assert _dump(Sandbox(SandboxConfig(seed=7))) == _dump(Sandbox(SandboxConfig(seed=7)))


def test_a_different_seed_gives_different_data():
    one, two = Sandbox(SandboxConfig(seed=1)), Sandbox(SandboxConfig(seed=2))
    assert one.store.get("prospect", 1).attributes != two.store.get("prospect", 1).attributes


def test_reset_returns_to_the_seed(sb, client):
    seed_body = client.get("/stages/1").json()["data"]["attributes"]
    client.patch("/stages/1", json={"data": {"type": "stage", "id": 1, "attributes": {"name": "Changed"}}})
    client.delete("/stages/2")
    sb.faults.status(500)
    sb.reset()
    assert sb.store.write_log == [] and sb.faults.rules == []
    assert client.get("/stages/1").json()["data"]["attributes"] == seed_body
    assert client.get("/stages/2").status_code == 200


def test_fifty_thousand_prospects_build_fast_and_serve_a_full_page():
    started = time.perf_counter()
    sb = Sandbox(SandboxConfig(prospects=50_000))
    built = time.perf_counter() - started
    with httpx.Client(transport=sb.transport(), base_url=BASE, headers=AUTH) as client:
        first = client.get("/prospects", params={"page[size]": 1000})
        second = client.get(first.json()["links"]["next"])
        last = client.get("/prospects", params={"page[size]": 1000, "filter[id]": "49001..inf", "count": "false"})
    elapsed = time.perf_counter() - started
    assert built < 1.0
    assert first.status_code == second.status_code == 200
    assert first.json()["meta"]["count"] == 50_000
    assert [r["id"] for r in second.json()["data"]] == list(range(1001, 2001))
    assert len(last.json()["data"]) == 1000 and "next" not in last.json()["links"]
    assert elapsed < 15, f"{elapsed:.1f}s"

"""Every operation builds exactly the request Outreach expects.

tests/cases/requests.yaml covers each of the seed's operations; tests/cases/requests_extended.yaml covers every
kind of the operations generated from Outreach's schema (they share the generic handlers).
"""
from __future__ import annotations

import json
from urllib.parse import unquote

import httpx
import pytest
import yaml

from conftest import BASE_URL, ROOT, TOKEN, FakeOutreach, jsonapi

SEED_CASES = yaml.safe_load((ROOT / "tests" / "cases" / "requests.yaml").read_text())
EXTENDED_CASES = yaml.safe_load((ROOT / "tests" / "cases" / "requests_extended.yaml").read_text())
CASES = SEED_CASES + EXTENDED_CASES


def canned(kind: str, resource: str | None, request: httpx.Request) -> httpx.Response:
    """A minimal valid answer for the operation's kind; the request is what these tests check."""
    if request.method == "DELETE":
        return httpx.Response(204)
    if kind == "compliance_request":
        return jsonapi(201, {"data": {"batch_compliance_request_id": "4f2b"}})
    if kind in ("list", "ddl", "execute_link"):
        return jsonapi(200, {"data": [], "links": {}, "meta": {"count": 0}})
    if kind == "raw_http":
        return jsonapi(200, {"ok": True})
    return jsonapi(201 if request.method == "POST" else 200, {"data": {"type": resource, "id": 1}})


def decoded_params(request: httpx.Request) -> list[list[str]]:
    return [[unquote(k), unquote(v)] for k, v in request.url.params.multi_items()]


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c['operation']}-{c['id']}") for c in CASES])
def test_operation_builds_exact_request(case, make_connector):
    conn = make_connector(FakeOutreach())
    spec = conn.registry[case["operation"]].spec
    fake = FakeOutreach(lambda request: canned(spec.kind, spec.resource, request))
    conn = make_connector(fake)

    output = conn.call(case["operation"], case["input"])

    [request] = fake.requests
    expected = case["request"]
    assert request.method == expected["method"]
    assert request.url.scheme + "://" + request.url.host + request.url.path == BASE_URL + expected["path"]
    assert decoded_params(request) == expected.get("params", [])
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.api+json"
    for name, value in expected.get("headers", {}).items():
        assert request.headers[name] == value
    if "json" in expected:
        assert request.headers["content-type"] == "application/vnd.api+json"
        assert json.loads(request.content) == expected["json"]
    else:
        assert request.content == b""
    if "output" in case:
        assert output == case["output"]


def by_origin(conn, origin: str) -> dict[str, str]:
    return {e.spec.name: e.spec.kind for e in conn.registry if e.spec.origin == origin}


def test_every_seed_operation_has_a_request_case(make_connector):
    conn = make_connector(FakeOutreach())
    assert set(by_origin(conn, "seed")) == {c["operation"] for c in SEED_CASES}


def test_every_kind_of_extended_operation_has_a_request_case(make_connector):
    extended = by_origin(make_connector(FakeOutreach()), "outreach-schema")
    assert {c["operation"] for c in EXTENDED_CASES} <= set(extended)
    assert {extended[c["operation"]] for c in EXTENDED_CASES} == set(extended.values())

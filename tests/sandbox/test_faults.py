"""Fault injection, in process (sync and async clients) and over a real loopback socket."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

from .conftest import AUTH, BASE, JSONAPI, doc

NEW_STAGE = doc("stage", {"name": "Fresh"})


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_status_faults(sb, client, status):
    rule = sb.faults.status(status, times=1, path="/stages")
    failed = client.get("/stages/1")
    assert failed.status_code == status
    assert failed.headers["content-type"] == JSONAPI
    assert ("retry-after" in failed.headers) == (status in (429, 503))
    assert client.get("/stages/1").status_code == 200
    assert rule.fired == 1


def test_faults_target_method_and_path(sb, client):
    sb.faults.status(500, method="POST", path="/stages")
    assert client.get("/stages").status_code == 200
    assert client.post("/prospects", json=doc("prospect", {})).status_code == 201
    assert client.post("/stages", json=NEW_STAGE).status_code == 500
    assert sb.store.write_log[-1].type == "prospect"  # the failed create was not applied


def test_skip_then_times(sb, client):
    sb.faults.status(503, skip=2, times=2, retry_after=7)
    statuses = [client.get("/stages/1").status_code for _ in range(6)]
    assert statuses == [200, 200, 503, 503, 200, 200]


def test_probability_is_seeded():
    def run(seed: int) -> list[int]:
        sb = Sandbox(SandboxConfig(seed=seed))
        sb.faults.status(502, probability=0.5)
        with httpx.Client(transport=sb.transport(), base_url=BASE, headers=AUTH) as c:
            return [c.get("/stages/1").status_code for _ in range(40)]

    first = run(3)
    assert first == run(3)
    assert 5 < first.count(502) < 35


def test_large_pages_fail_with_502(sb, client):
    sb.faults.large_page(100)
    assert client.get("/prospects", params={"page[size]": 100}).status_code == 200
    assert client.get("/prospects", params={"page[size]": 101}).status_code == 502
    assert client.get("/prospects").status_code == 200


def test_custom_fault_body(sb, client):
    sb.faults.status(502, body=b"<html>Bad Gateway</html>", times=1)
    assert client.get("/stages/1").text == "<html>Bad Gateway</html>"


def test_slow_responses(sb, client):
    sb.faults.slow(0.2, times=1)
    started = time.perf_counter()
    assert client.get("/stages/1").status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_drop_before_is_a_transport_error_and_applies_nothing(sb, client):
    sb.faults.drop_before(method="POST", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/stages", json=NEW_STAGE)
    assert sb.store.write_log == []
    assert client.post("/stages", json=NEW_STAGE).status_code == 201


def test_drop_after_applies_the_write_but_loses_the_response(sb, client):
    sb.faults.drop_after(method="POST", path="/stages", times=1)
    with pytest.raises(httpx.TransportError):
        client.post("/stages", json=NEW_STAGE)
    assert [(e.method, e.type) for e in sb.store.write_log] == [("POST", "stage")]
    assert client.get(f"/stages/{sb.store.write_log[0].id}").json()["data"]["attributes"]["name"] == "Fresh"


def test_token_endpoint_can_be_throttled(sb):
    sb.faults.status(429, path="/oauth/token", times=1, retry_after=60)
    with httpx.Client(transport=sb.transport(), base_url="http://sandbox.test") as c:
        form = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret",
                "grant_type": "refresh_token", "refresh_token": "sandbox-refresh-token"}
        throttled = c.post("/oauth/token", data=form)
        assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "60")
        assert c.post("/oauth/token", data=form).status_code == 200  # the throttled call spent nothing


def test_requests_are_recorded_even_when_faulted(sb, client):
    sb.faults.drop_before(times=1)
    with pytest.raises(httpx.TransportError):
        client.get("/stages", params={"page[size]": 2})
    recorded = sb.requests[-1]
    assert (recorded.method, recorded.path, recorded.query, recorded.bearer) == (
        "GET", "/api/v2/stages", "page%5Bsize%5D=2", True)


def test_async_client_sees_the_same_faults(sb):
    async def scenario() -> list:
        async with httpx.AsyncClient(transport=sb.transport(), base_url=BASE,
                                     headers={**AUTH, "Content-Type": JSONAPI}) as c:
            sb.faults.status(503, times=1)
            sb.faults.drop_after(method="POST", times=1)
            outcomes = [(await c.get("/stages/1")).status_code]
            try:
                await c.post("/stages", json=NEW_STAGE)
            except httpx.TransportError as exc:
                outcomes.append(type(exc).__name__)
            outcomes.append((await c.get("/stages/1")).status_code)
            return outcomes

    assert asyncio.run(scenario()) == [503, "RemoteProtocolError", 200]
    assert len(sb.store.write_log) == 1


def test_plain_asgi_transport_also_gets_a_transport_error(sb):
    sb.faults.drop_before(times=1)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sb.app), base_url=BASE, headers=AUTH) as c:
            await c.get("/stages/1")

    with pytest.raises(httpx.TransportError):
        asyncio.run(scenario())


def test_over_a_real_socket(sb):
    with serving(sb) as base, httpx.Client(base_url=base, headers={**AUTH, "Content-Type": JSONAPI}) as c:
        listed = c.get("/prospects", params={"page[size]": 2})
        assert listed.status_code == 200
        assert listed.json()["links"]["next"].startswith(f"{base}/prospects?")
        assert listed.json()["data"][0]["links"]["self"] == f"{base}/prospects/1"
        sb.faults.drop_before(times=1)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            c.get("/stages/1")
        sb.faults.drop_after(method="POST", times=1)
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/stages", json=NEW_STAGE)
        assert len(sb.store.write_log) == 1
        sb.faults.status(504, times=1)
        assert c.get("/stages/1").status_code == 504
        assert c.get("/stages/1").status_code == 200


def test_slow_responses_hit_the_client_read_timeout(sb):
    sb.faults.slow(5, method="POST", times=1)
    with httpx.Client(transport=sb.transport(), base_url=BASE, headers={**AUTH, "Content-Type": JSONAPI},
                      timeout=0.1) as c:
        started = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout):
            c.post("/stages", json=NEW_STAGE)
        assert time.perf_counter() - started < 2
        assert sb.store.write_log == []  # abandoned while waiting: never applied
        assert c.get("/stages/1").status_code == 200


def test_the_request_log_is_bounded():
    sb = Sandbox(SandboxConfig(max_logged_requests=10))
    with httpx.Client(transport=sb.transport(), base_url=BASE, headers=AUTH) as c:
        for n in range(25):
            c.get(f"/stages/{n % 7 + 1}")
    assert 5 <= len(sb.requests) <= 10
    assert sb.requests[-1].path == f"/api/v2/stages/{24 % 7 + 1}"

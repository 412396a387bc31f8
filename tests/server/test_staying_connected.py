"""Authentications that stay connected: status and marking, the list filters, reconnecting, the keep-alive."""
from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from outreach_sandbox.faults import FaultRule
from outreach_connector.server import create_app
from outreach_connector.server.connect_store import mark_reconnect_required
from outreach_connector.server.keepalive import KeepAlive
from outreach_connector.server.secrets_box import generate_key_text

from .helpers import CALL, OTHER_KEY, client_for
from .live import LiveServer
from .test_connect import (RETURN, app, client, connect_through_sandbox, listed, outreach,  # noqa: F401 - fixtures
                           sandbox, settings_for)

pytestmark = pytest.mark.anyio

LONG_AGO = "2020-01-01T00:00:00.000000Z"


async def store_oauth(client: httpx.AsyncClient, refresh_token: str = "sandbox-refresh-token", **extra: str) -> str:
    created = await client.post("/authentications", json={"name": "ops", "credentials": {
        "client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret", "refresh_token": refresh_token,
        **extra}})
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def call(client: httpx.AsyncClient, auth_id: str) -> dict[str, Any]:
    response = await client.post(CALL, json={"operation": "get_user", "authId": auth_id, "input": {"user_id": 1}})
    assert response.status_code == 200, response.text
    return response.json()


async def shown(client: httpx.AsyncClient, auth_id: str) -> dict[str, Any]:
    return (await client.get(f"/authentications/{auth_id}")).json()


def age(app, auth_id: str, updated_at: str = LONG_AGO) -> None:
    """Make the row look as if its tokens were last issued at ``updated_at``."""
    backend = app.state.services.store.backend
    with backend.transaction() as db:
        backend.execute(db, "UPDATE authentications SET updated_at = ? WHERE id = ?", (updated_at, auth_id))


def api_requests(outreach) -> int:
    return len(outreach.requests)


async def test_a_refused_refresh_marks_the_row_and_later_calls_send_nothing(client, outreach):
    auth_id = await store_oauth(client, "dead-refresh-token")
    first = await call(client, auth_id)
    assert first["outcome"] == "error" and first["output"]["response"]["statusCode"] == 400
    view = await shown(client, auth_id)
    assert (view["status"], view["status_reason"]) == ("reconnect_required", "invalid_grant")
    sent = api_requests(outreach)
    second = await call(client, auth_id)
    assert second["outcome"] == "error" and second["output"]["response"] == {"statusCode": None, "body": None}
    assert "needs reconnecting" in second["output"]["message"] and "invalid_grant" in second["output"]["message"]
    assert api_requests(outreach) == sent


async def test_a_401_on_an_access_token_marks_it(client, outreach):
    created = await client.post("/authentications", json={"name": "t", "credentials": {"access_token": "revoked"}})
    auth_id = created.json()["id"]
    first = await call(client, auth_id)
    assert first["output"]["response"]["statusCode"] == 401
    view = await shown(client, auth_id)
    assert (view["status"], view["status_reason"], view["last_refreshed_at"]) == (
        "reconnect_required", "access_token_rejected", None)
    sent = api_requests(outreach)
    assert (await call(client, auth_id))["output"]["response"]["statusCode"] is None
    assert api_requests(outreach) == sent


async def test_other_failures_do_not_mark(client, sandbox):
    auth_id = await store_oauth(client)
    sandbox.faults.add(FaultRule("status", status=500, times=10))
    assert (await call(client, auth_id))["outcome"] == "error"
    assert (await shown(client, auth_id))["status"] == "connected"


async def test_the_list_filters_by_status_and_change_time(client, app):
    healthy = await store_oauth(client)
    backend = app.state.services.store.backend
    with backend.transaction() as db:  # connected since long ago
        backend.execute(db, "UPDATE authentications SET status_since = ?", (LONG_AGO,))
    dead = await store_oauth(client, "dead-refresh-token")
    await call(client, dead)
    assert [a["id"] for a in await listed(client, "?status=reconnect_required")] == [dead]
    assert [a["id"] for a in await listed(client, "?status=connected")] == [healthy]
    marked_at = (await shown(client, dead))["status_since"]
    assert [a["id"] for a in await listed(client, f"?changed_since={marked_at}")] == [dead]
    assert [a["id"] for a in await listed(client, "?changed_since=2999-01-01T00:00:00%2B00:00")] == []
    async with client_for(client._transport.app, OTHER_KEY) as other:
        assert await listed(other, "?status=reconnect_required") == []


@pytest.mark.parametrize(("query", "message"), [
    ("?status=dead", "status must be one of connected, reconnect_required"),
    ("?changed_since=yesterday", "changed_since must be an ISO 8601 date-time"),
    ("?changed_since=2026-01-01T00:00:00", "changed_since must carry a UTC offset"),
])
async def test_bad_filters_are_400(client, query, message):
    response = await client.get(f"/authentications{query}")
    assert response.status_code == 400 and message in response.json()["message"]


async def test_reconnecting_a_marked_authentication_keeps_its_id_and_calls_work_again(client, app, sandbox):
    dead = await store_oauth(client, "dead-refresh-token")
    await call(client, dead)
    arrived = await connect_through_sandbox(client, app, sandbox, return_url=RETURN, authentication_id=dead)
    assert parse_qs(urlsplit(arrived.headers["location"]).query)["authentication_id"] == [dead]
    view = await shown(client, dead)
    assert (view["status"], view["status_reason"], view["kind"]) == ("connected", None, "oauth")
    assert (await call(client, dead))["outcome"] == "success"


async def test_a_reconnect_is_never_overwritten_by_a_failure_of_the_old_tokens(client, app, sandbox):
    auth_id = await store_oauth(client)
    seen_before = (await shown(client, auth_id))["status_since"]
    await asyncio.sleep(1.1)  # status_since moves on by at least a second
    await connect_through_sandbox(client, app, sandbox, return_url=RETURN, authentication_id=auth_id)
    assert not mark_reconnect_required(app.state.services.store, auth_id, "invalid_grant", seen_before)
    assert (await shown(client, auth_id))["status"] == "connected"


async def test_a_session_cached_elsewhere_sees_the_mark(tmp_path, outreach):
    """Another replica's cached session re-reads the row within session_check_seconds and stops sending."""
    settings = settings_for(tmp_path / "s.db", session_check_seconds=0)
    here, there = create_app(settings, transport=outreach), create_app(settings, transport=outreach)
    async with client_for(here) as client_here, client_for(there) as client_there:
        auth_id = await store_oauth(client_here)
        assert (await call(client_there, auth_id))["outcome"] == "success"  # a session is cached there
        assert mark_reconnect_required(here.state.services.store, auth_id, "invalid_grant",
                                       (await shown(client_here, auth_id))["status_since"])
        sent = api_requests(outreach)
        assert (await call(client_there, auth_id))["output"]["response"]["statusCode"] is None
        assert api_requests(outreach) == sent


# --- the keep-alive ----------------------------------------------------------------------------------------

async def test_the_keep_alive_refreshes_idle_authentications_and_marks_dead_ones(client, app, sandbox, outreach):
    arrived = await connect_through_sandbox(client, app, sandbox, return_url=RETURN)
    idle = parse_qs(urlsplit(arrived.headers["location"]).query)["authentication_id"][0]
    fresh = await store_oauth(client)
    dead = await store_oauth(client, "dead-refresh-token")
    age(app, idle)
    age(app, dead)
    before = sandbox.token_refreshes
    outcomes = await KeepAlive(app.state.services).sweep()
    assert outcomes == {"refreshed": 1, "marked reconnect_required": 1}
    assert sandbox.token_refreshes == before + 1
    refresh = outreach.token_forms()[-2:]
    assert {form["refresh_token"][0] for form in refresh} >= {"dead-refresh-token"}
    (sent,) = [form for form in refresh if form["refresh_token"] != ["dead-refresh-token"]]
    assert sent["grant_type"] == ["refresh_token"] and sent["redirect_uri"] == ["https://connector.example/oauth/callback"]
    assert (await shown(client, idle))["last_refreshed_at"] > LONG_AGO
    assert (await shown(client, dead))["status_reason"] == "invalid_grant"
    assert (await shown(client, fresh))["status"] == "connected"
    assert (await call(client, idle))["outcome"] == "success"  # the rotated tokens were stored
    assert await KeepAlive(app.state.services).sweep() == {}  # nothing idle any more


async def test_the_keep_alive_reads_each_authentication_once_through_its_lease(client, app, outreach, monkeypatch):
    idle = await store_oauth(client)
    age(app, idle)
    backend = app.state.services.store.backend
    fetched, leased = [], []
    fetch, lease = backend.fetch, backend.lease_row
    monkeypatch.setattr(backend, "fetch", lambda auth_id: fetched.append(auth_id) or fetch(auth_id))
    monkeypatch.setattr(backend, "lease_row", lambda auth_id, *rest: leased.append(auth_id) or lease(auth_id, *rest))
    assert await KeepAlive(app.state.services).sweep() == {"refreshed": 1}
    assert (fetched, leased) == ([], [idle])  # status, last refresh, credentials and tokens: all from the lease


async def test_the_keep_alive_leaves_recent_and_access_token_authentications_alone(client, app, outreach):
    recent = await store_oauth(client)
    age(app, recent, "2999-01-01T00:00:00.000000Z")
    token = (await client.post("/authentications", json={"name": "t", "credentials": {"access_token": "x"}})).json()
    age(app, token["id"])
    assert await KeepAlive(app.state.services).sweep() == {}
    assert outreach.requests == []


async def test_the_keep_alive_refreshes_a_few_at_a_time(client, app, sandbox):
    ids = [await store_oauth(client, "sandbox-refresh-token" if n == 0 else f"dead-{n}") for n in range(5)]
    for auth_id in ids:
        age(app, auth_id)
    keep_alive = KeepAlive(app.state.services)
    running, most = 0, 0
    real = keep_alive.refresh_one

    async def counted(auth_id: str, cutoff: str) -> str:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            return await real(auth_id, cutoff)
        finally:
            running -= 1

    keep_alive.refresh_one = counted  # type: ignore[method-assign]
    outcomes = await keep_alive.sweep()
    assert sum(outcomes.values()) == 5 and most == app.state.services.settings.keep_alive_batch == 5
    app.state.services.settings.__dict__["keep_alive_batch"] = 2
    for auth_id in ids:
        age(app, auth_id)
    backend = app.state.services.store.backend
    with backend.transaction() as db:
        backend.execute(db, "UPDATE authentications SET status = 'connected'")
    most = 0
    await keep_alive.sweep()
    assert most == 2


async def test_two_replicas_refresh_an_idle_authentication_once(postgres_url, sandbox, outreach):
    key = generate_key_text()
    replicas = [create_app(settings_for(postgres_url, encryption_key=key), transport=outreach) for _ in range(2)]
    try:
        async with client_for(replicas[0]) as client:
            idle = await store_oauth(client)
            dead = await store_oauth(client, "dead-refresh-token")
            age(replicas[0], idle)
            age(replicas[0], dead)
            before = sandbox.token_refreshes
            results = await asyncio.gather(*(KeepAlive(app.state.services).sweep() for app in replicas))
            assert sandbox.token_refreshes == before + 1
            assert sum((r.get("refreshed", 0) for r in results)) == 1, results
            assert sum((r.get("marked reconnect_required", 0) for r in results)) == 1
            assert (await shown(client, dead))["status"] == "reconnect_required"
            assert (await call(client, idle))["outcome"] == "success"
    finally:
        for app in replicas:
            app.state.services.store.close()


def test_serve_runs_the_keep_alive_on_its_interval(tmp_path, sandbox, outreach, caplog):
    settings = settings_for(tmp_path / "s.db", keep_alive_interval=0.05)
    app = create_app(settings, transport=outreach)
    caplog.set_level("INFO", "outreach_connector.server.keepalive")
    store = app.state.services.store
    from outreach_connector.server.credentials import OAuthCredentials
    from .helpers import API_KEY

    credentials = OAuthCredentials(client_id="sandbox-client-id", client_secret="sandbox-client-secret",
                                   refresh_token="sandbox-refresh-token")
    created = store.create("idle", credentials, owner=store.owner_of(API_KEY))
    age(app, created.id)
    def logged() -> str:
        return "\n".join(record.getMessage() for record in caplog.records)

    with LiveServer(app):
        deadline = time.monotonic() + 20
        while "keep-alive: refreshed" not in logged() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert sandbox.token_refreshes == 1
    logged = logged()
    assert f"keep-alive: refreshed authentication {created.id}" in logged
    assert "sandbox-refresh-token" not in logged and "sbx_" not in logged and "sandbox-client-secret" not in logged


def test_keep_alive_days_flag(tmp_path):
    from outreach_connector.server.settings import settings_from

    assert settings_from(["--api-key", "k"], env={}).keep_alive_days == 7
    assert settings_from(["--api-key", "k", "--keep-alive-days", "0"], env={}).keep_alive_days == 0
    with pytest.raises(ValueError, match="keep_alive_days"):
        settings_from(["--api-key", "k", "--keep-alive-days", "20"], env={})

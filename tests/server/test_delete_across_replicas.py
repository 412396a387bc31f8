"""A delete on one replica reaches the others' cached sessions within ``session_check_seconds``.

Each replica caches a session per used authentication; a delete can only drop the session of the replica
that served it. The others re-read the row when a cached session is used after the check interval."""
from __future__ import annotations

import asyncio

import pytest

from .helpers import CALL, FakeOutreach, client_for, jsonapi, make_app, store_token

pytestmark = pytest.mark.anyio


def list_call(auth_id: str) -> dict:
    return {"operation": "list_prospects", "authId": auth_id, "input": {"page_size": 1}}


def outreach() -> FakeOutreach:
    fake = FakeOutreach()
    fake.on("GET", "/api/v2/prospects", lambda request: jsonapi(200, {"data": []}))
    return fake


def replicas(tmp_path, fake, database, encryption_key, **settings):
    """Two apps on one store; the second runs on a clock the test moves."""
    now = [1000.0]
    first, second = (make_app(tmp_path, fake, database=database, encryption_key=encryption_key, **settings)
                     for _ in range(2))
    second.state.services.pool._clock = lambda: now[0]
    return first, second, now


async def test_a_delete_on_another_replica_stops_cached_calls_after_the_check_interval(
        tmp_path, database, encryption_key):
    fake = outreach()
    first, second, now = replicas(tmp_path, fake, database, encryption_key, session_check_seconds=5)
    async with client_for(first) as a, client_for(second) as b:
        auth_id = await store_token(a)
        assert (await b.post(CALL, json=list_call(auth_id))).json()["outcome"] == "success"
        assert (await a.delete(f"/authentications/{auth_id}")).status_code == 204
        now[0] += 4.9  # inside the bound: the cached session may still serve
        assert (await b.post(CALL, json=list_call(auth_id))).json()["outcome"] == "success"
        sent = len(fake.requests)
        now[0] += 0.2  # past the bound since the last check: the row is read again and is gone
        gone = await b.post(CALL, json=list_call(auth_id))
    assert (gone.status_code, gone.json()) == (404, {"message": f"Authentication {auth_id!r} was not found",
                                                     "code": None})
    assert len(fake.requests) == sent  # nothing sent with the deleted credential
    assert len(second.state.services.pool) == 0  # the session is dropped, not just refused


async def test_with_a_zero_interval_a_delete_elsewhere_takes_effect_on_the_next_call(tmp_path, database,
                                                                                    encryption_key):
    fake = outreach()
    first, second, _ = replicas(tmp_path, fake, database, encryption_key, session_check_seconds=0)
    async with client_for(first) as a, client_for(second) as b:
        auth_id = await store_token(a)
        assert (await b.post(CALL, json=list_call(auth_id))).json()["outcome"] == "success"
        await a.delete(f"/authentications/{auth_id}")
        assert (await b.post(CALL, json=list_call(auth_id))).status_code == 404
    assert len(fake.requests) == 1


async def test_a_busy_authentication_costs_one_store_read_per_interval(tmp_path):
    fake = outreach()
    app = make_app(tmp_path, fake, session_check_seconds=5)
    pool, store = app.state.services.pool, app.state.services.store
    now = [1000.0]
    pool._clock = lambda: now[0]
    reads = []
    real_get = store.get
    store.get = lambda *args: reads.append(args) or real_get(*args)
    async with client_for(app) as client:
        auth_id = await store_token(client)
        await client.post(CALL, json=list_call(auth_id))  # builds the session: loading it is its first check
        for _ in range(3):  # three intervals, 20 concurrent calls in each
            now[0] += 5
            answers = await asyncio.gather(*(client.post(CALL, json=list_call(auth_id)) for _ in range(20)))
            assert {a.json()["outcome"] for a in answers} == {"success"}
    assert len(reads) == 3


async def test_a_check_the_store_cannot_answer_is_503_and_is_tried_again_on_the_next_call(tmp_path):
    fake = outreach()
    app = make_app(tmp_path, fake, session_check_seconds=5)
    pool, backend = app.state.services.pool, app.state.services.store.backend
    now = [1000.0]
    pool._clock = lambda: now[0]
    async with client_for(app) as client:
        auth_id = await store_token(client)
        assert (await client.post(CALL, json=list_call(auth_id))).json()["outcome"] == "success"
        now[0] += 6
        path, backend.path = backend.path, tmp_path / "gone" / "server.db"
        failed = await client.post(CALL, json=list_call(auth_id))
        backend.path = path
        app.state.services.store.delete(auth_id)  # deleted by another replica meanwhile
        after = await client.post(CALL, json=list_call(auth_id))
    assert failed.status_code == 503  # not served unchecked past the bound
    assert after.status_code == 404  # the failed check did not count as a check
    assert len(fake.requests) == 1

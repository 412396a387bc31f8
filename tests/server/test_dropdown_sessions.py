"""The editor's dropdown search through the server's session pool: one authentication's label indexes stay
warm in its one session, another tenant never shares them, and a deleted authentication's session is gone."""
from __future__ import annotations

import asyncio
import threading

import pytest

from outreach_sandbox import Sandbox, SandboxConfig

from .helpers import CALL, OTHER_KEY, client_for, make_app

pytestmark = pytest.mark.anyio
TOKEN = "sandbox-access-token"


@pytest.fixture
def org() -> Sandbox:
    return Sandbox(SandboxConfig(accounts=300))


@pytest.fixture
def app(tmp_path, org):
    return make_app(tmp_path, org.transport())


def search(auth_id: str, text: str) -> dict:
    return {"operation": "list_accounts_ddl", "authId": auth_id, "input": {"search": text}}


async def store(client, name: str) -> str:
    created = await client.post("/authentications", json={"name": name, "credentials": {"access_token": TOKEN}})
    assert created.status_code == 201
    return created.json()["id"]


async def searched(client, org: Sandbox, auth_id: str, text: str) -> tuple[list[str], list[dict]]:
    """What one search sent to Outreach (paths), and the options it answered."""
    start = len(org.requests)
    answer = await client.post(CALL, json=search(auth_id, text))
    assert answer.json()["outcome"] == "success", answer.json()
    return [r.path for r in org.requests[start:]], answer.json()["output"]["result"]


async def test_consecutive_searches_on_one_authentication_reuse_its_sessions_index(app, org):
    pool = app.state.services.pool
    async with client_for(app) as client:
        auth_id = await store(client, "mine")
        cold, _ = await searched(client, org, auth_id, "robotics")
        session = pool._sessions[auth_id].connector
        warm, options = await searched(client, org, auth_id, "ROBOT")
    assert cold and set(cold) == {"/api/v2/accounts"}  # the first search read the labels
    assert warm == []  # the second answered from the index, nothing sent
    assert options and all("robot" in o["text"].lower() for o in options)
    assert pool._sessions[auth_id].connector is session


async def test_another_tenants_authentication_never_shares_the_index(app, org):
    pool = app.state.services.pool
    async with client_for(app) as owner, client_for(app, OTHER_KEY) as other:
        mine = await store(owner, "mine")
        theirs = await store(other, "theirs")  # the same Outreach org and token, another tenant
        await searched(owner, org, mine, "robotics")
        cold, _ = await searched(other, org, theirs, "robotics")
        assert cold != []  # built its own index: it did not get the first tenant's
        assert pool._sessions[mine].connector is not pool._sessions[theirs].connector
        start = len(org.requests)
        refused = await other.post(CALL, json=search(mine, "robotics"))
    assert (refused.status_code, refused.json()["message"]) == (404, f"Authentication {mine!r} was not found")
    assert org.requests[start:] == []


async def test_another_tenants_id_builds_no_session(app, org):
    pool = app.state.services.pool
    async with client_for(app) as owner, client_for(app, OTHER_KEY) as other:
        mine = await store(owner, "mine")
        assert (await other.post(CALL, json=search(mine, "robotics"))).status_code == 404
    assert len(pool) == 0  # the row was not decrypted into a session, nor did it push a real one out


async def test_deleting_an_authentication_drops_its_session_and_its_labels(app, org):
    pool = app.state.services.pool
    async with client_for(app) as client:
        auth_id = await store(client, "mine")
        await searched(client, org, auth_id, "robotics")
        assert auth_id in pool._sessions
        assert (await client.delete(f"/authentications/{auth_id}")).status_code == 204
        assert auth_id not in pool._sessions
        start = len(org.requests)
        gone = await client.post(CALL, json=search(auth_id, "robotics"))
        assert gone.status_code == 404 and org.requests[start:] == []
        again = await store(client, "mine again")  # the same token stored anew starts cold
        cold, _ = await searched(client, org, again, "robotics")
    assert cold != []


async def test_a_delete_while_the_session_is_being_built_leaves_no_session_behind(app, org):
    """The build read the row just before the delete; the session must not outlive the delete."""
    pool = app.state.services.pool
    load, forget = pool._store.load, pool.forget
    loaded, forgetting = threading.Event(), threading.Event()

    def slow_load(*args):
        row = load(*args)
        loaded.set()
        forgetting.wait(10)  # the delete has removed the row and is dropping the session now
        return row

    async def watched_forget(auth_id: str) -> None:
        forgetting.set()
        await forget(auth_id)

    pool._store.load, pool.forget = slow_load, watched_forget
    async with client_for(app) as client:
        auth_id = await store(client, "mine")
        in_flight = asyncio.create_task(client.post(CALL, json=search(auth_id, "robotics")))
        await asyncio.to_thread(loaded.wait, 10)
        assert (await client.delete(f"/authentications/{auth_id}")).status_code == 204
        await in_flight  # a call that began before the delete may finish
        assert auth_id not in pool._sessions
        assert (await client.post(CALL, json=search(auth_id, "robotics"))).status_code == 404

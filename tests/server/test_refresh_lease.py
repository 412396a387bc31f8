"""A refresh leases its row instead of holding a database lock across the token request (issue 17, item 11).

With the old lock, a token endpoint taking 8 s made another tenant's ``POST /authentications`` wait 7 s on
SQLite: the refresh held the database's write lock while the token request was out. Now a short transaction
marks the row leased, the token request runs with nothing held, and a second short transaction stores the
rotated tokens, comparing the refresh token they replaced.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sqlite3
import threading
from urllib.parse import parse_qs

import httpx
import pytest

from outreach_connector.oauth import OAuthRefreshAuth, TokenSet
from outreach_connector.server.credentials import OAuthCredentials
from outreach_connector.server.opening import open_store
from outreach_connector.settings import Settings

from .helpers import CALL, OTHER_KEY, client_for, make_app
from .live import LiveServer

SLOW = "slow-refresh-token"
QUICK = "quick-refresh-token"


class SlowTokenEndpoint:
    """Outreach whose token endpoint holds the answer for ``SLOW`` until the test says so."""

    def __init__(self) -> None:
        self.slow_request_arrived = asyncio.Event()
        self.answer_slow_request = asyncio.Event()
        self.token_requests: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            refresh = parse_qs(request.content.decode())["refresh_token"][0]
            self.token_requests.append(refresh)
            if refresh == SLOW:
                self.slow_request_arrived.set()
                await self.answer_slow_request.wait()
            return httpx.Response(200, json={"access_token": f"access-for-{refresh}", "expires_in": 7200,
                                             "refresh_token": f"next-{refresh}"})
        return httpx.Response(200, json={"data": []}, headers={"Content-Type": "application/vnd.api+json"})


async def create_oauth(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/authentications", json={"name": refresh_token, "credentials": {
        "client_id": "c", "client_secret": "s", "refresh_token": refresh_token}})


def call(auth_id: str) -> dict:
    return {"operation": "list_prospects", "authId": auth_id, "input": {"page_size": 1}}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_slow_token_request_blocks_no_other_tenant_and_no_other_authentication(tmp_path, anyio_backend):
    outreach = SlowTokenEndpoint()
    app = make_app(tmp_path, httpx.MockTransport(outreach), connector=Settings(timeout="5", max_retry_wait=1))
    async with client_for(app) as client, client_for(app, OTHER_KEY) as other_tenant:
        slow_id = (await create_oauth(client, SLOW)).json()["id"]
        quick_id = (await create_oauth(client, QUICK)).json()["id"]
        slow_call = asyncio.create_task(client.post(CALL, json=call(slow_id)))
        await outreach.slow_request_arrived.wait()
        try:
            # The bound is a failure guard only (the old lock made these wait for the store's 21 s busy timeout).
            created, quick = await asyncio.wait_for(asyncio.gather(
                create_oauth(other_tenant, "other-tenant-refresh"), client.post(CALL, json=call(quick_id))), 10)
            assert not slow_call.done()  # everything above finished while the slow token request was pending
        finally:
            outreach.answer_slow_request.set()
        slow = await slow_call
    assert created.status_code == 201
    assert (quick.json()["outcome"], slow.json()["outcome"]) == ("success", "success")
    assert sorted(outreach.token_requests) == sorted([SLOW, QUICK])
    store = app.state.services.store
    assert store.load(slow_id).tokens.refresh_token == f"next-{SLOW}"
    assert store.load(quick_id).tokens.refresh_token == f"next-{QUICK}"


def test_the_lease_outlasts_the_longest_token_exchange_a_call_may_make(tmp_path):
    settings = Settings(timeout="connect=2,read=7,write=3,pool=1", max_retry_wait=11)
    app = make_app(tmp_path, httpx.MockTransport(SlowTokenEndpoint()), connector=settings)
    backend = app.state.services.store.backend
    # 11 s of retry budget, one request's connect 2 + write 3 + read 7 + pool 1 = 13 s, and 10 s of margin
    assert backend.lease_seconds == 34


def oauth_credentials() -> OAuthCredentials:
    return OAuthCredentials(client_id="c", client_secret="s", refresh_token="refresh-0",
                            token_url="http://127.0.0.1:1/oauth/token")


def test_the_rotation_just_made_wins_when_the_lease_expired_meanwhile(any_store, caplog):
    """This process's lease ran out and another refreshed: Outreach issued both sets, and the one this
    process holds was issued for a refresh token that is spent. Its write wins, and is logged."""
    auth = any_store.create("ops", oauth_credentials(), owner="tenant")
    ours = any_store.lock(auth.id)
    expire_leases(any_store)
    theirs = any_store.lock(auth.id, max_wait=0)  # taken at once: the expired lease no longer counts
    assert theirs.tokens.refresh_token == "refresh-0"
    theirs.save(TokenSet("access-theirs", "refresh-theirs", None, None))
    with caplog.at_level(logging.WARNING, logger="outreach_connector.server"):
        ours.save(TokenSet("access-ours", "refresh-ours", None, None))
    assert any_store.load(auth.id).tokens == TokenSet("access-ours", "refresh-ours", None, None)
    assert [r.getMessage() for r in caplog.records] == [
        f"authentication {auth.id} changed while its token was refreshed (the refresh lease expired); keeping "
        "the rotation just made"]
    any_store.lock(auth.id, max_wait=0).release()  # both leases ended


def test_a_late_write_leaves_the_current_holders_lease_alone(any_store):
    auth = any_store.create("ops", oauth_credentials(), owner="tenant")
    late = any_store.lock(auth.id)
    expire_leases(any_store)
    current = any_store.lock(auth.id, max_wait=0)
    late.save(TokenSet("access-late", "refresh-late", None, None))
    with pytest.raises(Exception, match="did not answer"):
        any_store.lock(auth.id, max_wait=0)  # still leased by the current holder
    current.release()
    assert any_store.lock(auth.id, max_wait=0).tokens.refresh_token == "refresh-late"


def test_no_transaction_stays_open_while_a_lease_is_held(tmp_path):
    store = open_store(tmp_path / "auth.db")
    auth = store.create("ops", oauth_credentials(), owner="tenant")
    lease = store.lock(auth.id)
    writer = sqlite3.connect(tmp_path / "auth.db", timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the write lock is free: the old lease held it until saved
    writer.execute("ROLLBACK")
    writer.close()
    lease.save(TokenSet("a", "r", None, None))


def expire_leases(store) -> None:
    with store.backend.transaction() as db:
        store.backend.execute(db, "UPDATE authentications SET lease_until = 0 WHERE lease_until IS NOT NULL")


# --- two processes, one row -------------------------------------------------------------------------------

class CountingTokenEndpoint:
    """A token endpoint that rotates (the old refresh token dies) and holds its first answer until the other
    process has found the row leased (``contended``, set from that process)."""

    def __init__(self, contended) -> None:
        self.contended = contended
        self.live_refresh = "refresh-0"
        self.refreshes = 0
        self.lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/oauth/token":
            status, answer = await self.token(parse_qs(body.decode())["refresh_token"][0])
        else:
            status, answer = 200, {"authorization": dict(scope["headers"])[b"authorization"].decode()}
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": __import__("json").dumps(answer).encode()})

    async def token(self, refresh: str) -> tuple[int, dict]:
        if self.refreshes == 0:  # the first refresh waits until the other process is queued behind its lease
            await asyncio.get_running_loop().run_in_executor(None, self.contended.wait, 30)
        with self.lock:
            if refresh != self.live_refresh:
                return 400, {"error": "invalid_grant"}
            self.refreshes += 1
            self.live_refresh = f"refresh-{self.refreshes}"
            return 200, {"access_token": f"access-{self.refreshes}", "expires_in": 7200,
                         "refresh_token": self.live_refresh}


def _refresh_in_another_process(database, key, auth_id, url, contended, results) -> None:
    store = open_store(database, key)
    try_lease = store.backend._try_lease

    def noting_contention(*args):
        taken, row = try_lease(*args)
        if not taken and row is not None:
            contended.set()
        return taken, row

    store.backend._try_lease = noting_contention
    stored = store.load(auth_id)
    auth = OAuthRefreshAuth(client_id="c", client_secret="s", refresh_token=stored.tokens.refresh_token,
                            token_url=f"{url}/oauth/token", token_store=store.token_store(auth_id))
    with httpx.Client(auth=auth, timeout=30) as client:
        results.put(client.get(f"{url}/api/v2/prospects").json()["authorization"])
    store.close()


def test_two_processes_refreshing_one_row_make_one_rotation(database, encryption_key):
    context = multiprocessing.get_context("spawn")
    contended, results = context.Event(), context.Queue()
    endpoint = CountingTokenEndpoint(contended)
    store = open_store(database, encryption_key)
    auth = store.create("ops", oauth_credentials(), owner="tenant")
    with LiveServer(endpoint) as url:
        workers = [context.Process(target=_refresh_in_another_process,
                                   args=(database, encryption_key, auth.id, url, contended, results))
                   for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert contended.is_set()
    assert [results.get(timeout=5) for _ in workers] == ["Bearer access-1"] * 2
    assert endpoint.refreshes == 1
    assert store.load(auth.id).tokens.refresh_token == "refresh-1"
    store.close()

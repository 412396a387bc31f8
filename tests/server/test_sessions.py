"""Sessions: a bounded cache on one connection pool; single flight across sessions and replicas through the
store's row lock; token requests bounded in time like every other request."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from urllib.parse import parse_qs

import httpx
import pytest

from outreach_connector.server import ServerSettings, create_app
from outreach_connector.settings import Settings

from .helpers import API_KEY, CALL, client_for, make_app
from .live import LiveServer

pytestmark = pytest.mark.anyio


class RotatingOutreach:
    """A token endpoint that rotates refresh tokens (the old one dies) and an API that checks access tokens."""

    def __init__(self, delay: float = 0.05) -> None:
        self.live_refresh = "refresh-0"
        self.live_access: set[str] = set()
        self.refreshes = 0
        self.delay = delay
        self._lock = threading.Lock()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            await asyncio.sleep(self.delay)  # long enough for concurrent callers to pile up behind the lock
            return self.token(parse_qs(request.content.decode()))
        if request.headers["authorization"].removeprefix("Bearer ") not in self.live_access:
            return httpx.Response(401, json={"errors": [{"id": "unauthorized"}]})
        return httpx.Response(200, json={"data": []}, headers={"Content-Type": "application/vnd.api+json"})

    def token(self, form: dict[str, list[str]]) -> httpx.Response:
        with self._lock:
            if form["refresh_token"] != [self.live_refresh]:
                return httpx.Response(400, json={"error": "invalid_grant"})
            self.refreshes += 1
            self.live_refresh = f"refresh-{self.refreshes}"
            self.live_access.add(f"access-{self.refreshes}")
            return httpx.Response(200, json={"access_token": f"access-{self.refreshes}", "expires_in": 7200,
                                             "refresh_token": self.live_refresh})


async def store_oauth(client: httpx.AsyncClient) -> str:
    created = await client.post("/authentications", json={"name": "o", "credentials": {
        "client_id": "c", "client_secret": "s", "refresh_token": "refresh-0"}})
    return created.json()["id"]


def list_call(auth_id: str) -> dict:
    return {"operation": "list_prospects", "authId": auth_id, "input": {"page_size": 1}}


async def test_two_replicas_on_one_store_refresh_once_and_use_each_others_tokens(tmp_path, database, encryption_key):
    outreach = RotatingOutreach()
    replicas = [make_app(tmp_path, httpx.MockTransport(outreach), database=database, encryption_key=encryption_key)
                for _ in range(2)]
    async with client_for(replicas[0]) as first, client_for(replicas[1]) as second:
        auth_id = await store_oauth(first)
        calls = [(first if n % 2 else second).post(CALL, json=list_call(auth_id)) for n in range(20)]
        answers = await asyncio.gather(*calls)
    assert [a.json()["outcome"] for a in answers] == ["success"] * 20
    assert outreach.refreshes == 1  # the replica that waited re-read the row and used the rotated token


async def test_evicted_and_rebuilt_sessions_still_refresh_once(tmp_path):
    outreach = RotatingOutreach()
    outreach.live_access.add("static-token")
    app = make_app(tmp_path, httpx.MockTransport(outreach), max_sessions=1)
    async with client_for(app) as client:
        oauth_id = await store_oauth(client)
        token_id = (await client.post("/authentications", json={"name": "t", "credentials": {
            "access_token": "static-token"}})).json()["id"]
        # Alternating authentications with room for one session: the OAuth session is evicted and rebuilt
        # while its first refresh is still running, so several auth objects try to refresh one grant.
        answers = await asyncio.gather(*(client.post(CALL, json=list_call((oauth_id, token_id)[n % 2]))
                                         for n in range(20)))
    assert len(app.state.services.pool) == 1  # the bound holds
    assert [a.json()["outcome"] for a in answers] == ["success"] * 20
    assert outreach.refreshes == 1


async def test_sessions_expire_when_idle_and_the_least_recently_used_go_first(tmp_path):
    now = [1000.0]
    app = make_app(tmp_path, httpx.MockTransport(lambda r: httpx.Response(200, json={"data": []})),
                   max_sessions=2, session_idle_seconds=60)
    pool = app.state.services.pool
    pool._clock = lambda: now[0]
    async with client_for(app) as client:
        ids = [(await client.post("/authentications", json={"name": f"t{n}", "credentials": {
            "access_token": f"t{n}"}})).json()["id"] for n in range(3)]
        for auth_id in ids:
            await pool.get(auth_id, None)
        assert list(pool._sessions) == ids[1:]  # the first was the least recently used
        await pool.get(ids[1], None)
        now[0] += 61
        pool.expire_idle()
        assert len(pool) == 0


async def test_sessions_share_one_transport(tmp_path):
    app = make_app(tmp_path, httpx.MockTransport(lambda r: httpx.Response(200, json={"data": []})))
    pool = app.state.services.pool
    async with client_for(app) as client:
        ids = [(await client.post("/authentications", json={"name": f"t{n}", "credentials": {
            "access_token": f"t{n}"}})).json()["id"] for n in range(3)]
        for auth_id in ids:
            assert (await client.post(CALL, json=list_call(auth_id))).json()["outcome"] == "success"
    transports = {id(session.connector.sender._aclient._transport.inner) for session in pool._sessions.values()}
    assert transports == {id(pool.transport)}  # each through its tenant's slots (TenantSlots) into one pool


async def test_a_token_endpoint_that_answers_429_for_long_is_not_waited_for(tmp_path):
    token_requests = []

    def outreach(request: httpx.Request) -> httpx.Response:
        token_requests.append(request)
        return httpx.Response(429, headers={"Retry-After": "30"})

    app = make_app(tmp_path, outreach, connector=Settings(max_retry_wait=1))
    async with client_for(app) as client:
        auth_id = await store_oauth(client)
        answers = await asyncio.gather(*(client.post(CALL, json=list_call(auth_id)) for _ in range(3)))
    messages = {a.json()["output"]["message"] for a in answers}
    assert messages == {"Outreach's token endpoint is rate limiting refreshes (Retry-After 30s exceeds the 1s budget)"}
    assert len(token_requests) == 3


def hanging_outreach(stop: threading.Event):
    """An ASGI Outreach whose token endpoint does not answer until ``stop`` (or 20 s)."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"] == "/oauth/token":
            for _ in range(200):
                if stop.is_set():
                    break
                await asyncio.sleep(0.1)
        body = b'{"access_token": "late", "expires_in": 7200}'
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_a_hanging_token_endpoint_bounds_the_call_and_the_calls_waiting_behind_it(tmp_path):
    stop = threading.Event()
    try:
        with LiveServer(hanging_outreach(stop)) as url:
            settings = ServerSettings(api_keys=(API_KEY,), database=tmp_path / "s.db",
                                      outreach_base_url=f"{url}/api/v2",
                                      token_url=f"{url}/oauth/token",
                                      connector=Settings(timeout="0.3", max_retry_wait=0.5))
            app = create_app(settings)
            async with client_for(app) as client:
                auth_id = await store_oauth(client)
                answers = await asyncio.gather(*(client.post(CALL, json=list_call(auth_id)) for _ in range(2)))
                await app.state.services.pool.aclose()
            stop.set()  # let the hung handlers end, so the live server can stop
    finally:
        stop.set()
    outputs = [a.json()["output"] for a in answers]
    assert [a.json()["outcome"] for a in answers] == ["error", "error"]
    assert all("ReadTimeout" in o["message"] for o in outputs), outputs  # cut by the timeout, not by the endpoint


async def test_a_row_lock_held_too_long_ends_the_call_with_an_error_envelope(tmp_path, fake):
    app = make_app(tmp_path, fake, connector=Settings(timeout="0.1", max_retry_wait=0.1))
    async with client_for(app) as client:
        auth_id = await store_oauth(client)
        holder = sqlite3.connect(tmp_path / "server.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long refresh
        try:
            answer = await client.post(CALL, json=list_call(auth_id))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert answer.json() == {"outcome": "error", "output": {
        "message": "the credential store did not answer (OperationalError)",
        "response": {"statusCode": None, "body": None}}}
    assert fake.requests == []  # no refresh without the lock


async def test_endpoints_answer_503_when_the_store_is_gone(tmp_path, fake):
    app = make_app(tmp_path, fake)
    async with client_for(app) as client:
        auth_id = await store_oauth(client)
        app.state.services.store.backend.path = tmp_path / "gone" / "server.db"
        answers = [await client.get("/authentications"), await client.post(CALL, json=list_call(auth_id))]
    for answer in answers:
        assert (answer.status_code, answer.json()) == (503, {
            "message": "The credential store is not answering; try again shortly", "code": None})

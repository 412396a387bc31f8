"""What one tenant (API key) may hold: authentications, Outreach requests in flight, records in one answer."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest
from pydantic import ValidationError

from outreach_connector.server import ServerSettings, create_app
from outreach_connector.settings import Settings
from outreach_connector.errors import TenantBusy
from outreach_connector.retry import BUDGET_LEFT
from outreach_connector.server.connections import SharedTransport, TenantSlots
from outreach_connector.server.credentials import AccessTokenCredentials
from outreach_connector.server.opening import open_store
from outreach_connector.server.settings import settings_from
from outreach_connector.server.store import TooManyAuthentications

from .helpers import API_KEY, CALL, OTHER_KEY, OUTREACH, client_for, jsonapi, make_app, store_token
from .live import LiveServer

pytestmark = pytest.mark.anyio

TOO_MANY = ("This API key already holds 3 authentications, as many as the server allows "
            "(--max-authentications-per-key); delete one you no longer use first")


def token_body(name: str) -> dict:
    return {"name": name, "credentials": {"access_token": f"token-{name}"}}


async def test_authentications_beyond_the_cap_per_key_are_409(tmp_path, fake, database, encryption_key):
    app = make_app(tmp_path, fake, database=database, encryption_key=encryption_key, max_authentications_per_key=3)
    async with client_for(app) as client, client_for(app, OTHER_KEY) as other:
        created = [(await client.post("/authentications", json=token_body(f"a{n}"))) for n in range(3)]
        refused = await client.post("/authentications", json=token_body("a3"))
        others = await other.post("/authentications", json=token_body("b0"))  # another tenant has its own cap
        listed = (await client.get("/authentications")).json()["elements"]
        await client.delete(f"/authentications/{created[0].json()['id']}")
        after_delete = await client.post("/authentications", json=token_body("a4"))
    assert [r.status_code for r in created] == [201, 201, 201]
    assert (refused.status_code, refused.json()) == (409, {"message": TOO_MANY, "code": None})
    assert others.status_code == 201
    assert [auth["name"] for auth in listed] == ["a0", "a1", "a2"]  # the refused one was not stored
    assert after_delete.status_code == 201


def test_creates_racing_for_the_last_places_never_pass_the_cap(database, encryption_key):
    store = open_store(database, encryption_key)

    def create(n: int) -> bool:
        try:
            store.create(f"r{n}", AccessTokenCredentials(access_token=f"t{n}"), owner="tenant", max_per_owner=5)
            return True
        except TooManyAuthentications:
            return False

    try:
        with ThreadPoolExecutor(8) as workers:
            outcomes = list(workers.map(create, range(16)))
        stored, _ = store.page("tenant", limit=100)
    finally:
        store.close()
    assert outcomes.count(True) == 5 and len(stored) == 5


class SlowUpstream:
    """Outreach on a real socket: answers the slow tenant's token only when released, the other at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived: list[str] = []  # tokens, in the order their requests reached Outreach

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        token = dict(scope["headers"]).get(b"authorization", b"").decode().removeprefix("Bearer ")
        self.arrived.append(token)
        while token == "slow-token" and not self.release.is_set():
            await asyncio.sleep(0.01)
        body = b'{"data": []}'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def raw_call(auth_id: str) -> dict:
    return {"operation": "raw_http_request", "authId": auth_id, "input": {"method": "GET", "url": {"endpoint": "/x"}}}


async def test_one_key_saturating_outreach_neither_queues_another_key_nor_passes_its_cap(tmp_path):
    upstream = SlowUpstream()
    with LiveServer(upstream) as url:
        connector = Settings.from_env(env={}, max_retry_wait=1, timeout="connect=5,read=30,write=30,pool=2")
        app = create_app(ServerSettings(api_keys=(API_KEY, OTHER_KEY), database=tmp_path / "s.db",
                                        outreach_base_url=f"{url}/api/v2", max_upstream_connections=3,
                                        max_upstream_per_key=2, connector=connector))
        async with client_for(app) as slow, client_for(app, OTHER_KEY) as other:
            slow_id = await store_token(slow, "slow-token")
            other_id = await store_token(other, "other-token")
            saturating = [asyncio.create_task(slow.post(CALL, json=raw_call(slow_id))) for _ in range(5)]
            deadline = time.monotonic() + 30  # a broken cap must fail the test, not hang the suite
            while upstream.arrived.count("slow-token") < 2:  # the two the cap lets through hold their answers
                assert time.monotonic() < deadline, "the two requests under the cap never reached Outreach"
                await asyncio.sleep(0.01)
            beside = await other.post(CALL, json=raw_call(other_id))  # while those two are still held
            arrived_while_held = list(upstream.arrived)
            refused = [task for task in saturating if task.done()]
            while len(refused) < 3:  # the three beyond the cap give up after their retry budget
                assert time.monotonic() < deadline, "the three requests beyond the cap were never refused"
                await asyncio.sleep(0.05)
                refused = [task for task in saturating if task.done()]
            upstream.release.set()
            served = await asyncio.gather(*(task for task in saturating if task not in refused))
            await app.state.services.pool.aclose()
    assert (beside.status_code, beside.json()["outcome"]) == (200, "success")
    assert arrived_while_held == ["slow-token", "slow-token", "other-token"]  # never a third of the slow key's
    assert [(r.result().status_code, r.result().headers["Retry-After"], r.result().json()) for r in refused] == [(
        429, "1", {"message": "This API key already has 2 requests to Outreach in flight (--max-upstream-per-key) "
                              "and none finished within the call's retry budget; nothing was sent: try again "
                              "shortly", "code": None})] * 3
    assert [r.json()["outcome"] for r in served] == ["success"] * 2
    assert upstream.arrived.count("slow-token") == 2


def test_one_key_cannot_be_allowed_the_whole_upstream_pool():
    with pytest.raises(ValidationError, match=r"max_upstream_per_key \(100\) must be below max_upstream_connections"):
        ServerSettings(api_keys=(API_KEY,), max_upstream_per_key=100, max_upstream_connections=100)


def stages_by_cursor(total: int):
    """Outreach's stages 1..total, page by page; the cursor is the last id of the page before."""
    def answer(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["page[size]"])
        after = int(request.url.params.get("page[after]", "0"))
        ids = list(range(after + 1, min(after + size, total) + 1))
        links = {"next": f"{OUTREACH}/stages?page[size]={size}&page[after]={ids[-1]}"} if ids[-1] < total else {}
        return jsonapi(200, {"data": [{"type": "stage", "id": i, "attributes": {"name": f"stage {i}"}} for i in ids],
                             "links": links})
    return answer


async def test_a_paginated_answer_stops_at_the_records_bound_and_says_where_to_go_on(tmp_path, fake):
    fake.on("GET", "/api/v2/stages", stages_by_cursor(95))
    asked = {"paginate": True, "page_size": 15, "max_records": 1_000_000}
    outputs = []
    async with client_for(make_app(tmp_path, fake, max_records_per_call=40)) as client:
        auth_id = await store_token(client)
        while not outputs or outputs[-1]["meta"]["truncated"]:
            going_on = {"page_after": outputs[-1]["meta"]["next_page_after"]} if outputs else {}
            response = await client.post(CALL, json={"operation": "list_stages", "authId": auth_id,
                                                     "input": {**asked, **going_on}})
            outputs.append(response.json()["output"])
    # 1,000,000 asked, clamped to the last whole page within 40: two pages of 15 each time, none cut
    assert [output["meta"] for output in outputs] == [
        {"pages": 2, "records": 30, "truncated": True, "next_page_after": "30"},
        {"pages": 2, "records": 30, "truncated": True, "next_page_after": "60"},
        {"pages": 2, "records": 30, "truncated": True, "next_page_after": "90"},
        {"pages": 1, "records": 5, "truncated": False}]
    assert [r["id"] for output in outputs for r in output["data"]] == list(range(1, 96))  # each once, in order
    assert [r.url.params.get("page[after]") for r in fake.requests] == [
        None, "15", "30", "45", "60", "75", "90"]  # no page fetched only to be thrown away


async def test_a_paginated_answer_stops_at_the_bytes_bound(tmp_path, fake):
    fake.on("GET", "/api/v2/stages", stages_by_cursor(5000))  # about 300 KB of records
    async with client_for(make_app(tmp_path, fake, max_answer_bytes=64 * 1024)) as client:
        auth_id = await store_token(client)
        response = await client.post(CALL, json={"operation": "list_stages", "authId": auth_id, "input": {
            "paginate": True, "page_size": 100}})
    output = response.json()["output"]
    assert len(json.dumps(output["data"], separators=(",", ":"))) <= 64 * 1024
    assert output["meta"]["truncated"] is True
    assert output["meta"]["next_page_after"] == str(output["data"][-1]["id"])
    assert [r["id"] for r in output["data"]] == list(range(1, output["meta"]["records"] + 1))


def test_the_tenant_limits_come_from_flags_then_the_environment_then_defaults():
    env = {"OUTREACH_CONNECTOR_BODY_TIMEOUT": "4", "OUTREACH_CONNECTOR_MAX_UPSTREAM_PER_KEY": "7",
           "OUTREACH_CONNECTOR_MAX_AUTHENTICATIONS_PER_KEY": "50"}
    chosen = settings_from(["--api-key", API_KEY, "--body-timeout", "2.5", "--max-records-per-call", "500"], env=env)
    limits = ("body_timeout", "send_timeout", "max_sending_per_key", "max_upstream_per_key", "max_records_per_call",
              "max_answer_bytes", "max_authentications_per_key")
    assert {name: getattr(chosen, name) for name in limits} == {
        "body_timeout": 2.5, "send_timeout": 30.0, "max_sending_per_key": 20, "max_upstream_per_key": 7,
        "max_records_per_call": 500, "max_answer_bytes": 32 * 1024 * 1024, "max_authentications_per_key": 50}
    with pytest.raises(ValidationError, match="body_timeout"):
        settings_from(["--api-key", API_KEY], env={"OUTREACH_CONNECTOR_BODY_TIMEOUT": "0"})


async def test_a_free_slot_is_taken_even_with_no_budget_left_and_given_back_when_the_answer_closes():
    sent: list[httpx.Request] = []
    outreach = SharedTransport(httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={})))
    tenant = TenantSlots(outreach, anyio.Semaphore(1), limit=1, max_wait=60)

    def no_budget_left() -> httpx.Request:
        request = httpx.Request("GET", "https://api.outreach.test/api/v2/stages")
        request.extensions[BUDGET_LEFT] = 0.0  # a last attempt: it may not wait, but may take a free slot
        return request

    first = await tenant.handle_async_request(no_budget_left())
    await first.aread()  # read to the end: the slot comes back
    held = await tenant.handle_async_request(no_budget_left())  # not read yet: holds the one slot
    with pytest.raises(TenantBusy) as refused:
        await tenant.handle_async_request(no_budget_left())
    await held.aclose()
    after = await tenant.handle_async_request(no_budget_left())
    await after.aclose()
    assert len(sent) == 3 and refused.value.retry_after == 1

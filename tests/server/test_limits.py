"""What comes in is bounded and checked: body size, JSON depth, echoed values, headers a caller may not set,
upstream answers; health endpoints answer without a key; deleting during calls is never a 500."""
from __future__ import annotations

import asyncio
import gzip
import json
import logging

import httpx
import pytest

from outreach_connector.client import ClientConfig, Sender, BearerToken
from outreach_connector.errors import UpstreamError
from outreach_connector.server.requests import CallRequest
from outreach_connector.server.routes import run_call
from outreach_connector.server.serving import PathOnlyAccessLog
from outreach_connector.wire import HttpCall

from .helpers import CALL, client_for, jsonapi, make_app, sample, store_token

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(tmp_path, fake):
    return make_app(tmp_path, fake, max_body_bytes=4096)


async def test_health_endpoints_answer_without_a_key(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s.test") as anonymous:
        alive, ready = await anonymous.get("/healthz"), await anonymous.get("/readyz")
        assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
        assert (ready.status_code, ready.json()) == (200, {"status": "ok", "store": "ok"})
        assert (await anonymous.post("/healthz")).status_code == 401  # only the GETs are open
        assert (await anonymous.get("/authentications")).status_code == 401


async def test_readyz_is_503_when_the_store_does_not_answer(app):
    def down() -> None:
        raise OSError("disk gone")

    app.state.services.store.backend.ping = down
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s.test") as anonymous:
        ready = await anonymous.get("/readyz")
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "store": "unreachable"})


async def test_a_body_over_the_limit_is_413(app):
    async with client_for(app) as client:
        declared = await client.post("/authentications", content=b"x" * 5000)

        async def chunks():  # no Content-Length: counted as it streams in
            for _ in range(5):
                yield b"x" * 1000

        streamed = await client.post("/authentications", content=chunks())
    message = {"message": "The request body is larger than the server accepts (4096 bytes)", "code": None}
    assert (declared.status_code, declared.json()) == (413, message)
    assert (streamed.status_code, streamed.json()) == (413, message)


@pytest.mark.parametrize("path, body", [
    pytest.param("/authentications", "[" * 70 + "]" * 70, id="deep-body"),
    pytest.param(CALL, json.dumps({"operation": "list_prospects", "authId": "x",
                                   "input": {"filters": json.loads("[" * 300 + "]" * 300)}}), id="deep-input"),
])
async def test_deeply_nested_json_is_400(tmp_path, fake, path, body):
    async with client_for(make_app(tmp_path, fake)) as client:
        response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "levels deep; at most 64 are accepted" in response.json()["message"]


async def test_echoed_values_are_truncated(app):
    long_id = "a" * 2000
    async with client_for(app) as client:
        found = await client.get(f"/authentications/{long_id}")
    assert found.json()["message"] == f"Authentication '{'a' * 80}... (2000 characters)' was not found"


async def test_input_errors_quoting_a_huge_value_are_truncated(tmp_path, fake):
    async with client_for(make_app(tmp_path, fake)) as client:
        auth_id = await store_token(client)
        response = await client.post(CALL, json={"operation": "get_prospect", "authId": auth_id,
                                                 "input": {"prospect_id": "9" * 50_000}})
    assert response.status_code == 400
    assert len(response.json()["message"]) < 1000 and "characters)" in response.json()["message"]


async def test_a_lone_surrogate_anywhere_in_the_input_is_400_naming_it(tmp_path, fake):
    async with client_for(make_app(tmp_path, fake)) as client:
        auth_id = await store_token(client)
        body = ('{"operation": "list_prospects", "authId": "%s", "input": {"filters": {"firstName": "\\ud800"}}}'
                % auth_id)
        response = await client.post(CALL, content=body.encode(), headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {
        "message": "Connector input validation failed. filters.firstName: text with a lone surrogate (a "
                   "\\uD800-\\uDFFF escape without its pair) is not valid Unicode", "code": None,
        "errors": [{"path": "filters.firstName", "message": "text with a lone surrogate (a \\uD800-\\uDFFF escape "
                                                            "without its pair) is not valid Unicode"}]})
    assert fake.requests == []


async def test_an_answer_holding_a_lone_surrogate_escape_goes_back_out_as_that_escape(tmp_path, fake):
    prospect = {"data": {"type": "prospect", "id": 1, "attributes": {"firstName": "a\ud800"}}}
    fake.on("GET", "/api/v2/prospects/1", lambda request: jsonapi(200, prospect))  # sent as "a\\ud800"
    async with client_for(make_app(tmp_path, fake)) as client:
        auth_id = await store_token(client)
        response = await client.post(CALL, json={"operation": "get_prospect", "authId": auth_id,
                                                 "input": {"prospect_id": 1}})
    assert response.status_code == 200
    assert response.content == b'{"outcome":"success","output":' + json.dumps(prospect).replace(" ", "").encode() + b"}"


async def test_an_answer_holding_nan_is_an_error_envelope(tmp_path, fake):
    fake.on("GET", "/api/v2/prospects/1", lambda request: httpx.Response(
        200, content=b'{"data": {"type": "prospect", "id": 1, "attributes": {"engagedScore": NaN}}}',
        headers={"Content-Type": "application/vnd.api+json"}))
    async with client_for(make_app(tmp_path, fake)) as client:
        auth_id = await store_token(client)
        response = await client.post(CALL, json={"operation": "get_prospect", "authId": auth_id,
                                                 "input": {"prospect_id": 1}})
    assert response.status_code == 200
    assert response.json()["outcome"] == "error"
    assert response.json()["output"]["message"].startswith("unexpected response shape from Outreach for get_prospect")


HTTP_CLIENT_SETS = "is set by the connector's HTTP client; a request may not set it"
CONNECTOR_AUTHENTICATES = "is set by the connector, which authenticates every request itself; a request may not set it"


@pytest.mark.parametrize("name, why", [
    *[pytest.param(name, HTTP_CLIENT_SETS, id=name) for name in ("Host", "X-Forwarded-Host", "x-forwarded-for",
                                                                 "Forwarded", "Content-Length", "Transfer-Encoding",
                                                                 "Connection")],
    # refused, not ignored: the caller learns its credential is not what authenticates the request
    *[pytest.param(name, CONNECTOR_AUTHENTICATES, id=name)
      for name in ("Authorization", "authorization", "AUTHORIZATION")],
])
async def test_raw_http_refuses_headers_that_route_frame_or_authenticate_a_request(tmp_path, fake, name, why):
    async with client_for(make_app(tmp_path, fake)) as client:
        auth_id = await store_token(client)
        response = await client.post(CALL, json={"operation": "raw_http_request", "authId": auth_id, "input": {
            "method": "GET", "url": {"endpoint": "/stages"}, "headers": [{"key": name, "value": "evil.test"}]}})
    assert (response.status_code, response.json()) == (400, {
        "message": f"Connector input validation failed. headers[0].key: {name} {why}", "code": None,
        "errors": [{"path": "headers.0.key", "message": f"{name} {why}"}]})
    assert fake.requests == []


def test_an_upstream_answer_is_bounded_after_decompression():
    bomb = gzip.compress(b"0" * 200_000)  # 200 KB once decompressed, a few hundred bytes on the wire
    transport = httpx.MockTransport(lambda r: httpx.Response(
        200, content=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}))
    sender = Sender(ClientConfig("https://api.outreach.test/api/v2", BearerToken("t"), transport,
                                 max_response_bytes=100_000))
    with pytest.raises(UpstreamError) as caught:
        sender.send(HttpCall("GET", "/prospects"))
    assert caught.value.message == ("GET /prospects: Outreach's answer is larger than the 100000 bytes the connector "
                                    "reads (counted after decompression); ask for less (page_size, fields)")
    small = Sender(ClientConfig("https://api.outreach.test/api/v2", BearerToken("t"), httpx.MockTransport(
        lambda r: httpx.Response(200, content=gzip.compress(b'{"data": []}'), headers={"Content-Encoding": "gzip"}))))
    assert small.send(HttpCall("GET", "/prospects")).body == {"data": []}


async def test_deleting_an_authentication_while_calls_run_never_gives_500(tmp_path):
    release = asyncio.Event()

    async def slow_outreach(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return jsonapi(200, sample("get_prospect.output"))

    app = make_app(tmp_path, httpx.MockTransport(slow_outreach))
    async with client_for(app) as client:
        auth_id = await store_token(client)
        call = {"operation": "get_prospect", "authId": auth_id, "input": {"prospect_id": 12345}}
        running = [asyncio.create_task(client.post(CALL, json=call)) for _ in range(5)]
        await asyncio.sleep(0.05)
        assert (await client.delete(f"/authentications/{auth_id}")).status_code == 204
        release.set()
        finished = await asyncio.gather(*running)
        after = await client.post(CALL, json=call)
    assert [r.json()["outcome"] for r in finished] == ["success"] * 5  # they finish on the shared pool
    assert after.status_code == 404


async def test_a_refresh_after_the_authentication_was_deleted_is_an_error_envelope(tmp_path, fake):
    fake.on("POST", "/oauth/token", lambda r: httpx.Response(200, json={"access_token": "a", "expires_in": 60}))
    app = make_app(tmp_path, fake)
    async with client_for(app) as client:
        created = await client.post("/authentications", json={"name": "o", "credentials": {
            "client_id": "c", "client_secret": "s", "refresh_token": "r"}})
        auth_id = created.json()["id"]
        connector = await app.state.services.pool.get(auth_id, None)  # a session a call already holds
        await client.delete(f"/authentications/{auth_id}")
        call = CallRequest(operation="get_prospect", authId=auth_id, input={"prospect_id": 1})
        response, outcome = await run_call(connector, call, app.state.services.catalogue)
    # Outreach was not asked, so there is no Outreach status to report (it once said 404, as if Outreach had).
    assert (response.status_code, outcome, json.loads(response.body)) == (200, "AuthenticationGone", {
        "outcome": "error", "output": {"message": "the authentication was deleted while this call was running",
                                       "response": {"statusCode": None, "body": None}}})
    assert fake.requests == []  # nothing was refreshed for a deleted authentication


def test_the_access_log_carries_paths_without_query_strings():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/authentications?after=cursor-canary&limit=2", "1.1", 200),
                               None)
    assert PathOnlyAccessLog().filter(record) is True
    assert record.getMessage() == '127.0.0.1:5 - "GET /authentications HTTP/1.1" 200'

"""Tenants: an authentication belongs to the API key that stored it; token URLs are the operator's choice."""
from __future__ import annotations

import json

import httpx
import pytest

from .helpers import CALL, OTHER_KEY, FakeOutreach, client_for, jsonapi, make_app, sample

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake(fake: FakeOutreach) -> FakeOutreach:
    fake.on("GET", "/api/v2/prospects/12345", lambda r: jsonapi(200, sample("get_prospect.output")))
    return fake


@pytest.fixture
async def app(tmp_path, fake, database, encryption_key):
    """The server on SQLite and on PostgreSQL."""
    return make_app(tmp_path, fake, allowed_token_urls=("https://login.partner.test/oauth/token",),
                    database=database, encryption_key=encryption_key)


async def store(client: httpx.AsyncClient, name: str, credentials: dict | None = None) -> httpx.Response:
    return await client.post("/authentications", json={"name": name,
                                                       "credentials": credentials or {"access_token": "tok-canary-77"}})


async def test_another_key_cannot_see_call_or_delete_an_authentication(app, fake):
    async with client_for(app) as owner, client_for(app, OTHER_KEY) as other:
        auth_id = (await store(owner, "mine")).json()["id"]
        call = {"operation": "get_prospect", "authId": auth_id, "input": {"prospect_id": 12345}}
        missing = {"message": f"Authentication {auth_id!r} was not found", "code": None}
        for response in (await other.get(f"/authentications/{auth_id}"), await other.post(CALL, json=call),
                         await other.delete(f"/authentications/{auth_id}")):
            assert (response.status_code, response.json()) == (404, missing)
        assert fake.requests == []  # the other tenant's call sent nothing
        assert (await owner.post(CALL, json=call)).json()["outcome"] == "success"
        assert (await owner.get(f"/authentications/{auth_id}")).status_code == 200


async def test_a_session_built_for_one_tenant_is_not_lent_to_another(app):
    async with client_for(app) as owner, client_for(app, OTHER_KEY) as other:
        auth_id = (await store(owner, "mine")).json()["id"]
        call = {"operation": "get_prospect", "authId": auth_id, "input": {"prospect_id": 12345}}
        assert (await owner.post(CALL, json=call)).status_code == 200  # the session is now cached
        assert (await other.post(CALL, json=call)).status_code == 404


async def test_listing_shows_only_the_callers_authentications_page_by_page(app):
    async with client_for(app) as owner, client_for(app, OTHER_KEY) as other:
        mine = [(await store(owner, f"auth {n}")).json()["id"] for n in range(5)]
        await store(other, "theirs")
        seen, after, pages = [], None, []
        while True:
            page = await owner.get("/authentications", params={"limit": 2, **({"after": after} if after else {})})
            body = page.json()
            pages.append(len(body["elements"]))
            seen += body["elements"]
            after = body["next_page_after"]
            if after is None:
                break
    assert pages == [2, 2, 1]
    assert sorted(e["id"] for e in seen) == sorted(mine)
    assert {tuple(e) for e in seen} == {("id", "name", "kind", "created_at", "status", "status_reason",
                                         "status_since", "last_refreshed_at")}
    assert "tok-canary-77" not in str(seen)


@pytest.mark.parametrize("query, message", [
    pytest.param({"limit": "0"}, "Invalid query: limit must be a whole number from 1 to 100", id="limit-0"),
    pytest.param({"limit": "abc"}, "Invalid query: limit must be a whole number from 1 to 100", id="limit-text"),
    pytest.param({"limit": "\u0661"}, "Invalid query: limit must be a whole number from 1 to 100",
                 id="limit-arabic-indic-digit"),
    pytest.param({"after": "forged"}, "Invalid query: after is not a cursor this server handed out", id="cursor"),
])
async def test_bad_list_queries_are_400(app, query, message):
    async with client_for(app) as client:
        response = await client.get("/authentications", params=query)
    assert (response.status_code, response.json()) == (400, {"message": message, "code": None})


@pytest.mark.parametrize("token_url, status", [
    pytest.param("https://api.outreach.test/oauth/token", 201, id="the-server-token-url"),
    pytest.param("https://login.partner.test/oauth/token/", 201, id="allowed-trailing-slash"),
    pytest.param("http://169.254.169.254/latest/meta-data", 400, id="metadata-service"),
    pytest.param("http://127.0.0.1:5432/", 400, id="internal-host"),
    pytest.param("https://api.outreach.test/oauth/token/../x", 400, id="path-trick"),
])
async def test_token_url_must_be_one_the_operator_trusts(app, fake, token_url, status):
    async with client_for(app) as client:
        response = await store(client, "o", {"client_id": "c", "client_secret": "s", "refresh_token": "r",
                                             "token_url": token_url})
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"message": "Invalid authentication: credentials.token_url: not a token endpoint "
                                              "this server trusts (its --token-url, or one given with "
                                              "--allow-token-url)", "code": None}
    assert fake.requests == []


@pytest.mark.parametrize("credentials, field", [
    pytest.param({"access_token": "a\r\nX-Evil: 1"}, "access_token", id="crlf"),
    pytest.param({"access_token": "a\x00b"}, "access_token", id="nul"),
    pytest.param({"access_token": "caf\u00e9\u2603"}, "access_token", id="outside-latin-1"),
    pytest.param({"client_id": "c", "client_secret": "s\ud800", "refresh_token": "r"}, "client_secret",
                 id="lone-surrogate"),
])
async def test_credentials_http_cannot_carry_are_400_when_stored(app, credentials, field):
    body = json.dumps({"name": "x", "credentials": credentials})  # ASCII with \u escapes, as any client may send
    async with client_for(app) as client:
        response = await client.post("/authentications", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == (f"Invalid authentication: credentials.{field}: Value error, must be "
                                           "printable Latin-1 text that HTTP can carry (no CR, LF, NUL or other "
                                           "control characters)")


@pytest.mark.parametrize("name, message", [
    pytest.param("x\ud800", "Input should be a valid string, unable to parse raw data as a unicode string",
                 id="lone-surrogate"),
    pytest.param("x\x00", "Value error, must not contain NUL", id="nul"),
])
async def test_a_name_no_database_can_hold_is_400(app, name, message):
    body = json.dumps({"name": name, "credentials": {"access_token": "t"}})
    async with client_for(app) as client:
        response = await client.post("/authentications", content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["message"]) == (400, f"Invalid authentication: name: {message}")

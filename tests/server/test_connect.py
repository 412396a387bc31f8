"""Connecting an Outreach account: POST /authentications/connect, the sandbox's consent page, GET /oauth/callback."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import outreach_sandbox
from outreach_connector.catalogue_folders import load_manifest
from outreach_connector.server import ServerSettings, create_app
from outreach_connector.server.secrets_box import generate_key_text

from .helpers import API_KEY, CALL, OTHER_KEY, client_for

pytestmark = pytest.mark.anyio

SANDBOX = "http://sandbox.test"
PUBLIC = "https://connector.example"
RETURN = "https://host.example/connected?tenant=7"
APP = dict(oauth_client_id="sandbox-client-id", oauth_client_secret="sandbox-client-secret",
           authorize_url=f"{SANDBOX}/oauth/authorize", public_url=PUBLIC, allowed_return_urls=(RETURN,))


class Recorder(httpx.AsyncBaseTransport):
    """The sandbox in-process, remembering what reached it."""

    def __init__(self, sandbox: outreach_sandbox.Sandbox) -> None:
        self.inner = sandbox.transport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def token_forms(self) -> list[dict[str, list[str]]]:
        return [parse_qs(r.content.decode()) for r in self.requests if r.url.path == "/oauth/token"]


def settings_for(database: Any, **overrides: Any) -> ServerSettings:
    options: dict[str, Any] = dict(api_keys=(API_KEY, OTHER_KEY), database=database,
                                   outreach_base_url=f"{SANDBOX}/api/v2", token_url=f"{SANDBOX}/oauth/token", **APP)
    options.update(overrides)
    return ServerSettings(**options)


@pytest.fixture
def sandbox() -> outreach_sandbox.Sandbox:
    return outreach_sandbox.Sandbox()


@pytest.fixture
def outreach(sandbox) -> Recorder:
    return Recorder(sandbox)


@pytest.fixture
def app(tmp_path: Path, outreach: Recorder):
    return create_app(settings_for(tmp_path / "server.db"), transport=outreach)


@pytest.fixture
async def client(app):
    async with client_for(app) as c:
        yield c


async def start(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/authentications/connect", json={"name": "sales", **body})


def consent(sandbox: outreach_sandbox.Sandbox, authorize_url: str, decision: str = "allow") -> str:
    """What a browser does on the consent page: the callback URL Outreach sends it to."""
    parts = urlsplit(authorize_url)
    with httpx.Client(transport=sandbox.transport(), base_url=SANDBOX) as browser:
        page = browser.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200 and 'data-testid="allow"' in page.text
        answer = browser.post(f"{parts.path}?{parts.query}", data={"decision": decision})
    assert answer.status_code == 302
    return answer.headers["location"]


async def follow(app, callback_url: str, **headers: str) -> httpx.Response:
    """The browser arriving at the callback: no API key."""
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC and parts.path == "/oauth/callback"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as browser:
        return await browser.get(f"{parts.path}?{parts.query}", headers=headers)


async def connect_through_sandbox(client, app, sandbox, **body: Any) -> httpx.Response:
    started = await start(client, **body)
    assert started.status_code == 201, started.text
    return await follow(app, consent(sandbox, started.json()["authorize_url"]))


async def listed(client: httpx.AsyncClient, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/authentications{query}")
    assert response.status_code == 200, response.text
    return response.json()["elements"]


async def test_connect_answers_an_authorize_url_with_every_parameter(client):
    response = await start(client, return_url=RETURN)
    assert response.status_code == 201 and set(response.json()) == {"authorize_url", "expires_at"}
    url = urlsplit(response.json()["authorize_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{SANDBOX}/oauth/authorize"
    query = parse_qs(url.query)
    assert {k: v for k, v in query.items() if k != "state"} == {
        "client_id": ["sandbox-client-id"], "redirect_uri": [f"{PUBLIC}/oauth/callback"],
        "response_type": ["code"], "scope": [" ".join(load_manifest().auth["scopes"])]}
    assert "+" not in url.query  # spaces in the scope list are %20
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["state"][0])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", response.json()["expires_at"])
    assert response.headers["cache-control"] == "no-store"


async def test_allow_connects_stores_for_the_tenant_and_a_call_works(client, app, sandbox, outreach):
    arrived = await connect_through_sandbox(client, app, sandbox)
    assert arrived.status_code == 200
    message = re.search(r"window\.opener\.postMessage\((\{.*?\}), (\"[^\"]*\")\)", arrived.text)
    assert message, arrived.text
    payload, origin = json.loads(message.group(1)), json.loads(message.group(2))
    assert payload["type"] == "outreach-connector:connected" and origin == PUBLIC
    assert arrived.headers["referrer-policy"] == "no-referrer"
    assert "'nonce-" in arrived.headers["content-security-policy"]
    (auth,) = await listed(client)
    assert auth["id"] == payload["authentication_id"]
    assert (auth["name"], auth["kind"], auth["status"], auth["status_reason"]) == ("sales", "oauth", "connected", None)
    assert outreach.token_forms() == [{"grant_type": ["authorization_code"], "code": outreach.token_forms()[0]["code"],
                                       "redirect_uri": [f"{PUBLIC}/oauth/callback"],
                                       "client_id": ["sandbox-client-id"],
                                       "client_secret": ["sandbox-client-secret"]}]
    called = await client.post(CALL, json={"operation": "get_user", "authId": auth["id"], "input": {"user_id": 1}})
    assert called.json()["outcome"] == "success", called.text
    assert len(outreach.token_forms()) == 1  # the exchanged access token was used as it is
    async with client_for(app, OTHER_KEY) as other:
        assert await listed(other) == []  # the state's tenant only


async def test_with_a_return_url_the_browser_goes_back_there(client, app, sandbox):
    arrived = await connect_through_sandbox(client, app, sandbox, return_url=RETURN)
    assert arrived.status_code == 303
    target = urlsplit(arrived.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://host.example/connected"
    (auth,) = await listed(client)
    assert parse_qs(target.query) == {"tenant": ["7"], "authentication_id": [auth["id"]], "status": ["connected"]}


async def test_deny_stores_nothing_and_says_so_to_the_return_url_and_the_opener(client, app, sandbox, outreach):
    started = await start(client, return_url=RETURN)
    arrived = await follow(app, consent(sandbox, started.json()["authorize_url"], "deny"))
    assert arrived.status_code == 303
    assert parse_qs(urlsplit(arrived.headers["location"]).query) == {
        "tenant": ["7"], "status": ["error"], "error": ["access_denied"]}
    started = await start(client)
    page = await follow(app, consent(sandbox, started.json()["authorize_url"], "deny"))
    assert page.status_code == 200
    assert '{"type": "outreach-connector:error", "error": "access_denied"}' in page.text
    assert await listed(client) == [] and outreach.token_forms() == []


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda q: {**q, "state": ["not-a-state"]}, id="unknown"),
    pytest.param(lambda q: {k: v for k, v in q.items() if k != "state"}, id="missing"),
    pytest.param(lambda q: {**q, "state": ["x" * 5000]}, id="huge"),
])
async def test_a_bad_state_is_a_400_page_with_no_token_request(client, app, sandbox, outreach, tamper):
    started = await start(client)
    parts = urlsplit(consent(sandbox, started.json()["authorize_url"]))
    query = tamper(parse_qs(parts.query))
    forged = f"{PUBLIC}/oauth/callback?" + "&".join(f"{k}={v[0]}" for k, v in query.items())
    arrived = await follow(app, forged)
    assert arrived.status_code == 400 and "not valid" in arrived.text and "<script" not in arrived.text
    assert outreach.token_forms() == [] and await listed(client) == []


async def test_a_state_is_single_use(client, app, sandbox, outreach):
    started = await start(client)
    callback_url = consent(sandbox, started.json()["authorize_url"])
    assert (await follow(app, callback_url)).status_code == 200
    replay = await follow(app, callback_url)
    assert replay.status_code == 400 and "already used" in replay.text
    assert len(outreach.token_forms()) == 1 and len(await listed(client)) == 1


async def test_a_state_expires_after_ten_minutes(client, app, sandbox, outreach, monkeypatch):
    started = await start(client)
    callback_url = consent(sandbox, started.json()["authorize_url"])
    real = __import__("time").time
    monkeypatch.setattr("outreach_connector.server.consent.time.time", lambda: real() + 601)
    arrived = await follow(app, callback_url)
    assert arrived.status_code == 400 and outreach.token_forms() == [] and await listed(client) == []


async def test_an_api_key_on_the_callback_is_ignored(client, app, sandbox):
    started = await start(client)
    arrived = await follow(app, consent(sandbox, started.json()["authorize_url"]),
                           Authorization=f"Bearer {OTHER_KEY}")
    assert arrived.status_code == 200
    assert len(await listed(client)) == 1  # stored for the tenant that started the flow
    async with client_for(app, OTHER_KEY) as other:
        assert await listed(other) == []


async def test_a_failed_exchange_stores_nothing(client, app, sandbox):
    started = await start(client, return_url=RETURN)
    callback_url = consent(sandbox, started.json()["authorize_url"])
    parts = urlsplit(callback_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    forged = f"{PUBLIC}/oauth/callback?code=sbx_code_forged&state={query['state']}"
    arrived = await follow(app, forged)
    assert arrived.status_code == 303
    assert parse_qs(urlsplit(arrived.headers["location"]).query)["error"] == ["invalid_grant"]
    assert await listed(client) == []


async def test_an_unreachable_token_endpoint_stores_nothing(tmp_path, sandbox):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    app = create_app(settings_for(tmp_path / "s.db"), transport=httpx.MockTransport(refuse))
    async with client_for(app) as client:
        started = await start(client)
        page = await follow(app, consent(sandbox, started.json()["authorize_url"]))
        assert page.status_code == 200 and '"error": "token_endpoint_unreachable"' in page.text
        assert await listed(client) == []


async def test_reconnect_keeps_the_id_and_replaces_the_tokens(client, app, sandbox, outreach):
    first = await connect_through_sandbox(client, app, sandbox, return_url=RETURN)
    auth_id = parse_qs(urlsplit(first.headers["location"]).query)["authentication_id"][0]
    again = await connect_through_sandbox(client, app, sandbox, return_url=RETURN, authentication_id=auth_id)
    assert parse_qs(urlsplit(again.headers["location"]).query)["authentication_id"] == [auth_id]
    (auth,) = await listed(client)
    assert auth["id"] == auth_id and auth["status"] == "connected"
    called = await client.post(CALL, json={"operation": "get_user", "authId": auth_id, "input": {"user_id": 1}})
    assert called.json()["outcome"] == "success"


async def test_another_tenants_authentication_id_is_404(client, app):
    created = await client.post("/authentications", json={"name": "t", "credentials": {"access_token": "tok"}})
    async with client_for(app, OTHER_KEY) as other:
        response = await start(other, authentication_id=created.json()["id"])
    assert response.status_code == 404 and created.json()["id"] in response.json()["message"]
    assert (await start(client, authentication_id="not-an-id")).status_code == 404


@pytest.mark.parametrize(("body", "message"), [
    pytest.param({"scopes": ["prospects.all", "nope.all"]}, "unknown scope 'nope.all'", id="unknown-scope"),
    pytest.param({"scopes": []}, "scopes", id="no-scopes"),
    pytest.param({"return_url": "https://evil.example/connected"}, "return_url: not a return URL", id="host"),
    pytest.param({"return_url": "https://host.example/other"}, "return_url: not a return URL", id="path"),
    pytest.param({"return_url": "http://host.example/connected"}, "return_url: not a return URL", id="scheme"),
    pytest.param({"return_url": "https://host.example:8443/connected"}, "return_url: not a return URL", id="port"),
    pytest.param({"return_url": "https://host.example/connected#x"}, "return_url: not a return URL", id="fragment"),
    pytest.param({"color": "red"}, "color", id="extra-field"),
])
async def test_bad_connect_requests_are_400(client, body, message):
    response = await start(client, **body)
    assert response.status_code == 400 and message in response.json()["message"], response.text


async def test_a_return_url_with_its_own_query_and_default_port_matches(client):
    assert (await start(client, return_url="https://host.example:443/connected?x=1")).status_code == 201


async def test_chosen_scopes_are_sent(client):
    response = await start(client, scopes=["prospects.all", "users.read"])
    assert parse_qs(urlsplit(response.json()["authorize_url"]).query)["scope"] == ["prospects.all users.read"]


async def test_without_an_app_connect_is_400(tmp_path, outreach):
    bare = {k: None for k in ("oauth_client_id", "oauth_client_secret", "public_url")}
    app = create_app(settings_for(tmp_path / "s.db", **bare), transport=outreach)
    async with client_for(app) as client:
        response = await start(client)
    assert response.status_code == 400 and "No Outreach app is configured" in response.json()["message"]


async def test_connect_needs_the_api_key(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as anonymous:
        assert (await anonymous.post("/authentications/connect", json={"name": "x"})).status_code == 401


async def test_pending_states_are_bounded_per_tenant(client, app, monkeypatch):
    monkeypatch.setattr("outreach_connector.server.connect_store.MAX_PENDING_STATES", 2)
    assert [(await start(client)).status_code for _ in range(3)] == [201, 201, 429]
    async with client_for(app, OTHER_KEY) as other:
        assert (await start(other)).status_code == 201


async def test_the_refresh_of_a_connected_authentication_sends_its_redirect_uri(client, app, sandbox, outreach):
    arrived = await connect_through_sandbox(client, app, sandbox, return_url=RETURN)
    auth_id = parse_qs(urlsplit(arrived.headers["location"]).query)["authentication_id"][0]
    for token in list(sandbox.tokens._access):  # Outreach forgets the access token: the next call gets a 401
        sandbox.tokens.revoke(token)
    called = await client.post(CALL, json={"operation": "get_user", "authId": auth_id, "input": {"user_id": 1}})
    assert called.json()["outcome"] == "success", called.text
    refresh = outreach.token_forms()[-1]
    assert refresh["grant_type"] == ["refresh_token"]
    assert refresh["redirect_uri"] == [f"{PUBLIC}/oauth/callback"]


def test_serve_refuses_an_app_without_a_public_url(tmp_path):
    from outreach_connector.server.settings import settings_from

    with pytest.raises(ValueError, match="no --public-url"):
        settings_from(["--api-key", "k", "--oauth-client-id", "a", "--oauth-client-secret", "b"], env={})
    with pytest.raises(ValueError, match="both --oauth-client-id and --oauth-client-secret"):
        settings_from(["--api-key", "k", "--oauth-client-id", "a", "--public-url", "https://x"], env={})
    chosen = settings_from(["--api-key", "k", "--public-url", "https://x/", "--allow-return-url", "https://h/r"],
                           env={"OUTREACH_CONNECTOR_OAUTH_CLIENT_ID": "a",
                                "OUTREACH_CONNECTOR_OAUTH_CLIENT_SECRET": "b"})
    assert (chosen.oauth_client_id, chosen.public_url, chosen.allowed_return_urls) == ("a", "https://x", ("https://h/r",))
    assert "b" not in repr(chosen.oauth_client_secret)


async def test_a_state_made_on_one_replica_completes_on_another_and_only_once(postgres_url, outreach, sandbox):
    key = generate_key_text()
    replica_a = create_app(settings_for(postgres_url, encryption_key=key), transport=outreach)
    replica_b = create_app(settings_for(postgres_url, encryption_key=key), transport=outreach)
    try:
        async with client_for(replica_a) as client_a, client_for(replica_b, OTHER_KEY) as other_b:
            started = await start(client_a, return_url=RETURN)
            callback_url = consent(sandbox, started.json()["authorize_url"])
            arrived = await follow(replica_b, callback_url)
            assert arrived.status_code == 303
            auth_id = parse_qs(urlsplit(arrived.headers["location"]).query)["authentication_id"][0]
            assert [a["id"] for a in await listed(client_a)] == [auth_id]
            assert await listed(other_b) == []  # never in another tenant
            assert (await follow(replica_a, callback_url)).status_code == 400  # spent on every replica
    finally:
        for app in (replica_a, replica_b):
            app.state.services.store.close()


async def test_a_head_request_does_not_spend_the_state(client, app, sandbox):
    started = await start(client)
    callback_url = consent(sandbox, started.json()["authorize_url"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as browser:
        assert (await browser.head(callback_url)).status_code == 405
    assert (await follow(app, callback_url)).status_code == 200


async def test_a_replica_without_the_app_stores_nothing(tmp_path, client, sandbox, outreach):
    """A state another replica made, completed on one started without --oauth-client-id: an error, never a 500."""
    bare = create_app(settings_for(tmp_path / "server.db", oauth_client_id=None, oauth_client_secret=None,
                                   public_url=None), transport=outreach)
    started = await start(client)
    page = await follow(bare, consent(sandbox, started.json()["authorize_url"]))
    assert page.status_code == 200 and '"error": "server_not_configured"}, "/")' in page.text
    assert outreach.token_forms() == [] and await listed(client) == []

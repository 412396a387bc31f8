"""End to end over real loopback sockets: the server under uvicorn, the Outreach sandbox under uvicorn.

Every secret here is a canary: the last tests prove none of them reaches a response, a log record or the
database file in clear text.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from outreach_connector.catalogue_folders import load_entries
from outreach_connector.client import HTTP_LIBRARY_LOGGERS, quiet_http_libraries
from outreach_connector.server.opening import open_store as open_database
from outreach_connector.server.store import CredentialStore
from outreach_connector.oauth import TokenSet
from outreach_connector.server import ServerSettings, create_app

from .live import LiveServer

outreach_sandbox = pytest.importorskip("outreach_sandbox")

CANARY_ACCESS = f"canary-access-{secrets.token_hex(6)}"
CANARY_SECRET = f"canary-secret-{secrets.token_hex(6)}"
CANARY_REFRESH = f"canary-refresh-{secrets.token_hex(6)}"
API_KEY = f"canary-api-key-{secrets.token_hex(6)}"
CLIENT_ID = "e2e-client-id"
CALL = "/connectors/outreach/versions/1.0/call"
CONCURRENT_CALLS = 50


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # message, arguments and any traceback, as a log file gets them


@dataclass
class Env:
    sandbox: Any
    sandbox_url: str
    server_url: str
    database: Path
    logs: RecordingHandler
    responses: list[str] = field(default_factory=list)

    def settings(self) -> ServerSettings:
        return ServerSettings(api_keys=(API_KEY,), database=self.database,
                              outreach_base_url=f"{self.sandbox_url}/api/v2",
                              token_url=f"{self.sandbox_url}/oauth/token")

    def client(self, url: str | None = None, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=url or self.server_url, headers={"Authorization": f"Bearer {API_KEY}"},
                            event_hooks={"response": [self._record]}, timeout=30, **options)

    def _record(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(f"{response.headers}\n{response.text}")

    def outreach(self) -> httpx.Client:
        """Straight to the sandbox, to compare the server's outputs with what Outreach says."""
        return httpx.Client(base_url=f"{self.sandbox_url}/api/v2", timeout=30,
                            headers={"Authorization": f"Bearer {CANARY_ACCESS}",
                                     "Accept": "application/vnd.api+json"})

    def refreshes(self) -> int:
        return refresh_count(self.sandbox)

    def mint_refresh_token(self) -> str:
        """A fresh refresh token from the sandbox (authorization-code grant), for a new authentication."""
        answer = httpx.post(f"{self.sandbox_url}/oauth/token", data={
            "grant_type": "authorization_code", "code": "sandbox-auth-code", "client_id": CLIENT_ID,
            "client_secret": CANARY_SECRET, "redirect_uri": "http://localhost/cb"})
        answer.raise_for_status()
        return answer.json()["refresh_token"]


def refresh_count(sandbox: Any) -> int:
    return sandbox.token_refreshes


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    logs = RecordingHandler()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(logs)
    root.setLevel(logging.DEBUG)
    quiet_http_libraries(debug=True)  # as `serve --log-level debug` does: the run below checks httpx's lines too
    config = outreach_sandbox.SandboxConfig(clock=time.time, client_id=CLIENT_ID, client_secret=CANARY_SECRET,
                                            refresh_token=CANARY_REFRESH, access_token=CANARY_ACCESS)
    sandbox = outreach_sandbox.Sandbox(config)
    database = tmp_path_factory.mktemp("server") / "connector.db"
    try:
        with LiveServer(sandbox.app) as sandbox_url:
            environment = Env(sandbox, sandbox_url, "", database, logs)
            with LiveServer(create_app(environment.settings())) as server_url:
                environment.server_url = server_url
                yield environment
    finally:
        root.removeHandler(logs)
        root.setLevel(previous_level)
        for name in HTTP_LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.fixture(scope="module")
def token_auth(env) -> str:
    with env.client() as client:
        created = client.post("/authentications", json={"name": "token", "credentials": {
            "access_token": CANARY_ACCESS}})
    assert created.status_code == 201
    return created.json()["id"]


def call(env: Env, auth_id: str, operation: str, data: Any, **extra: Any) -> httpx.Response:
    with env.client() as client:
        return client.post(CALL, json={"operation": operation, "authId": auth_id, "input": data, **extra})


def success(response: httpx.Response) -> Any:
    body = response.json()
    assert (response.status_code, list(body), body["outcome"]) == (200, ["outcome", "output"], "success"), body
    return body["output"]


# --- the catalogue ------------------------------------------------------------------------------------------

def test_lists_the_connector_and_its_operations(env):
    with env.client() as client:
        connectors = client.get("/connectors")
        operations = client.get("/connectors/outreach/versions/1.0/operations")
    assert connectors.json() == {"elements": [{
        "name": "outreach", "version": "1.0", "title": "Outreach",
        "description": "Drive the Outreach sales-engagement API (REST v2, JSON:API) from an integration runtime."}]}
    names = {op["name"] for op in operations.json()["elements"]}
    assert len(names) == len(load_entries()) and {"list_prospects", "list_sequences_ddl", "raw_http_request"} <= names


# --- one operation of every kind, each compared with what the sandbox itself says --------------------------

def test_list_prospects(env, token_auth):
    output = success(call(env, token_auth, "list_prospects", {"page_size": 2}))
    with env.outreach() as outreach:
        direct = outreach.get("/prospects", params={"page[size]": 2}).json()
    assert output == direct
    assert len(output["data"]) == 2 and output["links"]["next"].startswith(env.sandbox_url)


def test_get_prospect(env, token_auth):
    with env.outreach() as outreach:
        prospect_id = outreach.get("/prospects", params={"page[size]": 1}).json()["data"][0]["id"]
        direct = outreach.get(f"/prospects/{prospect_id}").json()
    assert success(call(env, token_auth, "get_prospect", {"prospect_id": prospect_id})) == direct


def test_create_account(env, token_auth):
    attributes = {"name": "Acme E2E", "domain": "acme.test"}
    output = success(call(env, token_auth, "create_account", {"attributes": attributes}))
    assert (output["data"]["type"], output["data"]["attributes"]["name"]) == ("account", "Acme E2E")
    with env.outreach() as outreach:
        assert outreach.get(f"/accounts/{output['data']['id']}").json() == output


def test_update_stage(env, token_auth):
    with env.outreach() as outreach:
        stage_id = outreach.get("/stages", params={"page[size]": 1}).json()["data"][0]["id"]
    renamed = {"stage_id": stage_id, "attributes": {"name": "Renamed E2E"}}
    output = success(call(env, token_auth, "update_stage", renamed))
    assert (output["data"]["id"], output["data"]["attributes"]["name"]) == (stage_id, "Renamed E2E")
    with env.outreach() as outreach:
        assert outreach.get(f"/stages/{stage_id}").json() == output


def test_delete_task(env, token_auth):
    with env.outreach() as outreach:
        task_id = outreach.get("/tasks", params={"page[size]": 1}).json()["data"][0]["id"]
    assert success(call(env, token_auth, "delete_task", {"task_id": task_id})) == {"deleted": True}
    with env.outreach() as outreach:
        assert outreach.get(f"/tasks/{task_id}").status_code == 404


def test_set_sequence_state_action(env, token_auth):
    with env.outreach() as outreach:
        state_id = outreach.get("/sequenceStates", params={"filter[state]": "active", "page[size]": 1}
                                ).json()["data"][0]["id"]
    output = success(call(env, token_auth, "set_sequence_state_action",
                          {"sequence_state_id": state_id, "action": "pause"}))
    assert (output["data"]["id"], output["data"]["attributes"]["state"]) == (state_id, "paused")
    with env.outreach() as outreach:
        assert outreach.get(f"/sequenceStates/{state_id}").json() == output


def test_list_sequences_ddl(env, token_auth):
    output = success(call(env, token_auth, "list_sequences_ddl", {}))
    with env.outreach() as outreach:
        sequences = outreach.get("/sequences", params={"page[size]": 1000}).json()["data"]
    assert list(output) == ["result", "next_page_after"] and output["next_page_after"] is None
    assert sorted(output["result"], key=lambda o: o["value"]) == sorted(
        ({"text": s["attributes"]["name"], "value": s["id"]} for s in sequences), key=lambda o: o["value"])


def test_execute_link(env, token_auth):
    link = success(call(env, token_auth, "list_prospects", {"page_size": 2}))["links"]["next"]
    with env.outreach() as outreach:
        direct = outreach.get(link).json()
    assert success(call(env, token_auth, "execute_link", {"link": link})) == direct


def test_raw_http_request(env, token_auth):
    with env.outreach() as outreach:
        direct = outreach.get("/stages", params={"page[size]": 1})
    output = success(call(env, token_auth, "raw_http_request", {
        "method": "GET", "url": {"endpoint": "/stages"}, "query_parameters": [{"key": "page[size]", "value": "1"}]}))
    assert list(output) == ["response"]
    assert (output["response"]["status_code"], output["response"]["body"]) == (200, direct.json())
    assert output["response"]["headers"]["content-type"].startswith("application/vnd.api+json")


def test_create_compliance_request(env, token_auth):
    output = success(call(env, token_auth, "create_compliance_request", {
        "requester_email": "admin@example.com", "request_type": "Delete", "object_type": "Prospect",
        "request_object_email": "person@example.com"}))
    assert list(output) == ["data"] and list(output["data"]) == ["batch_compliance_request_id"]
    assert len(output["data"]["batch_compliance_request_id"]) == 36  # a UUID


# --- error envelopes ---------------------------------------------------------------------------------------

def test_outreach_404_is_an_error_outcome_with_its_status_and_body(env, token_auth):
    with env.outreach() as outreach:
        direct = outreach.get("/prospects/987654321").json()
    response = call(env, token_auth, "get_prospect", {"prospect_id": 987654321})
    assert response.status_code == 200
    assert response.json() == {"outcome": "error", "output": {
        "message": response.json()["output"]["message"], "response": {"statusCode": 404, "body": direct}}}
    assert response.json()["output"]["message"].startswith("Outreach answered 404: resourceNotFound")


def test_invalid_input_is_400_naming_every_field(env, token_auth):
    response = call(env, token_auth, "create_account", {"attributes": {"name": 7, "websiteUrl": ["x"], "nope": 1},
                                                       "relationships": {"owner": "abc"}})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["message", "code", "errors"] and body["code"] is None
    assert body["message"].startswith("Connector input validation failed. ")
    for path in ("attributes.name", "attributes.websiteUrl", "attributes.nope", "relationships.owner"):
        assert f"{path}:" in body["message"]
    assert {e["path"] for e in body["errors"]} == {"attributes.name", "attributes.websiteUrl", "attributes.nope",
                                                   "relationships.owner"}


def test_unknown_operation_is_404(env, token_auth):
    response = call(env, token_auth, "list_unicorns", {})
    assert (response.status_code, response.json()) == (
        404, {"message": "The connector operation 'list_unicorns' was not found", "code": None})


@pytest.mark.parametrize("header", [pytest.param(None, id="missing"), pytest.param("Bearer nope", id="wrong"),
                                    pytest.param(f"Basic {API_KEY}", id="wrong-scheme")])
def test_bad_api_key_is_401(env, header):
    headers = {} if header is None else {"Authorization": header}
    response = httpx.get(f"{env.server_url}/connectors", headers=headers)
    assert response.status_code == 401 and response.json()["code"] is None


# --- the OAuth lifecycle through the server ----------------------------------------------------------------

def store_oauth(env: Env, refresh_token: str) -> str:
    with env.client() as client:
        created = client.post("/authentications", json={"name": "oauth", "credentials": {
            "client_id": CLIENT_ID, "client_secret": CANARY_SECRET, "refresh_token": refresh_token}})
    assert created.status_code == 201
    return created.json()["id"]


def open_store(env: Env) -> CredentialStore:
    return open_database(env.database)  # the same key file the server generated


async def fire(env: Env, auth_id: str, calls: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=calls, max_keepalive_connections=calls)
    async with httpx.AsyncClient(base_url=env.server_url, headers={"Authorization": f"Bearer {API_KEY}"},
                                 limits=limits, timeout=60) as client:
        body = {"operation": "list_prospects", "authId": auth_id, "input": {"page_size": 1}}
        return await asyncio.gather(*(client.post(CALL, json=body) for _ in range(calls)))


def test_concurrent_calls_with_an_expired_token_refresh_once_and_survive_a_restart(env):
    first_refresh_token = env.mint_refresh_token()
    auth_id = store_oauth(env, first_refresh_token)
    store = open_store(env)
    # An access token that expired a minute ago, as a server would find after a night off.
    store.save_tokens(auth_id, TokenSet("expired-access-token", first_refresh_token, time.time() - 60, None))
    before = env.refreshes()

    responses = asyncio.run(fire(env, auth_id, CONCURRENT_CALLS))

    assert [r.json()["outcome"] for r in responses] == ["success"] * CONCURRENT_CALLS
    assert env.refreshes() - before == 1
    persisted = store.load(auth_id).tokens
    assert persisted.refresh_token != first_refresh_token  # the rotated one, written before use
    assert persisted.access_token != "expired-access-token" and persisted.expires_at > time.time() + 3600
    with env.client() as client:
        view = client.get(f"/authentications/{auth_id}").json()
    assert view["access_token_expires_at"] is not None

    # A new server on the same database: the persisted access token still works, no refresh needed...
    with LiveServer(create_app(env.settings())) as restarted:
        with env.client(restarted) as client:
            again = client.post(CALL, json={"operation": "list_prospects", "authId": auth_id,
                                            "input": {"page_size": 1}})
    assert again.json()["outcome"] == "success" and env.refreshes() - before == 1

    # ...and once it expires, the persisted rotated refresh token is the one that works (the first is dead).
    store.save_tokens(auth_id, TokenSet("expired-again", persisted.refresh_token, time.time() - 1, None))
    with LiveServer(create_app(env.settings())) as restarted:
        with env.client(restarted) as client:
            refreshed = client.post(CALL, json={"operation": "list_prospects", "authId": auth_id,
                                                "input": {"page_size": 1}})
    assert refreshed.json()["outcome"] == "success", refreshed.json()
    assert env.refreshes() - before == 2
    assert store.load(auth_id).tokens.refresh_token not in (first_refresh_token, persisted.refresh_token)


def test_concurrent_401s_refresh_once(env):
    """The access token is revoked at Outreach before its expiry: every call gets a 401, one refresh follows."""
    auth_id = store_oauth(env, env.mint_refresh_token())
    asyncio.run(fire(env, auth_id, 1))  # first use: refresh, then a live token
    revoked = open_store(env).load(auth_id).tokens.access_token
    env.sandbox.tokens.revoke(revoked)
    before = env.refreshes()
    responses = asyncio.run(fire(env, auth_id, CONCURRENT_CALLS))
    assert [r.json()["outcome"] for r in responses] == ["success"] * CONCURRENT_CALLS
    assert env.refreshes() - before == 1


def test_dead_refresh_token_is_a_reconnect_required_outcome(env):
    auth_id = store_oauth(env, "refresh-token-nobody-issued")
    response = call(env, auth_id, "list_prospects", {"page_size": 1})
    assert response.status_code == 200
    output = response.json()["output"]
    assert response.json()["outcome"] == "error"
    assert "Reconnect" in output["message"]
    # The OAuth error code only: the token endpoint's free text is never echoed to a caller.
    assert output["response"] == {"statusCode": 400, "body": {"error": "invalid_grant"}}


# --- secrets: last, so the logs and responses of the whole module are in ------------------------------------

def test_no_secret_in_responses_logs_or_database(env, token_auth):
    auth_id = store_oauth(env, CANARY_REFRESH)  # the sandbox's own initial refresh token, used exactly once
    assert success(call(env, auth_id, "list_prospects", {"page_size": 1}))
    rotated = open_store(env).load(auth_id).tokens
    with env.client() as client:
        client.get(f"/authentications/{auth_id}")
        client.get(f"/authentications/{token_auth}")
    canaries = [CANARY_ACCESS, CANARY_SECRET, CANARY_REFRESH, API_KEY, rotated.access_token, rotated.refresh_token]

    for text in env.responses:
        assert not any(c in text for c in canaries)
    logged = "\n".join(env.logs.lines)
    assert "refreshed the Outreach access token" in logged and "HTTP Request" in logged  # DEBUG-level run
    assert not any(c in logged for c in canaries)
    files = [p for p in env.database.parent.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"connector.db", "connector.db.key"}
    stored = b"".join(p.read_bytes() for p in files)
    assert not any(c.encode() in stored for c in canaries)
    assert stat.S_IMODE(env.database.with_name("connector.db.key").stat().st_mode) == 0o600

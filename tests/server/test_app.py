"""The server in-process: every envelope of the contract, checked exactly."""
from __future__ import annotations

import logging

import httpx
import pytest

from outreach_connector.catalogue_folders import load_entries

from .helpers import CALL, jsonapi, make_client, sample, store_token

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(tmp_path, fake):
    async with make_client(tmp_path, fake) as client:
        yield client


@pytest.mark.parametrize("headers", [
    pytest.param({}, id="missing"),
    pytest.param({"Authorization": "Bearer wrong"}, id="wrong-key"),
    pytest.param({"Authorization": "Basic server-key-for-tests"}, id="wrong-scheme"),
    pytest.param({"Authorization": "Bearer "}, id="empty"),
])
@pytest.mark.parametrize("method, path", [
    pytest.param("GET", "/connectors", id="connectors"),
    pytest.param("GET", "/connectors/outreach/versions/1.0/operations", id="operations"),
    pytest.param("POST", CALL, id="call"),
    pytest.param("POST", "/authentications", id="create-auth"),
    pytest.param("GET", "/authentications", id="list-auths"),
    pytest.param("GET", "/authentications/x", id="get-auth"),
    pytest.param("DELETE", "/authentications/x", id="delete-auth"),
    pytest.param("GET", "/no/such/route", id="unknown-route"),
])
async def test_every_endpoint_needs_the_api_key(client, method, path, headers):
    client.headers.pop("Authorization")
    response = await client.request(method, path, headers=headers, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"message": "The request is unauthorized: send the server's API key as "
                                          "'Authorization: Bearer <key>'", "code": None}


async def test_list_connectors(client):
    response = await client.get("/connectors")
    assert response.json() == {"elements": [{
        "name": "outreach", "version": "1.0", "title": "Outreach",
        "description": "Drive the Outreach sales-engagement API (REST v2, JSON:API) from an integration runtime."}]}


async def test_list_operations_includes_ddls_with_reduced_schemas(client):
    elements = (await client.get("/connectors/outreach/versions/1.0/operations")).json()["elements"]
    assert len(elements) == len(load_entries())  # the seed's 95 and those generated from Outreach's schema
    assert all(set(op) == {"name", "title", "description", "inputSchema", "outputSchema", "hasDynamicOutput"}
               for op in elements)
    by_name = {op["name"]: op for op in elements}
    assert by_name["list_sequences_ddl"]["outputSchema"]["properties"]["result"]["type"] == "array"
    assert by_name["update_stage"]["inputSchema"]["properties"]["stage_id"]["lookup"] == {
        "operation": "list_stages_ddl", "input": {}}
    assert by_name["raw_http_request"]["hasDynamicOutput"] is True
    assert by_name["get_prospect"]["hasDynamicOutput"] is False


@pytest.mark.parametrize("path", [
    pytest.param("/connectors/slack/versions/1.0/operations", id="operations-unknown-connector"),
    pytest.param("/connectors/outreach/versions/9.9/operations", id="operations-unknown-version"),
])
async def test_unknown_connector_or_version_is_404(client, path):
    response = await client.get(path)
    assert response.status_code == 404 and response.json()["code"] is None


async def test_call_on_unknown_version_is_404(client):
    response = await client.post("/connectors/outreach/versions/0.1/call",
                                 json={"operation": "get_prospect", "authId": "x", "input": {}})
    assert response.status_code == 404
    assert response.json() == {"message": "Connector 'outreach' version '0.1' was not found", "code": None}


async def test_success_envelope(client, fake):
    fake.on("GET", "/api/v2/prospects/12345", lambda r: jsonapi(200, sample("get_prospect.output")))
    auth_id = await store_token(client)
    response = await client.post(CALL, json={"operation": "get_prospect", "authId": auth_id,
                                             "input": {"prospect_id": 12345}, "returnOutputSchema": False})
    assert (response.status_code, response.json()) == (200, {"outcome": "success",
                                                              "output": sample("get_prospect.output")})
    assert fake.requests[0].headers["Authorization"] == "Bearer access-token-canary"


async def test_outreach_404_is_an_error_outcome(client, fake):
    body = {"errors": [{"id": "resourceNotFound", "title": "Resource Not Found",
                        "detail": "Could not find 'prospect' with ID '999'."}]}
    fake.on("GET", "/api/v2/prospects/999", lambda r: jsonapi(404, body))
    auth_id = await store_token(client)
    response = await client.post(CALL, json={"operation": "get_prospect", "authId": auth_id,
                                             "input": {"prospect_id": 999}})
    assert response.status_code == 200
    assert response.json() == {"outcome": "error", "output": {
        "message": "Outreach answered 404: resourceNotFound - Resource Not Found - "
                   "Could not find 'prospect' with ID '999'.",
        "response": {"statusCode": 404, "body": body}}}


async def test_invalid_input_names_every_field(client, fake):
    auth_id = await store_token(client)
    response = await client.post(CALL, json={"operation": "update_stage", "authId": auth_id,
                                             "input": {"attributes": {"name": 5, "colour": "red"}}})
    assert (response.status_code, response.json()) == (400, {"code": None, "message": (
        'Connector input validation failed. attributes.name: 5 is not of types "null", "string"; '
        "attributes.colour: unknown field (did you mean color?); stage_id: required field is missing"), "errors": [
        {"path": "attributes.name", "message": '5 is not of types "null", "string"'},
        {"path": "attributes.colour", "message": "unknown field (did you mean color?)"},
        {"path": "stage_id", "message": "required field is missing"}]})
    assert fake.requests == []  # bad input never reaches Outreach


async def test_unsafe_link_is_input_invalid(client, fake):
    auth_id = await store_token(client)
    response = await client.post(CALL, json={"operation": "execute_link", "authId": auth_id,
                                             "input": {"link": "https://evil.test/api/v2/prospects"}})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Connector input validation failed. ")
    assert fake.requests == []


async def test_unknown_operation_is_404(client):
    auth_id = await store_token(client)
    response = await client.post(CALL, json={"operation": "launch_rocket", "authId": auth_id, "input": {}})
    assert response.status_code == 404
    assert response.json() == {"message": "The connector operation 'launch_rocket' was not found", "code": None}


async def test_unknown_auth_id_is_404(client):
    response = await client.post(CALL, json={"operation": "get_prospect", "authId": "nope", "input": {}})
    assert response.status_code == 404
    assert response.json() == {"message": "Authentication 'nope' was not found", "code": None}


@pytest.mark.parametrize("body, message", [
    pytest.param(b"{not json", "Invalid call request: the body is not JSON", id="not-json"),
    pytest.param(b'{"authId": "a", "input": {}, "operatoin": "x"}',
                 "Invalid call request: operation: Field required; operatoin: Extra inputs are not permitted",
                 id="typo"),
    pytest.param(b'{"operation": "get_prospect", "input": {}, "returnOutputSchema": "maybe"}',
                 "Invalid call request: authId: Field required; returnOutputSchema: Input should be a valid "
                 "boolean, unable to interpret input", id="types"),
])
async def test_malformed_call_request_is_400(client, body, message):
    response = await client.post(CALL, content=body)
    assert (response.status_code, response.json()) == (400, {"message": message, "code": None})


async def test_return_output_schema_validates_but_sends_nothing(client, fake):
    auth_id = await store_token(client)
    response = await client.post(CALL, json={"operation": "create_account", "authId": auth_id,
                                             "input": {"attributes": {"name": "Acme"}},
                                             "returnOutputSchema": True})
    body = response.json()
    assert (response.status_code, body["outcome"], list(body["output"])) == (200, "success", ["output_schema"])
    schema = body["output"]["output_schema"]
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["properties"]["data"]["type"] == "object"
    assert fake.requests == []
    invalid = await client.post(CALL, json={"operation": "create_account", "authId": auth_id,
                                            "input": {"attributes": {"nmae": "Acme"}}, "returnOutputSchema": True})
    assert invalid.status_code == 400


async def test_transport_failure_is_an_error_outcome_without_a_response(client, fake):
    def drop(request):
        raise httpx.ReadError("connection reset")  # after the request left: a create is never repeated

    fake.on("POST", "/api/v2/accounts", drop)
    auth_id = await store_token(client)
    response = await client.post(CALL, json={"operation": "create_account", "authId": auth_id,
                                             "input": {"attributes": {"name": "Acme"}}})
    assert (response.status_code, response.json()) == (200, {"outcome": "error", "output": {
        "message": "POST https://api.outreach.test/api/v2/accounts: the connection failed after the request was "
                   "sent (ReadError); "
                   "Outreach may or may not have applied it, so it was not repeated",
        "response": {"statusCode": None, "body": None}}})
    assert len(fake.requests) == 1


async def test_dead_refresh_token_is_a_reconnect_error_outcome(client, fake):
    fake.on("POST", "/oauth/token", lambda r: httpx.Response(400, json={
        "error": "invalid_grant", "error_description": "The refresh token is invalid"}))
    created = await client.post("/authentications", json={"name": "o", "credentials": {
        "client_id": "cid", "client_secret": "secret-canary", "refresh_token": "refresh-canary"}})
    response = await client.post(CALL, json={"operation": "get_prospect", "authId": created.json()["id"],
                                             "input": {"prospect_id": 1}})
    output = response.json()["output"]
    assert response.json()["outcome"] == "error"
    assert output["message"].startswith("Outreach rejected the refresh token (invalid_grant)")
    assert "Reconnect" in output["message"]
    # The status and the OAuth error code; the endpoint's free text is not echoed.
    assert output["response"] == {"statusCode": 400, "body": {"error": "invalid_grant"}}
    assert str(fake.requests[0].url) == "https://api.outreach.test/oauth/token"  # the server's token URL


async def test_unexpected_exception_is_a_bare_500_and_logs_no_message(client, fake, caplog):
    def explode(request):
        secret = request.headers["Authorization"].removeprefix("Bearer ")
        raise RuntimeError(f"boom with {secret} inside")  # a third-party error quoting its input

    fake.on("GET", "/api/v2/prospects/1", explode)
    auth_id = await store_token(client)
    caplog.set_level(logging.DEBUG)
    response = await client.post(CALL, json={"operation": "get_prospect", "authId": auth_id,
                                             "input": {"prospect_id": 1}})
    assert (response.status_code, response.json()) == (500, {"message": "internal error", "code": None})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "access-token-canary" not in logged
    assert "access-token-canary" not in response.text


async def test_authentication_lifecycle(client):
    created = await client.post("/authentications", json={"name": "ops", "credentials": {
        "client_id": "cid", "client_secret": "secret-canary", "refresh_token": "refresh-canary",
        "token_url": "https://api.outreach.test/oauth/token/"}})
    assert created.status_code == 201 and list(created.json()) == ["id"]
    auth_id = created.json()["id"]
    found = await client.get(f"/authentications/{auth_id}")
    created_at = found.json()["created_at"]
    assert found.json() == {"id": auth_id, "name": "ops", "kind": "oauth", "created_at": created_at,
                            "access_token_expires_at": None, "status": "connected", "status_reason": None,
                            "status_since": created_at, "last_refreshed_at": created_at}
    assert "canary" not in found.text
    deleted = await client.delete(f"/authentications/{auth_id}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await client.get(f"/authentications/{auth_id}")).status_code == 404
    assert (await client.delete(f"/authentications/{auth_id}")).status_code == 404


@pytest.mark.parametrize("body, message", [
    pytest.param({"name": "x"}, "Invalid authentication: credentials: Field required", id="no-credentials"),
    pytest.param({"name": "x", "credentials": {"access_token": ""}},
                 "Invalid authentication: credentials.access_token: Value error, must not be empty",
                 id="empty-token"),
    pytest.param({"name": "x", "credentials": {"client_id": "c", "client_secret": "secret-canary"}},
                 "Invalid authentication: credentials.refresh_token: Field required", id="missing-refresh"),
    pytest.param({"name": "x", "credentials": {"access_token": "secret-canary", "password": "secret-canary"}},
                 "Invalid authentication: credentials.password: not a credentials field (fields: access_token; or "
                 "client_id, client_secret, refresh_token and token_url)", id="extra"),
    pytest.param({"name": "x", "credentials": {"acess_token": "secret-canary"}},
                 "Invalid authentication: credentials.access_token: Field required; credentials.acess_token: not a "
                 "credentials field (did you mean access_token?)", id="misspelt-access-token"),
    pytest.param({"name": "x", "credentials": {"client_id": "c", "client_secret": "secret-canary",
                                               "refresh_tokn": "secret-canary"}},
                 "Invalid authentication: credentials.refresh_token: Field required; credentials.refresh_tokn: not a "
                 "credentials field (did you mean refresh_token?)", id="misspelt-refresh-token"),
    pytest.param({"name": "x", "credentials": {"client_id": "c", "client_secret": "s", "refresh_token": "r",
                                               "token_url": "file:///etc/passwd"}},
                 "Invalid authentication: credentials.token_url: Value error, must be an absolute http(s) URL "
                 "without user info or fragment", id="bad-token-url"),
])
async def test_invalid_authentication_is_400_and_echoes_no_value(client, body, message):
    response = await client.post("/authentications", json=body)
    assert (response.status_code, response.json()) == (400, {"message": message, "code": None})
    assert "secret-canary" not in response.text


async def test_deleting_an_authentication_stops_its_calls(client, fake):
    fake.on("GET", "/api/v2/prospects/12345", lambda r: jsonapi(200, sample("get_prospect.output")))
    auth_id = await store_token(client)
    call = {"operation": "get_prospect", "authId": auth_id, "input": {"prospect_id": 12345}}
    assert (await client.post(CALL, json=call)).json()["outcome"] == "success"
    await client.delete(f"/authentications/{auth_id}")
    assert (await client.post(CALL, json=call)).status_code == 404


def test_the_app_refuses_to_exist_without_an_api_key(tmp_path):
    from outreach_connector.server import ServerSettings, create_app

    with pytest.raises(ValueError, match="refusing to start without an API key"):
        create_app(ServerSettings(database=tmp_path / "x.db"))

"""Credentials HTTP cannot carry (issue 17, item 10): a token pasted with a space around it.

It used to be stored, then sent five times, and h11's error (``Illegal header value b'Bearer SECRET '``) came back
to the caller and into the debug log. Now it is refused where it is given (``Connector``, the environment,
``auth login``, ``POST /authentications``), a bearer header is checked once more before any request (rows
stored earlier, tokens from a token endpoint), and an error of our own HTTP stack is a fixed message, not
retried. The secret never appears in an error, a repr or a log line (DEBUG included).
"""
from __future__ import annotations

import asyncio
import logging
import secrets

import httpx
import pytest

from outreach_connector import Connector
from outreach_connector.cli import main
from outreach_connector.cli.session import CREDENTIAL_VARIABLES
from outreach_connector.errors import CredentialUnsendable, TransportError, UpstreamError
from outreach_connector.settings import SettingsInvalid
from outreach_connector.header_values import SURROUNDED
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

from .helpers import CALL, OUTREACH, TOKEN_URL, client_for, make_app

SECRET = f"canary-{secrets.token_hex(8)}"
PADDED = [pytest.param(f"{SECRET} ", id="trailing-space"), pytest.param(f" {SECRET}", id="leading-space"),
          pytest.param(f"{SECRET}\t", id="trailing-tab"), pytest.param(f"{SECRET}\n", id="trailing-newline")]
OAUTH = {"client_id": "app", "client_secret": "app-secret", "refresh_token": "user-refresh"}


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_never_shown(debug_logs, *texts: str) -> None:
    for text in texts:
        assert SECRET not in text
    assert SECRET not in debug_logs.text
    assert all(SECRET not in str(record.args) for record in debug_logs.records)


# --- refused where it is given --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", PADDED)
@pytest.mark.parametrize("field", ["access_token", "client_secret", "refresh_token", "client_id"])
def test_the_server_refuses_to_store_a_credential_with_whitespace_around_it(tmp_path, field, value, debug_logs):
    credentials = {"access_token": value} if field == "access_token" else {**OAUTH, field: value}
    requests: list[httpx.Request] = []

    async def post() -> httpx.Response:
        async with client_for(make_app(tmp_path, requests.append)) as client:
            response = await client.post("/authentications", json={"name": "n", "credentials": credentials})
            assert (await client.get("/authentications")).json()["elements"] == []  # nothing stored
            return response

    response = asyncio.run(post())
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("Invalid authentication: ") and f"credentials.{field}" in message
    assert SURROUNDED in message and requests == []
    assert_never_shown(debug_logs, response.text)


@pytest.mark.parametrize("value", PADDED)
@pytest.mark.parametrize("setting, variable", [("access_token", "OUTREACH_ACCESS_TOKEN"),
                                               ("client_secret", "OUTREACH_CLIENT_SECRET"),
                                               ("refresh_token", "OUTREACH_REFRESH_TOKEN")])
def test_the_python_api_refuses_a_credential_with_whitespace_around_it(setting, variable, value, debug_logs):
    given = {"client_id": "app", "client_secret": "s", "refresh_token": "r", setting: value}
    with pytest.raises(SettingsInvalid) as from_keywords:
        Connector(base_url=OUTREACH, **given)
    assert from_keywords.value.errors == [{"path": f"{setting} (--{setting.replace('_', '-')})",
                                           "message": SURROUNDED}]
    with pytest.raises(SettingsInvalid) as from_env:
        Connector.from_env({variable: value, "OUTREACH_CLIENT_ID": "app", "OUTREACH_CLIENT_SECRET": "s",
                            "OUTREACH_REFRESH_TOKEN": "r", **{variable: value}})
    assert from_env.value.errors == [{"path": f"{setting} ({variable})", "message": SURROUNDED}]
    assert_never_shown(debug_logs, str(from_keywords.value), repr(from_keywords.value), str(from_env.value))


def test_auth_login_refuses_a_refresh_token_with_whitespace_around_it(tmp_path, monkeypatch, capsys, debug_logs):
    config = tmp_path / "config"
    monkeypatch.setenv("OUTREACH_CONNECTOR_CONFIG_DIR", str(config))
    for variable in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("OUTREACH_CLIENT_SECRET", "app-secret")
    monkeypatch.setenv("OUTREACH_REFRESH_TOKEN", f"{SECRET} ")
    assert main(["auth", "login", "--client-id", "app"]) == 2
    out, err = capsys.readouterr()
    assert "refresh_token (OUTREACH_REFRESH_TOKEN): " + SURROUNDED in err
    assert not (config / "credentials.json").exists()
    assert_never_shown(debug_logs, out, err)


# --- checked again before anything is sent ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def served():
    sandbox = Sandbox(SandboxConfig())
    with serving(sandbox) as base_url:
        yield sandbox, base_url


def test_a_token_stored_before_the_check_fails_its_calls_without_sending_or_showing_it(
        tmp_path, served, monkeypatch, debug_logs):
    """Over real loopback HTTP (h11), where such a header used to fail five times, quoting the token."""
    sandbox, base_url = served
    app = make_app(tmp_path, httpx.AsyncHTTPTransport(), outreach_base_url=base_url)

    async def run() -> httpx.Response:
        async with client_for(app) as client:
            with monkeypatch.context() as older_server:  # as a server before the check would have stored it
                older_server.setattr("outreach_connector.server.credentials.header_problem", lambda text: None)
                created = await client.post("/authentications", json={
                    "name": "old", "credentials": {"access_token": f"{SECRET} "}})
            assert created.status_code == 201
            return await client.post(CALL, json={"operation": "get_stage", "authId": created.json()["id"],
                                                 "input": {"stage_id": 1}})

    before = len(sandbox.requests)
    response = asyncio.run(run())
    assert response.status_code == 200 and response.json()["outcome"] == "error"
    assert response.json()["output"] == {"message": f"the access token {SURROUNDED}; nothing was sent (give or "
                                                    "store it again)", "response": {"statusCode": None, "body": None}}
    assert len(sandbox.requests) == before
    assert_never_shown(debug_logs, response.text)


def test_a_token_endpoint_answer_with_whitespace_around_the_token_is_refused(debug_logs):
    api_requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": f"{SECRET} ", "expires_in": 7200})
        api_requests.append(request)
        return httpx.Response(200, json={"data": {}})

    connector = Connector(base_url=OUTREACH, token_url=TOKEN_URL, transport=httpx.MockTransport(answer), **OAUTH)
    with pytest.raises(UpstreamError) as raised:
        connector.call("get_stage", {"stage_id": 1})
    assert raised.value.message == ("Outreach's token endpoint answered 200 with an access token HTTP cannot carry "
                                    f"(it {SURROUNDED})")
    assert api_requests == []
    assert_never_shown(debug_logs, str(raised.value), repr(raised.value))


def test_a_bearer_token_that_cannot_be_sent_is_one_error_and_no_attempt(debug_logs):
    from outreach_connector.client import BearerToken

    attempts: list[httpx.Request] = []
    connector = Connector(base_url=OUTREACH, auth=BearerToken(f"{SECRET}\r\nX-Injected: 1"),
                          transport=httpx.MockTransport(lambda r: attempts.append(r) or httpx.Response(200)))
    with pytest.raises(CredentialUnsendable) as raised:
        connector.call("get_stage", {"stage_id": 1})
    assert attempts == [] and "nothing was sent" in raised.value.message
    assert_never_shown(debug_logs, str(raised.value), repr(raised.value), repr(connector))


# --- an error of our own HTTP stack --------------------------------------------------------------------------

def test_a_local_protocol_error_is_a_fixed_message_and_is_not_retried(debug_logs):
    """h11 refuses a header before anything is sent, and its message quotes the header whole."""
    attempts: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET} '", request=request)

    connector = Connector(base_url=OUTREACH, access_token="token", transport=httpx.MockTransport(refuse))
    with pytest.raises(TransportError) as raised:
        connector.call("get_stage", {"stage_id": 1})
    assert raised.value.message == ("GET https://api.outreach.test/api/v2/stages/1: the request could not be "
                                    "written: a header or the URL holds a value HTTP cannot carry; it was not "
                                    "sent again")
    assert len(attempts) == 1
    assert_never_shown(debug_logs, str(raised.value), repr(raised.value))


@pytest.mark.parametrize("value", [" lead", "trail ", "tab\t"])
def test_a_raw_request_header_with_whitespace_around_it_is_refused_before_sending(value, debug_logs):
    from outreach_connector.errors import InputInvalid

    connector = Connector(base_url=OUTREACH, access_token="token",
                          transport=httpx.MockTransport(lambda r: pytest.fail("nothing may be sent")))
    with pytest.raises(InputInvalid) as raised:
        connector.call("raw_http_request", {"method": "GET", "url": {"endpoint": "/stages"},
                                            "headers": [{"key": "X-Custom", "value": value}]})
    assert raised.value.errors == [{"path": "headers[0].value",
                                    "message": "must not start or end with a space or tab"}]

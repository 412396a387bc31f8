"""Canary credentials never leave for another origin, and never show up in errors, reprs, logs or CLI output.

Every test here runs with canary secrets (an access token, a client secret, refresh tokens, and the tokens the
sandbox mints from them) and with every log record captured at DEBUG; the ``leak_guard`` fixture fails the
test if any record mentions any of them. Hostile URLs are tried against execute link and raw HTTP; redirects
to other hosts are answered by a fake Outreach; error paths run through the sandbox, in process and over a
loopback socket (so that httpcore's and h11's DEBUG logs are included), and the CLI runs as a subprocess.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach_connector import Connector
from outreach_connector.errors import (AuthError, ConnectorError, InputInvalid, OutcomeUnknown, OutputInvalid,
                                       PermissionDenied, RateLimited, ReconnectRequired, TransportError,
                                       UnsafeURL, UpstreamError, ValidationFailed)
from outreach_connector.retry import RetryPolicy
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

from .conftest import SANDBOX_BASE_URL, RecordingTransport

CANARY = "canary-access-3f9c1e7a"
CANARY_SECRET = "canary-secret-8b2d4f6e"
CANARY_REFRESH = "canary-refresh-5a7e9c1b"
CANARY_DEAD = "canary-dead-refresh-2c4e6a8d"
CANARY_WRONG = "canary-wrong-access-9d1f3b5c"
CANARIES = [CANARY, CANARY_SECRET, CANARY_REFRESH, CANARY_DEAD, CANARY_WRONG]
API_ORIGIN = ("https", "api.outreach.io", 443)
API_BASE = "https://api.outreach.io/api/v2"
QUICK = RetryPolicy(max_attempts=2, base_delay=0.0, max_total_wait=1.0)


def leaks(text: object) -> list[str]:
    text = str(text)
    return [canary for canary in CANARIES if canary in text]


def assert_clean_error(error: BaseException) -> None:
    """Message, repr, to_dict and the formatted traceback (with its chained causes) name no secret."""
    rendered = [str(error), repr(error), "".join(traceback.format_exception(error))]
    if isinstance(error, ConnectorError):
        rendered.append(json.dumps(error.to_dict(), default=str))
    for text in rendered:
        assert leaks(text) == [], text


@pytest.fixture
def leak_guard(caplog):
    """Capture every log record at DEBUG (httpx, httpcore, h11, uvicorn, the connector) and check them all."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "h11", "uvicorn", "outreach_connector", "outreach_sandbox"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog
    for record in caplog.records:
        rendered = f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}"
        if record.exc_info:
            rendered += "".join(traceback.format_exception(*record.exc_info))
        assert leaks(rendered) == [], rendered


def canary_sandbox(**config) -> Sandbox:
    settings = {"access_token": CANARY, "client_secret": CANARY_SECRET, "refresh_token": CANARY_REFRESH, **config}
    return Sandbox(SandboxConfig(**settings))


def sandbox_connector(sb: Sandbox, transport=None, **options) -> Connector:
    options.setdefault("retry", QUICK)
    return Connector(base_url=SANDBOX_BASE_URL, access_token=CANARY, transport=transport or sb.transport(),
                     **options)


# --- hostile URLs: nothing is sent anywhere -----------------------------------------------------------------

HOSTILE = [
    pytest.param("http://sandbox.test.evil.example/api/v2/stages", id="look-alike-suffix"),
    pytest.param("http://evil-sandbox.test/api/v2/stages", id="look-alike-prefix"),
    pytest.param("http://sandbox.test@evil.example/api/v2/stages", id="userinfo-host"),
    pytest.param("http://sandbox.test:80@evil.example/api/v2", id="userinfo-with-port"),
    pytest.param("http://user:pw@sandbox.test/api/v2/stages", id="userinfo-on-real-host"),
    pytest.param("https://sandbox.test/api/v2/stages", id="other-scheme"),
    pytest.param("http://sandbox.test:8080/api/v2/stages", id="other-port"),
    pytest.param("http://sandbox.test:80:81/api/v2/stages", id="double-port"),
    pytest.param("http://sandbox%2etest/api/v2/stages", id="encoded-dot"),
    pytest.param("http://sandbox.test%40evil.example/api/v2", id="encoded-at"),
    pytest.param("http://sandbox\u3002test/api/v2/stages", id="ideographic-dot"),
    pytest.param("http://\uff53andbox.test/api/v2/stages", id="fullwidth-letter"),
    pytest.param("http://sandbox.test./api/v2/stages", id="trailing-dot"),
    pytest.param("http://sandbox.test\\@evil.example/api/v2", id="backslash"),
    pytest.param("http:/\\evil.example/api/v2", id="slash-backslash"),
    pytest.param("http:evil.example/api/v2", id="no-slashes"),
    pytest.param("http:///evil.example/api/v2", id="three-slashes"),
    pytest.param("http://sandbox.test\t.evil.example/", id="tab"),
    pytest.param("http://sandbox.test\x00.evil.example/", id="nul"),
    pytest.param("http://evil.example/?next=http://sandbox.test/api/v2", id="origin-in-query"),
    pytest.param("http://127.0.0.1/api/v2/stages", id="ip-literal"),
    pytest.param("http://[::1]/api/v2/stages", id="ipv6-literal"),
    pytest.param("ftp://sandbox.test/api/v2/stages", id="ftp"),
    pytest.param("HTTP://EVIL.EXAMPLE/api/v2", id="upper-case-other-host"),
]


@pytest.mark.parametrize("url", HOSTILE)
@pytest.mark.parametrize("operation", ["execute_link", "raw_http_get", "raw_http_post"])
def test_hostile_urls_send_nothing(url, operation, leak_guard):
    sb = canary_sandbox()
    transport = RecordingTransport(sb.transport())
    conn = sandbox_connector(sb, transport)
    data = {"link": url} if operation == "execute_link" else {
        "method": operation.rsplit("_", 1)[1].upper(), "url": {"full_url": url}, "body": {"raw": {"a": 1}}}
    with pytest.raises((UnsafeURL, InputInvalid)) as caught:
        conn.call("execute_link" if operation == "execute_link" else "raw_http_request", data)
    assert transport.outcomes == [] and sb.requests == []
    assert_clean_error(caught.value)
    conn.close()


def url_parts():
    """URLs assembled from the parts parsers disagree about."""
    scheme = st.sampled_from(["http", "HTTP", "https", "ftp", "http:", ""])
    userinfo = st.sampled_from(["", "user@", "user:pw@", "sandbox.test@", "@", "a%40b@"])
    host = st.sampled_from(["sandbox.test", "SANDBOX.TEST", "sandbox.test.evil.example", "evil.example",
                            "sandbox.test.", "sandbox%2etest", "sandbox\u3002test", "xn--sandbox-test", "",
                            "127.0.0.1", "[::1]"])
    port = st.sampled_from(["", ":80", ":080", ":8080", ":", ":443", ":0", ":80\\@evil.example"])
    tail = st.lists(st.sampled_from(list("/?#@\\:%.2eE ~\t") + ["%2F", "%40", "/..", "\u2044", "\uff0f"]),
                    max_size=8).map("".join)
    return st.tuples(scheme, userinfo, host, port, tail).map(
        lambda p: f"{p[0]}://{p[1]}{p[2]}{p[3]}/api/v2{p[4]}")


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(url_parts())
def test_any_url_goes_to_the_api_origin_or_nowhere(url):
    """Property: whatever the URL, every request that leaves goes to the configured origin exactly."""
    sent = []

    def respond(request):
        sent.append(request)
        return httpx.Response(200, json={"data": []})

    conn = Connector(base_url="http://sandbox.test/api/v2", access_token=CANARY,
                     transport=httpx.MockTransport(respond), retry=QUICK)
    for operation, data in (("execute_link", {"link": url}),
                            ("raw_http_request", {"method": "GET", "url": {"full_url": url}})):
        try:
            conn.call(operation, data)
        except ConnectorError as error:
            assert_clean_error(error)
    for request in sent:
        assert (request.url.scheme, request.url.host, request.url.port or 80) == ("http", "sandbox.test", 80), url
    conn.close()


# --- redirects are never followed ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", ["https://evil.example/steal", "http://api.outreach.io/api/v2/stages",
                                      "https://api.outreach.io:8443/api/v2", "//evil.example/x"])
def test_redirects_to_other_origins_are_not_followed(status, location, leak_guard):
    sent = []

    def respond(request):
        sent.append(request)
        return httpx.Response(status, headers={"Location": location}, json={"data": {"type": "stage", "id": 1}})

    conn = Connector(base_url=API_BASE, access_token=CANARY, transport=httpx.MockTransport(respond), retry=QUICK)
    calls = [("get_stage", {"stage_id": 1}), ("execute_link", {"link": f"{API_BASE}/stages/1"}),
             ("raw_http_request", {"method": "GET", "url": {"endpoint": "/stages/1"}}),
             ("raw_http_request", {"method": "POST", "url": {"endpoint": "/stages"}, "body": {"raw": {}}})]
    for operation, data in calls:
        try:
            output = conn.call(operation, data)
            assert leaks(json.dumps(output)) == []
        except ConnectorError as error:
            assert_clean_error(error)
    assert len(sent) == len(calls)
    for request in sent:
        assert (request.url.scheme, request.url.host, request.url.port or 443) == API_ORIGIN
        assert request.headers["Authorization"] == f"Bearer {CANARY}"
    conn.close()


# --- error paths, reprs, OAuth -----------------------------------------------------------------------------

def failing_calls(sb: Sandbox):
    """(fault set-up, operation, input, expected error) for every kind of failure the connector reports."""
    scope = json.dumps({"errors": [{"id": "unauthorizedOauthScope", "title": "Unauthorized OAuth Scope",
                                    "detail": "Your authorization does not include the required scope "
                                              "'stages.read'."}]}).encode()
    return [
        (lambda: sb.faults.status(403, body=scope, times=1), "get_stage", {"stage_id": 1}, PermissionDenied),
        (lambda: sb.faults.status(429, retry_after=900, times=1), "list_stages", {}, RateLimited),
        (lambda: sb.faults.status(502, times=1), "create_stage", {"attributes": {"name": "x"}}, UpstreamError),
        (lambda: sb.faults.drop_after(method="POST", times=1), "create_stage", {"attributes": {"name": "y"}},
         OutcomeUnknown),
        (lambda: sb.faults.drop_before(times=2), "get_stage", {"stage_id": 1}, TransportError),
        (lambda: sb.faults.status(200, body=b'{"data": 5}', times=1), "get_stage", {"stage_id": 1}, OutputInvalid),
        (lambda: None, "get_stage", {"stage_id": 999999}, UpstreamError),
        (lambda: None, "create_prospect", {"attributes": {"emails": ["dup@example.test"]}}, None),
        (lambda: None, "create_prospect", {"attributes": {"emails": ["dup@example.test"]}}, ValidationFailed),
        (lambda: None, "list_prospects", {"page_size": 0}, InputInvalid),
        (lambda: None, "execute_link", {"link": f"http://evil.example/?t={CANARY}"}, UnsafeURL),
    ]


def run_failing_calls(sb: Sandbox, conn: Connector) -> int:
    checked = 0
    for arrange, operation, data, expected in failing_calls(sb):
        arrange()
        if expected is None:
            conn.call(operation, data)
            continue
        with pytest.raises(expected) as caught:
            conn.call(operation, data)
        assert_clean_error(caught.value)
        checked += 1
    return checked


def test_error_paths_in_process_name_no_secret(leak_guard):
    sb = canary_sandbox()
    conn = sandbox_connector(sb)
    assert run_failing_calls(sb, conn) == 10
    wrong = Connector(base_url=SANDBOX_BASE_URL, access_token=CANARY_WRONG, transport=sb.transport())
    with pytest.raises(AuthError) as caught:
        wrong.call("get_stage", {"stage_id": 1})
    assert_clean_error(caught.value)
    for thing in (conn, conn.sender, conn.sender.config, conn.sender.config.auth, wrong.sender.config):
        assert leaks(repr(thing)) == []
    conn.close()
    wrong.close()


def test_error_paths_over_a_socket_name_no_secret_even_in_debug_logs(leak_guard):
    """A real httpx transport: httpcore and h11 log at DEBUG too."""
    sb = canary_sandbox()
    with serving(sb) as base_url:
        conn = Connector(base_url=base_url, access_token=CANARY, retry=QUICK, timeout=httpx.Timeout(10.0))
        conn.call("get_stage", {"stage_id": 1})
        checked = run_failing_calls(sb, conn)
        conn.close()
    assert checked == 10
    assert any(r.name.startswith("httpcore") for r in leak_guard.records)  # the DEBUG logs were captured


@pytest.mark.anyio
async def test_oauth_refresh_and_its_failures_name_no_secret(leak_guard):
    sb = canary_sandbox(access_token=None)
    minted = []
    conn = Connector(base_url=SANDBOX_BASE_URL, client_id="sandbox-client-id", client_secret=CANARY_SECRET,
                     refresh_token=CANARY_REFRESH, token_url="http://sandbox.test/oauth/token",
                     on_token_refresh=minted.append, transport=sb.transport(), retry=QUICK)
    assert (await conn.acall("get_stage", {"stage_id": 1}))["data"]["id"] == 1
    assert sb.token_refreshes == 1
    CANARIES.extend([minted[0].access_token, minted[0].refresh_token])  # the minted tokens are secrets too
    try:
        assert leaks(repr(conn.sender.config.auth)) == [] and leaks(repr(minted[0])) == []
        dead = Connector(base_url=SANDBOX_BASE_URL, client_id="sandbox-client-id", client_secret=CANARY_SECRET,
                         refresh_token=CANARY_DEAD, token_url="http://sandbox.test/oauth/token",
                         transport=sb.transport(), retry=QUICK)
        with pytest.raises(ReconnectRequired) as caught:
            await dead.acall("get_stage", {"stage_id": 1})
        assert_clean_error(caught.value)
        assert leaks(repr(dead.sender.config.auth)) == []
        await dead.aclose()
        await conn.aclose()
        for record in leak_guard.records:
            assert leaks(record.getMessage()) == []
    finally:
        del CANARIES[len(CANARIES) - 2:]
    assert all(r.bearer for r in sb.requests if r.path.startswith("/api/"))
    assert all(CANARY_SECRET not in r.body.decode() for r in sb.requests)  # the sandbox's log redacts too


# --- the CLI, as a subprocess -------------------------------------------------------------------------------

def cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OUTREACH_")}
    return subprocess.Popen([sys.executable, "-m", "outreach_connector.cli", *args], env={**base, **env},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_output_names_no_secret(leak_guard):
    sb = canary_sandbox()
    sb.faults.drop_after(method="POST", path="/prospects")
    with serving(sb) as base_url:
        token = {"OUTREACH_BASE_URL": base_url, "OUTREACH_ACCESS_TOKEN": CANARY, "OUTREACH_TIMEOUT": "10",
                 "OUTREACH_MAX_RETRY_WAIT": "2"}
        oauth = {"OUTREACH_BASE_URL": base_url, "OUTREACH_CLIENT_ID": "sandbox-client-id",
                 "OUTREACH_CLIENT_SECRET": CANARY_SECRET, "OUTREACH_REFRESH_TOKEN": CANARY_DEAD,
                 "OUTREACH_TOKEN_URL": base_url.removesuffix("/api/v2") + "/oauth/token"}
        runs = {  # name: (arguments, environment, stdin, expected exit status)
            "ok": (["list_stages", "-"], token, '{"page_size": 2}', 0),
            "unsafe-url": (["execute_link", json.dumps({"link": f"https://evil.example/?{CANARY}"})], token, None, 2),
            "outcome-unknown": (["create_prospect", '{"attributes": {"firstName": "A"}}'], token, None, 3),
            "unauthorized": (["get_stage", '{"stage_id": 1}'], {**token, "OUTREACH_ACCESS_TOKEN": CANARY_WRONG},
                             None, 3),
            "dead-refresh-token": (["get_stage", '{"stage_id": 1}'], oauth, None, 3),
        }
        processes = {name: cli("call", *args, env=env) for name, (args, env, _, _) in runs.items()}
        outputs = {name: processes[name].communicate(runs[name][2], timeout=60) for name in runs}
    for name, (stdout, stderr) in outputs.items():
        assert leaks(stdout) == [] and leaks(stderr) == [], (name, stdout, stderr)
        assert processes[name].returncode == runs[name][3], (name, processes[name].returncode, stderr)
        if runs[name][3]:
            assert json.loads(stderr.strip().splitlines()[-1])["error"], (name, stderr)
        else:
            assert json.loads(stdout)["data"], name
    assert json.loads(outputs["outcome-unknown"][1])["error"] == "OutcomeUnknown"
    assert json.loads(outputs["dead-refresh-token"][1])["error"] == "ReconnectRequired"
    assert json.loads(outputs["unauthorized"][1])["error"] == "AuthError"

"""What one request may cost: a hostile body is refused in one linear pass before it is parsed, strict JSON
only (NaN and Infinity name their field), input errors are listed up to 100 and counted beyond, and the HTTP
libraries never log an upstream URL (query strings carry customer data) at the default level."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import httpx
import pytest

from outreach_connector import Connector
from outreach_connector.client import quiet_http_libraries
from outreach_connector.errors import InputInvalid
from outreach_connector.server.requests import BadRequest, deepest, item_bound, outside_strings, parse_json
from outreach_connector.server.secrets_box import generate_key_text

from .helpers import CALL, client_for, jsonapi, make_app, store_token

pytestmark = pytest.mark.anyio

# A string that never closes, made of escaped quotes: a regex that strips strings tries it from every quote.
UNCLOSED_ESCAPES = b'"' + b'\\"' * 500_000  # 1 MB; the quadratic strip took most of an hour on it


def run_isolated(code: str, timeout: float = 60) -> str:
    """Run ``code`` in a fresh interpreter: a quadratic regression hangs there, where the test can stop it
    (a deadline a thousand times what the linear code needs: this asserts the growth, not a speed)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("body, shape", [
    (b'{"a": [1, 2, {"b": "[[[{{{"}]}', (3, 5)),  # brackets inside strings do not count
    (b'{"a": "quote \\" and backslash \\\\", "b": [[]]}', (3, 4)),
    (b'"\\\\"', (0, 0)),  # an escaped backslash before the closing quote
    (b'[' * 100 + b']' * 100, (100, 100)),
    (b'[]', (1, 1)),
    (b'1', (0, 0)),
])
def test_the_shape_of_a_json_text_ignores_what_strings_hold(body, shape):
    outside = outside_strings(body)
    assert (deepest(outside), item_bound(outside)) == shape


def test_a_string_of_escaped_quotes_is_measured_in_one_pass():
    assert run_isolated("""
        from outreach_connector.server.requests import BadRequest, parse_json
        try:
            parse_json(b'"' + b'\\\\"' * 500_000, "call request", 64)
        except BadRequest as exc:
            print(exc.message)
    """, timeout=30) == "Invalid call request: the body is not JSON"
    assert deepest(outside_strings(UNCLOSED_ESCAPES)) == 0


def test_a_body_with_too_many_items_is_refused_before_it_is_parsed():
    body = json.dumps({"operation": "create_prospect", "authId": "x",
                       "input": {"attributes": {f"a{n}": 1 for n in range(30_000)}}}).encode()
    with pytest.raises(BadRequest) as refused:
        parse_json(body, "call request", 64, max_items=20_000)
    assert refused.value.message == ("Invalid call request: JSON with 30004 array items and object members; "
                                     "at most 20000 are accepted")
    assert parse_json(b'{"a": [1, 2, 3]}', "call request", 64, max_items=4) == {"a": [1, 2, 3]}


@pytest.mark.parametrize("body, path, constant", [
    (b'{"operation": "x", "authId": "y", "input": {"body": {"x": NaN}}}', "input.body.x", "NaN"),
    (b'{"input": {"attributes": {"duties": [1, Infinity]}}}', "input.attributes.duties.1", "Infinity"),
    (b'-Infinity', "body", "-Infinity"),
])
def test_nan_and_infinity_are_not_json(body, path, constant):
    with pytest.raises(BadRequest) as refused:
        parse_json(body, "call request", 64)
    assert refused.value.message == f"Invalid call request: {path}: {constant} is not JSON (numbers must be finite)"


@pytest.mark.parametrize("operation, input_text, path", [
    ("raw_http_request", '{"method": "POST", "url": {"endpoint": "/prospects"}, "body": {"raw": {"x": NaN}}}',
     "input.body.raw.x"),
    ("update_user", '{"user_id": 1, "attributes": {"duties": {"x": NaN}}}', "input.attributes.duties.x"),
])
async def test_the_server_answers_400_for_nan_and_sends_nothing(tmp_path, fake, operation, input_text, path):
    async with client_for(make_app(tmp_path, fake)) as client:
        auth_id = await store_token(client)
        body = f'{{"operation": "{operation}", "authId": "{auth_id}", "input": {input_text}}}'
        response = await client.post(CALL, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == f"Invalid call request: {path}: NaN is not JSON (numbers must be finite)"
    assert fake.requests == []


@pytest.mark.parametrize("operation, data, path", [
    ("raw_http_request", {"method": "POST", "url": {"endpoint": "/prospects"}, "body": {"raw": {"x": float("nan")}}},
     "body.raw.x"),
    ("update_user", {"user_id": 1, "attributes": {"duties": {"x": float("inf")}}}, "attributes.duties.x"),
])
def test_the_python_api_refuses_nan_naming_the_field(operation, data, path):
    def no_request(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing may be sent: {request.url}")

    conn = Connector(base_url="https://api.outreach.io/api/v2", access_token="t",
                     transport=httpx.MockTransport(no_request))
    with pytest.raises(InputInvalid) as refused:
        conn.call(operation, data)
    assert refused.value.errors == [{"path": path, "message": "NaN and Infinity are not JSON numbers: a request "
                                                              "body can only carry finite numbers"}]


def test_input_errors_list_100_then_count_the_rest():
    conn = Connector(base_url="https://api.outreach.io/api/v2", access_token="t")
    attributes = {"fristName": "Ada", **{f"zz{n:05d}": 1 for n in range(5000)}}
    with pytest.raises(InputInvalid) as refused:
        conn.call("create_prospect", {"attributes": attributes})
    errors = refused.value.errors
    assert len(errors) == 101
    assert errors[0] == {"path": "attributes.fristName", "message": "unknown field (did you mean firstName?)"}
    assert errors[1] == {"path": "attributes.zz00000", "message": "unknown field"}
    assert errors[-1] == {"path": "input", "message": "4901 more problems not listed (the first 100 are)"}
    message = str(refused.value)
    assert message.startswith("invalid input for create_prospect: attributes.fristName: unknown field (did you "
                              "mean firstName?); attributes.zz00000: unknown field;")
    assert message.endswith("; and more (see errors: 101 entries)") and "zz00010" not in message


def test_input_validation_is_linear_in_unknown_keys():
    """60,000 unknown keys took 63 s when every problem was compared with every other and each got a
    suggestion; one pass now."""
    assert run_isolated("""
        from outreach_connector import Connector
        from outreach_connector.errors import InputInvalid
        conn = Connector(base_url="https://api.outreach.io/api/v2", access_token="t")
        try:
            conn.call("create_prospect", {"attributes": {f"k{n}": 1 for n in range(60_000)}})
        except InputInvalid as exc:
            print(len(exc.errors), exc.errors[-1]["message"])
    """, timeout=30) == "101 59900 more problems not listed (the first 100 are)"


async def test_the_server_400_lists_a_bounded_number_of_fields(tmp_path, fake):
    async with client_for(make_app(tmp_path, fake)) as client:
        auth_id = await store_token(client)
        response = await client.post(CALL, json={"operation": "create_prospect", "authId": auth_id,
                                                 "input": {"attributes": {f"k{n}": 1 for n in range(3000)}}})
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.endswith("; attributes.k49: unknown field; and 2950 more")  # 50 named, 50 listed, 2900 counted
    assert message.count("unknown field") == 50
    assert fake.requests == []


async def test_no_upstream_url_is_logged_at_info(tmp_path, fake, caplog):
    fake.on("GET", "/api/v2/prospects", lambda request: jsonapi(200, {"data": [], "links": {}, "meta": {"count": 0}}))
    quiet_http_libraries()
    try:
        caplog.set_level(logging.INFO)
        async with client_for(make_app(tmp_path, fake)) as client:
            auth_id = await store_token(client)
            response = await client.post(CALL, json={"operation": "list_prospects", "authId": auth_id, "input": {
                "filters": [{"field": "emails", "criteria": "someone@example.com"}]}})
        assert response.json()["outcome"] == "success"
        assert "someone" in str(fake.requests[0].url)
        assert not [r for r in caplog.records if "someone" in r.getMessage()]
        quiet_http_libraries(debug=True)  # --log-level debug asks for them
        assert logging.getLogger("httpx").level == logging.DEBUG
    finally:
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_the_library_leaves_its_hosts_process_state_alone(tmp_path):
    """create_app() and calls (sync, async, a large page) change no signal handler, collector setting,
    environment variable or logging setup of the process that embeds them."""
    out = run_isolated(f"""
        import asyncio, gc, logging, os, signal
        def state():
            loggers = {{name: (logging.getLogger(name).level, len(logging.getLogger(name).handlers))
                       for name in ("", "httpx", "httpcore", "uvicorn", "outreach_connector")}}
            return (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), gc.isenabled(),
                    gc.get_threshold(), dict(os.environ), loggers)
        before = state()
        from outreach_connector.cli import sandbox_connector
        from outreach_connector.server.app import create_app
        from outreach_connector.server.settings import ServerSettings
        create_app(ServerSettings(api_keys=("k" * 16,), database={str(tmp_path / "s.db")!r},
                                  encryption_key="{generate_key_text()}"))
        connector, sandbox = sandbox_connector()
        connector.call("list_prospects", {{"page_size": 100}})
        asyncio.run(connector.acall("get_stage", {{"stage_id": 1}}))
        print(state() == before)
    """)
    assert out == "True"


def test_serve_and_the_cli_quiet_httpx_but_create_app_leaves_logging_alone(tmp_path):
    out = run_isolated(f"""
        import contextlib, io, logging
        from outreach_connector.cli import main
        from outreach_connector.server.app import create_app
        from outreach_connector.server.settings import ServerSettings
        create_app(ServerSettings(api_keys=("k" * 16,), database={str(tmp_path / "s.db")!r},
                                  encryption_key="{generate_key_text()}"))
        print(logging.getLogger("httpx").level, logging.getLogger("uvicorn.access").filters)
        with contextlib.redirect_stdout(io.StringIO()):
            main(["operations"])
        print(logging.getLogger("httpx").level, logging.getLogger("httpcore").level)
    """)
    assert out.splitlines() == ["0 []", "30 30"]

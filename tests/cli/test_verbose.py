"""``call --verbose`` (item 6): each HTTP request on stderr, retries and waits, never a token; ``--strict``."""
from __future__ import annotations

import io
import json
import itertools

import httpx

from outreach_connector import Connector
from outreach_connector.cli.session import open_connector
from outreach_connector.cli.verbose import RequestLog, safe_url
from outreach_connector.retry import RetryPolicy

TOKEN = "verbose-token-canary"
STAGE = {"data": {"type": "stage", "id": 2, "attributes": {"name": "Won"}, "relationships": {},
                  "links": {"self": "https://api.outreach.io/api/v2/stages/2"}}}


def busy_then_ok():
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"}, json={"errors": []}),
                    httpx.Response(200, json=STAGE, headers={"Content-Type": "application/vnd.api+json"})])
    return httpx.MockTransport(lambda request: next(answers))


def test_each_request_and_each_wait_is_one_line_without_a_token():
    connector = Connector(access_token=TOKEN, transport=busy_then_ok(), retry=RetryPolicy(max_total_wait=10))
    connector.sender.sleep = lambda seconds: None  # no real waiting in a test
    stream, ticks = io.StringIO(), itertools.count(step=0.0125)
    RequestLog(stream, clock=lambda: next(ticks)).attach(connector)
    connector.call("get_stage", {"stage_id": 2, "fields": ["name"]})
    lines = stream.getvalue().splitlines()
    assert lines[0] == ("[http] GET https://api.outreach.io/api/v2/stages/2?fields%5Bstage%5D=name -> "
                        "429 Too Many Requests in 12 ms")
    assert lines[1].startswith("[http] waiting ") and lines[1].endswith(" s before retry 1")
    assert lines[2].startswith("[http] GET https://api.outreach.io/api/v2/stages/2?") and \
        lines[2].endswith("-> 200 OK in 12 ms (retry 1)")
    assert TOKEN not in stream.getvalue() and "Authorization" not in stream.getvalue()


def test_the_retry_count_ends_with_the_request_it_belongs_to():
    stream = io.StringIO()
    log = RequestLog(stream, clock=lambda: 0.0)
    request = httpx.Request("GET", "https://api.outreach.io/api/v2/stages")
    log.on_wait(1.0)
    log.on_response(httpx.Response(429, request=request))
    log.on_wait(2.0)
    log.on_response(httpx.Response(200, request=request))
    log.on_response(httpx.Response(200, request=request))  # the next page: not a retry
    assert stream.getvalue().splitlines() == [
        "[http] waiting 1.00 s before retry 1",
        "[http] GET https://api.outreach.io/api/v2/stages -> 429 Too Many Requests in 0 ms (retry 1)",
        "[http] waiting 2.00 s before retry 2",
        "[http] GET https://api.outreach.io/api/v2/stages -> 200 OK in 0 ms (retry 2)",
        "[http] GET https://api.outreach.io/api/v2/stages -> 200 OK in 0 ms",
    ]


def test_credentials_in_a_url_are_masked():
    url = httpx.URL("https://user:pw@host.test/oauth/token?code=abc&refresh_token=def&page=2")
    assert safe_url(url) == "https://host.test/oauth/token?code=%3Credacted%3E&refresh_token=%3Credacted%3E&page=2"


def test_verbose_through_the_cli_on_the_sandbox(cli):
    result = cli("call", "get_stage", '{"stage_id": 2}', "--sandbox", "--verbose")
    assert result.code == 0
    assert result.err.startswith("[http] GET http://sandbox.test/api/v2/stages/2 -> 200 OK in ")
    assert "sandbox-access-token" not in result.err


def test_strict_sets_strict_output(monkeypatch):
    import argparse

    monkeypatch.setenv("OUTREACH_ACCESS_TOKEN", "t")
    args = argparse.Namespace(strict=True, sandbox=False, profile=None, base_url=None, timeout=None,
                              max_retry_wait=None)
    assert open_connector(args)[0].settings.strict_output is True
    assert open_connector(argparse.Namespace(**{**vars(args), "strict": False}))[0].settings.strict_output is False
    assert open_connector(argparse.Namespace(**{**vars(args), "sandbox": True}))[0].settings.strict_output is True


def refused_then_ok():
    answers = iter([httpx.ConnectError("[Errno 111] Connection refused"),
                    httpx.Response(200, json=STAGE, headers={"Content-Type": "application/vnd.api+json"})])

    def answer(request):
        reply = next(answers)
        if isinstance(reply, Exception):
            raise reply
        return reply

    return httpx.MockTransport(answer)


def test_a_request_without_a_response_still_gets_its_line():
    connector = Connector(access_token=TOKEN, transport=refused_then_ok(), retry=RetryPolicy(max_total_wait=10))
    connector.sender.sleep = lambda seconds: None
    stream = io.StringIO()
    RequestLog(stream, clock=lambda: 0.0).attach(connector)
    connector.call("get_stage", {"stage_id": 2})
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[http] GET https://api.outreach.io/api/v2/stages/2 -> no response after 0 ms"
    assert lines[1].startswith("[http] waiting ") and lines[1].endswith(" s before retry 1")
    assert lines[2] == "[http] GET https://api.outreach.io/api/v2/stages/2 -> 200 OK in 0 ms (retry 1)"


def test_verbose_names_the_last_unanswered_request_too(cli, monkeypatch):
    import socket

    with socket.socket() as closed:  # a port nothing listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("OUTREACH_ACCESS_TOKEN", TOKEN)
    result = cli("call", "list_stages", "{}", "--base-url", f"http://127.0.0.1:{port}/api/v2",
                 "--max-retry-wait", "0.01", "--verbose")
    url = f"http://127.0.0.1:{port}/api/v2/stages"
    *log, error = result.err.splitlines()
    assert result.code == 3 and json.loads(error)["error"] == "TransportError" and url in error
    assert log and log[-1].startswith(f"[http] GET {url} -> no response after ")
    assert TOKEN not in result.err

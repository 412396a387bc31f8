"""A hostile Outreach (or whatever answers in its place): answers compressed twice, nested thousands deep, pages
that never end (issue 17, items 5, 6 and 8). Each is a typed ConnectorError in the Python API and an error envelope
from the server, never a 500, and the connector's memory stays bounded while it refuses them."""
from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from typing import Any, Callable

import httpx
import pytest

from outreach_connector import Connector
from outreach_connector.errors import PaginationError, UpstreamError
from outreach_connector.responses import TOO_DEEP, NestedTooDeep, loads

from .helpers import CALL, OUTREACH, TOKEN_URL, client_for, make_app, run_call

JSONAPI = {"Content-Type": "application/vnd.api+json"}
OAUTH = {"client_id": "app", "client_secret": "app-secret", "refresh_token": "user-refresh"}
Answer = Callable[[httpx.Request], httpx.Response]


class Streamed(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body httpx reads as it arrives (``httpx.Response(content=...)`` would decode it when built)."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __iter__(self):
        yield self.content

    async def __aiter__(self):
        yield self.content


def answering(content: bytes, headers: dict[str, str] | None = None, token: bytes | None = None,
              token_headers: dict[str, str] | None = None) -> Answer:
    """Every API request gets ``content``; the token endpoint gets ``token`` (or a good token answer)."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, stream=Streamed(token or b'{"access_token": "minted", "expires_in": 7200}'),
                                  headers={"Content-Type": "application/json", **(token_headers or {})})
        return httpx.Response(200, stream=Streamed(content), headers={**JSONAPI, **(headers or {})})
    return answer


def python_call(answer: Answer, name: str, data: dict[str, Any], asynchronous: bool = False,
                credentials: dict[str, Any] | None = None) -> Any:
    connector = Connector(base_url=OUTREACH, transport=httpx.MockTransport(answer),
                          **(credentials or {"access_token": "token"}))
    return run_call(connector, name, data, asynchronous)


def server_call(tmp_path, answer: Answer, name: str, data: dict[str, Any],
                credentials: dict[str, Any] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        async with client_for(make_app(tmp_path, answer)) as client:
            created = await client.post("/authentications", json={
                "name": "hostile", "credentials": credentials or {"access_token": "token"}})
            assert created.status_code == 201
            return await client.post(CALL, json={"operation": name, "authId": created.json()["id"], "input": data})
    return asyncio.run(go())


def error_envelope(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text  # an Outreach-side failure, never a 500
    assert response.json()["outcome"] == "error"
    return response.json()["output"]["message"]


# --- item 5: stacked content codings ------------------------------------------------------------------------

INFLATED = 128 * 1024 * 1024  # what the inner layer holds: twice the 64 MiB the connector reads


@pytest.fixture(scope="module")
def gzip_twice() -> bytes:
    """A 128 MiB run of spaces, gzipped, gzipped again: a few hundred bytes on the wire."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    layer = b"".join(inner.compress(b" " * (1024 * 1024)) for _ in range(INFLATED // (1024 * 1024)))
    return gzip.compress(layer + inner.flush(), 9)


def peak_bytes(call: Callable[[], Any]) -> tuple[Exception, int]:
    """The error ``call`` raised, and the most memory Python held while it ran."""
    tracemalloc.start()
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the error is what the test looks at
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    raise AssertionError("the call succeeded")


@pytest.mark.parametrize("codings", [
    pytest.param([("Content-Encoding", "gzip, gzip")], id="one-header"),
    pytest.param([("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")], id="two-headers"),
])
@pytest.mark.parametrize("asynchronous", [False, True], ids=["call", "acall"])
def test_an_answer_compressed_twice_is_refused_before_it_is_inflated(gzip_twice, codings, asynchronous):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Streamed(gzip_twice), headers=[*JSONAPI.items(), *codings])

    error, peak = peak_bytes(lambda: python_call(answer, "get_stage", {"stage_id": 1}, asynchronous))
    assert isinstance(error, UpstreamError)
    assert error.message == ("Outreach's answer is compressed 2 times (Content-Encoding: gzip, gzip); "
                             "the connector undoes at most 1 content coding")
    assert len(gzip_twice) < 200_000 and peak < 16 * 1024 * 1024  # inflating it would have taken 128 MiB


def test_a_token_answer_compressed_twice_is_refused(gzip_twice):
    answer = answering(b'{"data": {}}', token=gzip_twice, token_headers={"Content-Encoding": "deflate, gzip"})
    with pytest.raises(UpstreamError) as raised:
        python_call(answer, "get_stage", {"stage_id": 1}, credentials={**OAUTH, "token_url": TOKEN_URL})
    assert "compressed 2 times (Content-Encoding: deflate, gzip)" in raised.value.message


def test_the_server_answers_an_error_envelope_for_a_double_gzip(tmp_path, gzip_twice):
    response = server_call(tmp_path, answering(gzip_twice, {"Content-Encoding": "gzip, gzip"}), "get_stage",
                           {"stage_id": 1})
    assert error_envelope(response).startswith("Outreach's answer is compressed 2 times")
    assert response.json()["output"]["response"] == {"statusCode": 200, "body": None}


def test_one_content_coding_is_still_undone():
    body = gzip.compress(b'{"data": {"type": "stage", "id": 1, "attributes": {"name": "Cold"}}}')
    answer = answering(body, {"Content-Encoding": "identity, gzip"})  # identity is no coding at all
    assert python_call(answer, "get_stage", {"stage_id": 1})["data"]["attributes"] == {"name": "Cold"}


# --- item 8: deep JSON from the upstream -------------------------------------------------------------------

def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


DEEP_ANSWERS = [
    pytest.param("list_prospects", {}, b'{"data": ' + nested(500) + b"}", id="list-500"),
    pytest.param("raw_http_request", {"method": "GET", "url": {"endpoint": "/prospects"}}, nested(990), id="raw-990"),
    pytest.param("execute_link", {"link": f"{OUTREACH}/prospects?page[after]=x"}, nested(3000), id="link-3000"),
    pytest.param("get_stage", {"stage_id": 1}, b'{"data": ' + nested(30_000) + b"}", id="record-30000"),
]


@pytest.mark.parametrize("name, data, body", DEEP_ANSWERS)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["call", "acall"])
def test_deep_json_from_outreach_is_an_upstream_error(name, data, body, asynchronous):
    with pytest.raises(UpstreamError) as raised:
        python_call(answering(body), name, data, asynchronous)
    assert raised.value.message.endswith(f"Outreach's answer is {TOO_DEEP}")
    assert raised.value.message.startswith("GET /api/v2/prospects" if name != "get_stage" else "GET /api/v2/stages/1")


@pytest.mark.parametrize("name, data, body", DEEP_ANSWERS)
def test_deep_json_from_outreach_is_an_error_envelope_on_the_server(tmp_path, name, data, body):
    message = error_envelope(server_call(tmp_path, answering(body), name, data))
    assert message.endswith(f"Outreach's answer is {TOO_DEEP}")


def test_a_deep_token_answer_is_a_refused_refresh(tmp_path):
    deep_token = b'{"access_token": ' + nested(30_000) + b"}"
    expected = "Outreach's token endpoint answered 200 without an access token"
    with pytest.raises(UpstreamError, match=expected):
        python_call(answering(b"{}", token=deep_token), "get_stage", {"stage_id": 1},
                    credentials={**OAUTH, "token_url": TOKEN_URL})
    response = server_call(tmp_path, answering(b"{}", token=deep_token), "get_stage", {"stage_id": 1},
                           credentials=OAUTH)
    assert error_envelope(response) == expected


def test_a_deep_token_error_answer_keeps_its_status():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, stream=Streamed(b'{"error": ' + nested(30_000) + b"}"))
    with pytest.raises(UpstreamError) as raised:
        python_call(answer, "get_stage", {"stage_id": 1}, credentials={**OAUTH, "token_url": TOKEN_URL})
    assert (raised.value.status_code, raised.value.body) == (400, None)


def containers(depth: int, shape: str) -> bytes:
    """JSON ``depth`` containers deep inside ``[1, ..., {}]``: lists, objects, or both in turn (written as
    text: json.dumps itself cannot nest thousands deep)."""
    opening = [b"[" if shape == "list" or (shape == "mixed" and level % 2) else b'{"a": ' for level in range(depth)]
    closing = [b"]" if part == b"[" else b"}" for part in reversed(opening)]
    return b"[1, " + b"".join(opening) + b"0" + b"".join(closing) + b", {}]"


@pytest.mark.parametrize("body", [b'{"data": [[1]]}', b'{"data": {"id": 1}}', b'{"data": ["x"]}'])
@pytest.mark.parametrize("asynchronous", [False, True], ids=["call", "acall"])
def test_a_dropdown_page_without_records_is_an_upstream_error(body, asynchronous):
    with pytest.raises(UpstreamError) as raised:
        python_call(answering(body), "list_prospects_ddl", {}, asynchronous)
    assert raised.value.message == "/api/v2/prospects: Outreach's answer holds no list of records"


@pytest.mark.parametrize("shape", ["list", "object", "mixed"])
def test_the_parser_bounds_its_own_recursion(shape):
    """What Python's parser takes (hundreds of levels) comes back as parsed; deeper is NestedTooDeep, never a
    RecursionError (no walk over every answer: the validator and the encoder report their own limits)."""
    assert loads(containers(200, shape))[0] == 1
    with pytest.raises(NestedTooDeep):
        loads(containers(5000, shape))


# --- item 6: a label index on pages that lead nowhere --------------------------------------------------------

GIVE_UP = 200  # the hostile upstream ends its walk here, so a connector without the guards still finishes


def endless_pages(kind: str, requests: list[httpx.Request]) -> Answer:
    """Pages that never end: empty with a fresh cursor, one record with a fresh cursor, or the same cursor."""
    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        number = len(requests)
        records = [] if kind == "empty" else [{"type": "prospect", "id": number, "attributes": {"name": f"an{number}"}}]
        cursor = "same" if kind == "repeated" else f"fresh{number}"
        links = {"next": f"{OUTREACH}/prospects?page%5Bafter%5D={cursor}"} if number < GIVE_UP else {}
        return httpx.Response(200, json={"data": records, "links": links, "meta": {}}, headers=JSONAPI)
    return answer


INDEX_WALKS = [  # (pages Outreach hands out, the error, requests made: the count probe and the index pages)
    pytest.param("empty", "StalledPagination", 1 + 3, id="empty-pages"),
    pytest.param("short", "TooManyPages", 1 + 12, id="one-record-pages"),
    pytest.param("repeated", "RepeatedCursor", 1 + 2, id="repeated-cursor"),
]


@pytest.mark.parametrize("kind, error, requests_made", INDEX_WALKS)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["call", "acall"])
def test_a_label_index_on_endless_pages_stops_with_a_pagination_error(kind, error, requests_made, asynchronous):
    requests: list[httpx.Request] = []
    with pytest.raises(PaginationError) as raised:
        python_call(endless_pages(kind, requests), "list_prospects_ddl", {"search": "an"}, asynchronous)
    assert (type(raised.value).__name__, len(requests)) == (error, requests_made)
    assert [r.url.params.get("page[size]") for r in requests] == ["1"] + ["1000"] * (requests_made - 1)


@pytest.mark.parametrize("kind, error, requests_made", INDEX_WALKS)
def test_a_label_index_on_endless_pages_is_an_error_envelope_on_the_server(tmp_path, kind, error, requests_made):
    requests: list[httpx.Request] = []
    response = server_call(tmp_path, endless_pages(kind, requests), "list_prospects_ddl", {"search": "an"})
    assert error_envelope(response).startswith("Outreach ")
    assert len(requests) == requests_made

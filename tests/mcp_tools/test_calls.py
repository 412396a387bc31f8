"""One tool call in process, on a connector whose Outreach is a MockTransport fake: the exact request built,
the result MCP gets, and every refusal made before anything is sent."""
from __future__ import annotations

import json

import anyio
import httpx
import pytest

from outreach_connector import Connector
from outreach_connector.mcp.calls import call_tool, success
from outreach_connector.mcp.tools import tool_set
from outreach_connector.retry import RetryPolicy

from conftest import BASE_URL, TOKEN, FakeOutreach, jsonapi, stage_page

TOOLS = tool_set("all")


def run_call(fake: FakeOutreach, name: str, arguments, **options):
    connector = Connector(base_url=BASE_URL, access_token=TOKEN, transport=fake.transport,
                          retry=RetryPolicy(max_attempts=1))
    return anyio.run(lambda: call_tool(connector, TOOLS, name, arguments, **options))


def payload(result: dict) -> dict:
    [content] = result["content"]
    assert content["type"] == "text"
    return json.loads(content["text"])


def test_a_list_returns_one_page_and_the_cursor_for_the_next():
    fake = FakeOutreach(lambda request: jsonapi(200, stage_page([1, 2], next_cursor="c2")))
    result = run_call(fake, "list_stages", {})
    [request] = fake.requests
    assert (request.method, request.url.path, dict(request.url.params)) == \
           ("GET", "/api/v2/stages", {"page[size]": "20"})  # MCP's default page size
    assert result["isError"] is False
    assert result["structuredContent"]["next_page_after"] == "c2"
    assert [r["id"] for r in result["structuredContent"]["data"]] == [1, 2]
    assert payload(result) == result["structuredContent"]


def test_the_last_page_says_so():
    fake = FakeOutreach(lambda request: jsonapi(200, stage_page([3])))
    result = run_call(fake, "list_stages", {"page_size": 5, "page_after": "c2"})
    assert dict(fake.requests[0].url.params) == {"page[size]": "5", "page[after]": "c2"}
    assert result["structuredContent"]["next_page_after"] is None


@pytest.mark.parametrize("arguments, errors", [
    pytest.param({"page_size": 101}, [{"path": "page_size", "message": "101 is more than the 100 records a call "
                                                                        "returns over MCP"}], id="page-too-big"),
    pytest.param({"paginate": True}, [{"path": "paginate", "message": "not offered over MCP: a call returns one "
                                                                       "page; pass its next_page_after as "
                                                                       "page_after for the next"}], id="paginate"),
])
def test_what_mcp_does_not_offer_is_refused_naming_the_field(arguments, errors):
    result = run_call(FakeOutreach(), "list_stages", arguments)  # a fake that fails on any request
    assert result["isError"] is True and "structuredContent" not in result
    assert payload(result)["errors"] == errors


def test_invalid_input_is_an_error_naming_every_field_and_nothing_is_sent():
    result = run_call(FakeOutreach(), "update_stage", {"stage_id": "x", "attributes": {"nmae": "A"}})
    body = payload(result)
    assert result["isError"] is True and body["error"] == "InputInvalid"
    assert {e["path"] for e in body["errors"]} == {"stage_id", "attributes.nmae"}


def test_an_outreach_error_carries_its_status_and_errors_never_the_token():
    answer = {"errors": [{"id": "validationError", "title": "Validation Error", "detail": "Name taken"}]}
    fake = FakeOutreach(lambda request: jsonapi(422, answer))
    result = run_call(fake, "create_stage", {"attributes": {"name": "Cold"}})
    body = payload(result)
    assert result["isError"] is True
    assert (body["error"], body["status_code"], body["errors"]) == ("ValidationFailed", 422, answer["errors"])
    assert TOKEN not in json.dumps(result) and fake.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_result_too_large_for_an_agent_is_refused_with_how_to_ask_for_less():
    fake = FakeOutreach(lambda request: jsonapi(200, stage_page(list(range(1, 60)))))
    result = run_call(fake, "list_stages", {"page_size": 59}, max_chars=1000)
    body = payload(result)
    assert result["isError"] is True and body["error"] == "ResultTooLarge"
    assert "page_size" in body["message"]


def test_an_unknown_tool_is_refused_with_the_closest_names():
    result = run_call(FakeOutreach(), "list_stagez", {})
    assert payload(result) == {"error": "UnknownOperation",
                               "message": "unknown tool 'list_stagez' (did you mean list_stages or list_stages_ddl?)"}


def test_an_unexpected_failure_says_internal_error_and_nothing_more():
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"boom with {TOKEN}")

    result = run_call(FakeOutreach(explode), "get_stage", {"stage_id": 1})
    assert result == {"content": [{"type": "text", "text": '{"error":"InternalError","message":"internal error"}'}],
                      "isError": True}


def test_an_output_that_is_not_an_object_goes_as_text_only():
    """MCP's structuredContent is an object; anything else a plugin's operation returns is text alone."""
    assert success([1, 2]) == {"content": [{"type": "text", "text": "[1,2]"}], "isError": False}

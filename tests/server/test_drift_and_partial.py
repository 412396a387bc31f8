"""The server's side of issue 11: drift is lenient unless ``--strict-output``; a paginated call that fails
part-way answers an error envelope that keeps what was fetched and the cursor to resume from."""
from __future__ import annotations

import pytest

from outreach_connector.server.settings import settings_from
from outreach_connector.settings import Settings

from server.helpers import CALL, FakeOutreach, jsonapi, make_client, store_token

pytestmark = pytest.mark.anyio

STAGE = {"type": "stage", "id": 1, "attributes": {"name": "Cold", "order": "first"}}  # order: an integer


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_strict_output_is_a_serve_flag_and_off_by_default():
    assert settings_from(["--api-key", "k"], env={}).connector.strict_output is False
    assert settings_from(["--api-key", "k", "--strict-output"], env={}).connector.strict_output is True
    assert settings_from(["--api-key", "k"], env={"OUTREACH_STRICT_OUTPUT": "1"}).connector.strict_output is True


@pytest.mark.parametrize("strict,outcome", [pytest.param(False, "success", id="lenient"),
                                            pytest.param(True, "error", id="strict")])
async def test_drift_is_returned_as_sent_unless_strict(tmp_path, strict, outcome):
    fake = FakeOutreach()
    fake.on("GET", "/api/v2/stages/1", lambda request: jsonapi(200, {"data": STAGE}))
    async with make_client(tmp_path, fake, connector=Settings(strict_output=strict)) as client:
        auth_id = await store_token(client)
        answer = (await client.post(CALL, json={"operation": "get_stage", "authId": auth_id,
                                                "input": {"stage_id": 1}})).json()
    assert answer["outcome"] == outcome
    if strict:
        assert answer["output"]["response"]["body"] == {"data": STAGE}
    else:
        assert answer["output"] == {"data": STAGE}


async def test_a_paginated_call_failing_part_way_keeps_what_it_fetched(tmp_path):
    first = [{"type": "stage", "id": i, "attributes": {"name": f"S{i}"}} for i in (1, 2)]
    fake = FakeOutreach()

    def pages(request):
        if "page[after]" not in request.url.params:
            return jsonapi(200, {"data": first, "links": {"next": f"{request.url.scheme}://{request.url.host}"
                                                                  "/api/v2/stages?page[size]=2&page[after]=c2"}})
        return jsonapi(403, {"errors": [{"id": "forbidden", "title": "Forbidden"}]})

    fake.on("GET", "/api/v2/stages", pages)
    async with make_client(tmp_path, fake) as client:
        auth_id = await store_token(client)
        answer = (await client.post(CALL, json={"operation": "list_stages", "authId": auth_id,
                                                "input": {"page_size": 2, "paginate": True}})).json()
    assert answer["outcome"] == "error"
    assert answer["output"]["response"]["statusCode"] == 403
    assert answer["output"]["partial"] == {"records": first, "resume_from": "c2", "pages": 1}


async def test_a_cursor_that_goes_nowhere_is_an_error_envelope_not_a_500(tmp_path):
    page = [{"type": "stage", "id": 1, "attributes": {"name": "S1"}}]
    fake = FakeOutreach()
    fake.on("GET", "/api/v2/stages", lambda request: jsonapi(200, {"data": page, "links": {
        "next": "https://api.outreach.test/api/v2/stages?page[size]=1&page[after]=same"}}))
    async with make_client(tmp_path, fake) as client:
        auth_id = await store_token(client)
        response = await client.post(CALL, json={"operation": "list_stages", "authId": auth_id,
                                                 "input": {"page_size": 1, "paginate": True}})
    assert response.status_code == 200 and response.json()["outcome"] == "error"
    assert "cursor" in response.json()["output"]["message"]
    assert response.json()["output"]["partial"]["records"] == page

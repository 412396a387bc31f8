"""The 400 for invalid input carries its errors as data: ``errors: [{"path", "message"}]``, paths as the editor's
``data-field`` names them, beside the ``message`` and ``code`` older clients read."""
from __future__ import annotations

import json

import pytest

from outreach_connector.errors import InputInvalid
from outreach_connector.server import envelopes
from outreach_connector.validation import Problems, capped

from .helpers import make_client, store_token


def body_for(errors: list[dict[str, str]]) -> dict:
    response = envelopes.for_error(InputInvalid("list_prospects", errors))
    assert response is not None and response.status_code == 400
    return json.loads(response.body)


def test_array_indexes_become_dotted_and_the_input_itself_is_the_empty_path():
    body = body_for([{"path": "filters[0].field", "message": "required field is missing"},
                     {"path": "sort[2]", "message": "not one of the sortable fields"},
                     {"path": "input", "message": "unknown field nope"}])
    assert body["errors"] == [{"path": "filters.0.field", "message": "required field is missing"},
                              {"path": "sort.2", "message": "not one of the sortable fields"},
                              {"path": "", "message": "unknown field nope"}]
    assert body["code"] is None and body["message"].startswith("Connector input validation failed. filters[0].field:")


def test_up_to_a_hundred_paths_then_one_entry_counting_the_rest():
    body = body_for([{"path": f"ids[{i}]", "message": "not an id"} for i in range(250)])
    assert len(body["errors"]) == 101
    assert body["errors"][99] == {"path": "ids.99", "message": "not an id"}
    assert body["errors"][100] == {"path": "", "message": "and 150 more"}


def test_a_list_already_cut_to_a_hundred_and_its_count_passes_through():
    cut = [{"path": f"ids[{i}]", "message": "not an id"} for i in range(100)] + [{"path": "", "message": "and 7 more"}]
    assert body_for(cut)["errors"][100] == {"path": "", "message": "and 7 more"}


def test_a_huge_value_in_a_message_is_cut():
    body = body_for([{"path": "note", "message": "x" * 5000}])
    assert len(body["errors"][0]["message"]) < 400 and body["errors"][0]["message"].endswith("(5000 characters)")


def test_a_cut_list_counts_what_it_left_out_as_data():
    found = [{"path": f"ids[{i}]", "message": "not an id"} for i in range(250)]
    problems = capped(found, unlisted=10)
    assert isinstance(problems, Problems) and problems.total == 260 and len(problems) == 101
    assert problems[-1] == {"path": "input", "message": "160 more problems not listed (the first 100 are)"}
    whole = capped(found[:3], unlisted=0)
    assert whole == found[:3] and whole.total == 3


def test_the_400_counts_from_the_total_not_from_the_words_of_the_last_entry():
    listed = [{"path": f"ids[{i}]", "message": "not an id"} for i in range(100)]
    looks_like_a_count = listed + [{"path": "note", "message": "9 more problems not listed (a value, not a count)"}]
    assert body_for(Problems(listed + [{"path": "input", "message": "3900 more"}], total=4000))["message"].endswith(
        "; and 3950 more")
    assert body_for(looks_like_a_count)["message"].endswith("; and 51 more")  # each entry of a plain list is one


@pytest.mark.anyio
async def test_a_subscription_input_400_counts_every_problem(tmp_path, fake):
    """The subscription route rebuilds the list (paths under ``input.``); the count survives the rebuild."""
    async with make_client(tmp_path, fake) as client:
        auth_id = await store_token(client)
        answer = await client.post(f"/authentications/{auth_id}/subscriptions", json={
            "trigger": "account_created", "input": {f"k{n:04d}": 1 for n in range(3000)}})
    assert answer.status_code == 400
    assert answer.json()["message"].endswith("; input.k0049: unknown field; and 2950 more")
    assert fake.requests == []

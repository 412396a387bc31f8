"""The 400 for invalid input carries its errors as data: ``errors: [{"path", "message"}]``, paths as the editor's
``data-field`` names them, beside the ``message`` and ``code`` older clients read."""
from __future__ import annotations

import json

from outreach_connector.errors import InputInvalid
from outreach_connector.server import envelopes


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

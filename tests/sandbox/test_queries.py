"""List queries: filters, sort, sparse fieldsets, and 400 for anything the sandbox cannot honour."""
from __future__ import annotations

import pytest

from .conftest import doc


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [r["id"] for r in response.json()["data"]]


def listing(client, path: str, **params) -> list[dict]:
    response = client.get(path, params={"page[size]": 1000, **params})
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def test_exact_attribute_filter(client):
    every = listing(client, "/prospects")
    company = every[0]["attributes"]["company"]
    matched = listing(client, "/prospects", **{"filter[company]": company})
    assert matched and [p["id"] for p in matched] == [p["id"] for p in every if p["attributes"]["company"] == company]


def test_comma_list_matches_any(client):
    assert ids(client.get("/stages", params={"filter[name]": "Cold,Replied,Nope"})) == [1, 3]
    assert ids(client.get("/prospects", params={"filter[id]": "7,3,5"})) == [3, 5, 7]


def test_array_attribute_matches_when_it_contains_the_value(client):
    email = client.get("/prospects/9").json()["data"]["attributes"]["emails"][0]
    assert ids(client.get("/prospects", params={"filter[emails]": email})) == [9]


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param("2..4", [2, 3, 4], id="closed"),
    pytest.param("neginf..2", [1, 2], id="open-low"),
    pytest.param("6..inf", [6, 7], id="open-high"),
])
def test_numeric_ranges(client, value, expected):
    assert ids(client.get("/stages", params={"filter[order]": value})) == expected


def test_datetime_ranges_with_inf_and_neginf(client):
    every = listing(client, "/prospects")
    pivot = sorted(p["attributes"]["updatedAt"] for p in every)[20]
    later = listing(client, "/prospects", **{"filter[updatedAt]": f"{pivot}..inf"})
    earlier = listing(client, "/prospects", **{"filter[updatedAt]": f"neginf..{pivot}"})
    assert all(p["attributes"]["updatedAt"] >= pivot for p in later)
    assert len(later) + len(earlier) == len(every) + 1  # the pivot is in both
    day = pivot[:10]
    assert listing(client, "/prospects", **{"filter[updatedAt]": f"{day}..{day}T23:59:59Z"}) == \
        [p for p in every if p["attributes"]["updatedAt"][:10] == day]


def test_relationship_id_filter(client):
    owned = listing(client, "/prospects", **{"filter[owner][id]": "2,3"})
    assert owned and all(p["relationships"]["owner"]["data"]["id"] in (2, 3) for p in owned)
    states = listing(client, "/sequenceStates", **{"filter[sequence][id]": 1})
    assert states and all(s["relationships"]["sequence"]["data"]["id"] == 1 for s in states)


def test_filters_combine(client):
    both = listing(client, "/prospects", **{"filter[owner][id]": 2, "filter[id]": "1..20"})
    assert all(p["id"] <= 20 and p["relationships"]["owner"]["data"]["id"] == 2 for p in both)


def test_filter_on_an_attribute_the_vendor_does_not_badge(client):
    assert ids(client.get("/mailboxes", params={"filter[emailProvider]": "exchange_online"})) == [3, 6]


def test_boolean_filter(client):
    assert ids(client.get("/opportunityStages", params={"filter[isClosed]": "true"})) == [6, 7]


def test_multi_key_sort(client):
    rows = listing(client, "/prospects", sort="-custom1,lastName")
    keys = [(r["attributes"]["custom1"], r["attributes"]["lastName"], r["id"]) for r in rows]
    by_name = sorted(keys, key=lambda k: (k[1], k[2]))
    assert keys == sorted(by_name, key=lambda k: k[0], reverse=True)  # stable: name order within custom1
    assert len({k[0] for k in keys}) > 1


def test_sort_descending_by_datetime_puts_newest_first(client):
    rows = listing(client, "/tasks", sort="-dueAt")
    dues = [r["attributes"]["dueAt"] for r in rows]
    assert dues == sorted(dues, reverse=True)


def test_nulls_sort_first_ascending_and_last_descending(client):
    client.patch("/prospects/5", json=doc("prospect", {"title": None}, ident=5))
    assert ids(client.get("/prospects", params={"sort": "title", "page[size]": 1})) == [5]
    assert listing(client, "/prospects", sort="-title")[-1]["id"] == 5


def test_sparse_fieldset_drops_other_attributes_and_relationships(client):
    row = listing(client, "/prospects", **{"fields[prospect]": "firstName,emails,account"})[0]
    assert set(row["attributes"]) == {"firstName", "emails"}
    assert set(row["relationships"]) == {"account"}
    got = client.get("/sequences/1", params={"fields[sequence]": "name,enabled"}).json()["data"]
    assert set(got["attributes"]) == {"name", "enabled"} and got["relationships"] == {}


def test_fieldsets_of_other_types_are_accepted(client):
    assert client.get("/prospects", params={"fields[user]": "email"}).status_code == 200


@pytest.mark.parametrize(("params", "parameter"), [
    pytest.param({"filter[favouriteColour]": "x"}, "filter[favouriteColour]", id="unknown-filter"),
    pytest.param({"filter[openCount]": "many"}, "filter[openCount]", id="non-numeric"),
    pytest.param({"filter[optedOut]": "yes"}, "filter[optedOut]", id="non-boolean"),
    pytest.param({"filter[updatedAt]": "soon..inf"}, "filter[updatedAt]", id="bad-datetime"),
    pytest.param({"filter[account][name]": "x"}, "filter[account][name]", id="relationship-attribute"),
    pytest.param({"filter[creator][id]": "1"}, "filter[creator][id]", id="relationship-not-filterable"),
    pytest.param({"filter[mailings][id]": "1"}, "filter[mailings][id]", id="to-many-relationship"),
    pytest.param({"filter[]": "1"}, "filter[]", id="malformed"),
    pytest.param({"sort": "favouriteColour"}, "sort", id="unknown-sort"),
    pytest.param({"sort": "account"}, "sort", id="relationship-sort"),
    pytest.param({"fields[prospect]": "firstName,nope"}, "fields[prospect]", id="unknown-field"),
    pytest.param({"fields[spaceship]": "x"}, "fields[spaceship]", id="unknown-fieldset-type"),
    pytest.param({"page[size]": "0"}, "page[size]", id="page-size-zero"),
    pytest.param({"page[size]": "1001"}, "page[size]", id="page-size-over-max"),
    pytest.param({"page[size]": "ten"}, "page[size]", id="page-size-not-a-number"),
    pytest.param({"page[after]": "garbage!"}, "page[after]", id="bad-cursor"),
    pytest.param({"page[offset]": "10"}, "page[offset]", id="offset-pagination"),
    pytest.param({"count": "maybe"}, "count", id="bad-count"),
    pytest.param({"include": "account"}, "include", id="include"),
])
def test_bad_query_parameters_are_400(client, params, parameter):
    response = client.get("/prospects", params=params)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["id"], error["title"], error["source"]) == ("badRequest", "Bad Request", {"parameter": parameter})


def test_harmless_flags_are_accepted(client):
    assert client.get("/prospects", params={"newFilterSyntax": "true", "page[size]": 1}).status_code == 200


def test_to_many_relationship_filter_resolves_through_the_records_pointing_back(client):
    states = [client.get(f"/sequenceStates/{i}").json()["data"] for i in (1, 2)]
    expected = sorted({s["relationships"]["prospect"]["data"]["id"] for s in states})
    assert ids(client.get("/prospects", params={"filter[sequenceStates][id]": "1,2"})) == expected
    primary = client.get("/opportunities/1").json()["data"]["relationships"]["primaryProspect"]["data"]["id"]
    assert ids(client.get("/prospects", params={"filter[opportunities][id]": 1})) == [primary]
    unresolvable = client.get("/opportunities", params={"filter[prospects][id]": 1})
    assert unresolvable.status_code == 400

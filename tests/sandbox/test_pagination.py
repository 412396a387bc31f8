"""Cursor pagination: no duplicates, no gaps, stable under inserts, links and meta as Outreach sends them."""
from __future__ import annotations

import pytest

from outreach_sandbox import Sandbox, SandboxConfig

from .conftest import BASE, client_for, doc


@pytest.fixture
def big():
    sb = Sandbox(SandboxConfig(prospects=350))
    with client_for(sb) as client:
        yield client


def walk(client, url: str, params: dict | None = None) -> list[dict]:
    pages = []
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.json()
        pages.append(response.json())
        next_url = response.json()["links"].get("next")
        if not next_url:
            return pages
        response = client.get(next_url)


def test_walk_every_page_without_duplicates_or_gaps(big):
    pages = walk(big, "/prospects", {"page[size]": 40})
    seen = [r["id"] for page in pages for r in page["data"]]
    assert seen == list(range(1, 351))
    assert [len(p["data"]) for p in pages] == [40] * 8 + [30]
    assert all(p["meta"]["count"] == 350 for p in pages)
    assert "next" not in pages[-1]["links"]


def test_walk_a_sorted_and_filtered_listing(big):
    params = {"page[size]": 25, "sort": "-updatedAt,firstName", "filter[id]": "11..300"}
    seen = [r for page in walk(big, "/prospects", params) for r in page["data"]]
    everything = big.get("/prospects", params={**params, "page[size]": 1000}).json()["data"]
    assert [r["id"] for r in seen] == [r["id"] for r in everything]
    assert len(seen) == len({r["id"] for r in seen}) == 290


def test_default_page_size_is_50(big):
    response = big.get("/prospects")
    assert len(response.json()["data"]) == 50


def test_links(big):
    body = big.get("/prospects", params={"page[size]": 100, "sort": "lastName"}).json()
    links = body["links"]
    assert links["self"] == f"{BASE}/prospects?page%5Bsize%5D=100&sort=lastName"
    assert links["first"] == f"{BASE}/prospects?page[size]=100&sort=lastName"
    assert links["prev"] is None
    assert links["next"].startswith(f"{BASE}/prospects?page[size]=100&sort=lastName&page[after]=")
    second = big.get(links["next"]).json()
    assert second["links"]["first"] == links["first"]
    back = big.get(second["links"]["prev"]).json()
    assert [r["id"] for r in back["data"]] == [r["id"] for r in body["data"]]


def test_count_false_omits_meta(big):
    body = big.get("/prospects", params={"count": "false", "page[size]": 5}).json()
    assert "meta" not in body
    assert "count=false" in body["links"]["next"]


def test_cursor_is_stable_under_inserts_and_deletes(big):
    first = big.get("/prospects", params={"page[size]": 10, "sort": "firstName"}).json()
    already = {r["id"] for r in first["data"]}
    big.post("/prospects", json=doc("prospect", {"firstName": "Aaaa"}))  # sorts before everything seen
    big.delete(f"/prospects/{first['data'][-1]['id']}")  # the cursor's own record goes away
    rest = walk(big, first["links"]["next"])
    later = [r["id"] for page in rest for r in page["data"]]
    assert not already & set(later)
    assert len(already) + len(later) == 350  # 350 - 1 deleted + 1 inserted before the cursor, not shown


def test_last_page_is_exactly_full_has_no_next(big):
    pages = walk(big, "/prospects", {"page[size]": 350})
    assert len(pages) == 1 and "next" not in pages[0]["links"]


def test_cursor_from_another_sort_is_rejected(big):
    next_url = big.get("/prospects", params={"page[size]": 5, "sort": "firstName"}).json()["links"]["next"]
    cursor = next_url.split("page[after]=")[1]
    response = big.get("/prospects", params={"page[size]": 5, "sort": "lastName", "page[after]": cursor})
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "page[after]"}


def test_empty_result(big):
    body = big.get("/prospects", params={"filter[firstName]": "Nobody"}).json()
    assert body["data"] == [] and body["meta"]["count"] == 0 and "next" not in body["links"]

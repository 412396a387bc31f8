"""The editor under issue 10's tenants: every page of the key's own authentications, and nobody else's."""
from __future__ import annotations

import json

import httpx

from .conftest import API_KEY, AUTH_NAME, MANY_KEY, OTHER_KEY, playwright

expect = playwright.expect
MANY = 120  # more than the 100 one page of GET /authentications holds


def store(server_url: str, key: str, name: str) -> str:
    stored = httpx.post(f"{server_url}/authentications", headers={"Authorization": f"Bearer {key}"},
                        json={"name": name, "credentials": {"access_token": "sandbox-access-token"}})
    assert stored.status_code == 201
    return stored.json()["id"]


def offered(editor) -> list[tuple[str, str]]:
    """(value, label) of every authentication the select offers, the placeholder left out."""
    options = editor.page.get_by_test_id("auth").locator("option:not([value=''])")
    return [tuple(pair) for pair in options.evaluate_all("nodes => nodes.map(n => [n.value, n.textContent])")]


def listed(server_url: str, key: str) -> list[tuple[str, str]]:
    """(id, name) of the key's authentications, every page, read straight from the API."""
    found, after = [], None
    while True:
        params = {"limit": 100, **({"after": after} if after else {})}
        page = httpx.get(f"{server_url}/authentications", params=params,
                         headers={"Authorization": f"Bearer {key}"}).json()
        found += [(a["id"], a["name"]) for a in page["elements"]]
        after = page["next_page_after"]
        if after is None:
            return found


def listing_requests(editor) -> list[str]:
    asked: list[str] = []
    editor.page.on("request", lambda request: asked.append(request.url) if "/authentications" in request.url else None)
    return asked


def test_a_key_with_more_than_one_page_sees_every_authentication_by_name(stack, editor):
    server_url = stack[1]
    names = [f"Team {n:03d}" for n in range(1, MANY + 1)]
    ids = [store(server_url, MANY_KEY, name) for name in names]
    asked = listing_requests(editor)
    editor.connect(MANY_KEY, auth=None)
    assert sorted(offered(editor)) == sorted(zip(ids, names))
    assert offered(editor) == listed(server_url, MANY_KEY)  # in the server's order (creation, then id)
    assert [url.split("/authentications")[1].split("&")[0] for url in asked] == ["?limit=100"] * 2
    expect(editor.page.locator("#status")).to_have_text("Connected: Outreach 1.0")
    editor.page.get_by_test_id("auth").select_option(label="Team 120")  # the last one, from the second page
    editor.operation("get_sequence")
    editor.field("sequence_id").locator("input").first.fill("3")
    assert editor.run() == "success"


def test_a_second_key_sees_none_of_the_first_keys_authentications_and_cannot_use_them(stack, editor):
    sandbox, server_url = stack
    theirs = store(server_url, OTHER_KEY, "Other team")
    mine = httpx.get(f"{server_url}/authentications", headers={"Authorization": f"Bearer {API_KEY}"}).json()
    first_keys = [a["id"] for a in mine["elements"] if a["name"] == AUTH_NAME]
    editor.connect(OTHER_KEY, auth=None)
    assert offered(editor) == [(theirs, "Other team")]

    # The page offers no way to pick the first key's authentication: slip its id in as someone might.
    editor.page.get_by_test_id("auth").evaluate(
        "(select, id) => { select.append(new Option('forged', id)); select.value = id; }", first_keys[0])
    editor.operation("get_prospect")
    editor.field("prospect_id").locator("input").first.fill("1")
    assert editor.run() == "error"
    shown = editor.page.get_by_test_id("output").text_content()
    assert shown == f"Authentication {first_keys[0]!r} was not found"
    assert sandbox.store.get("prospect", 1).attributes["name"] not in editor.page.content()

    editor.operation("add_prospect_to_sequence")  # a dropdown under the forged id: the same 404, no options
    editor.field("sequence_id").locator("input").first.click()
    note = editor.field("sequence_id").locator("li.note")
    expect(note).to_have_text(f"Authentication {first_keys[0]!r} was not found")
    expect(editor.options("sequence_id")).to_have_count(0)


def test_the_first_key_does_not_see_the_second_keys_authentications(stack, editor):
    store(stack[1], OTHER_KEY, "Not yours")
    editor.connect()
    assert [label for _, label in offered(editor)] == [AUTH_NAME]


def test_the_page_says_when_it_stops_listing_at_its_bound(stack, editor):
    """A server that always has one more page: the editor asks 20 pages of 100, lists them, and says so."""
    pages: list[str] = []

    def endless(route) -> None:
        pages.append(route.request.url)
        elements = [{"id": f"id-{len(pages)}-{n}", "name": f"Auth {len(pages)}.{n}", "kind": "access_token",
                     "created_at": "2026-01-01T00:00:00Z"} for n in range(100)]
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"elements": elements, "next_page_after": f"cursor-{len(pages)}"}))

    editor.page.route("**/authentications?*", endless)
    editor.connect(auth=None)
    assert len(pages) == 20 and "after=cursor-19" in pages[-1]
    assert len(offered(editor)) == 2_000
    expect(editor.page.get_by_test_id("auth-cut")).to_have_text("— only the first 2000 authentications are listed —")
    expect(editor.page.locator("#status")).to_contain_text("only the first 2000 authentications are listed")

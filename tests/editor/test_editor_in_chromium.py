"""The solution editor driven in Chromium: what a person does, checked against what Outreach (the sandbox) holds."""
from __future__ import annotations

import json
import re

import httpx

from .conftest import API_KEY, PROSPECTS, playwright, snap

expect = playwright.expect


def unenrolled_prospect(sandbox) -> tuple[int, str]:
    """A prospect with no sequence state yet, and a lower-case piece of its name to type."""
    enrolled = {r.ref_id("prospect") for r in sandbox.store.records("sequenceState")}
    record = next(r for r in sandbox.store.records("prospect") if r.id not in enrolled)
    return record.id, record.attributes["name"]


def test_the_page_and_its_files_need_no_key_and_load_nothing_from_elsewhere(stack):
    server_url = stack[1]
    page = httpx.get(f"{server_url}/editor")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)
    for name in ("editor.js", "editor.css", "editor.svg"):
        assert httpx.get(f"{server_url}/editor/{name}").status_code == 200
    assert httpx.get(f"{server_url}/editor/nothing-here").status_code == 404
    assert httpx.get(f"{server_url}/authentications").status_code == 401  # the data stays behind the key


def test_connecting_asks_nothing_the_server_refuses(editor):
    editor.connect()  # the page, its files and icon, operations, authentications: no 401 (e.g. /favicon.ico)
    expect(editor.page.get_by_test_id("operation")).to_be_enabled()
    assert editor.console == []


def test_enrol_a_prospect_in_a_sequence_with_searched_dropdowns(stack, editor):
    sandbox, _ = stack
    prospect_id, name = unenrolled_prospect(sandbox)
    editor.connect()
    editor.operation("add_prospect_to_sequence")
    expect(editor.field("prospect_id").locator(".required")).to_have_count(1)

    editor.pick("prospect_id", name.lower()[1:], name)       # case-insensitive, anywhere in the text
    editor.pick("sequence_id", "WEBINAR", "Webinar Attendees")
    editor.pick("mailbox_id", "ava.fi", "ava.fischer@sandbox-sales.example")
    assert editor.run() == "success"

    output = json.loads(editor.page.get_by_test_id("output").text_content())
    state = sandbox.store.get("sequenceState", int(output["data"]["id"]))
    assert (state.ref_id("prospect"), state.ref_id("sequence"), state.ref_id("mailbox")) == (prospect_id, 3, 3)
    snap(editor, "editor")  # docs/editor.png


def test_a_dependent_dropdown_narrows_to_its_parent(stack, editor):
    sandbox, _ = stack
    editor.connect()
    editor.operation("create_opportunity")
    for account_id, account_name in ((12, "Marigold Systems"), (6, "Glasswing Systems")):
        editor.pick("relationships.account", account_name[:6].lower(), account_name)
        prospects = editor.field("relationships.primaryProspect").locator("input").first
        expect(prospects).to_have_value("")  # the parent changed: the old choice is gone
        prospects.click()
        expected = {str(r.id) for r in sandbox.store.records("prospect") if r.ref_id("account") == account_id}
        options = editor.options("relationships.primaryProspect")
        expect(options).to_have_count(len(expected))
        assert {options.nth(i).get_attribute("data-value") for i in range(len(expected))} == expected
        editor.options("relationships.primaryProspect").first.click()


def test_a_validation_error_is_shown_by_its_field(stack, editor):
    editor.connect()
    editor.operation("add_prospect_to_sequence")
    editor.pick("sequence_id", "cold", "Re-engage Cold")
    editor.field("prospect_id").locator("input").first.fill("not an id")
    assert editor.run() == "error"
    expect(editor.field("mailbox_id").get_by_test_id("field-error")).to_have_text("required field is missing")
    expect(editor.field("prospect_id").get_by_test_id("field-error")).to_contain_text("not an id")
    expect(editor.field("sequence_id").get_by_test_id("field-error")).to_have_count(0)
    assert "Connector input validation failed" in editor.page.get_by_test_id("output").text_content()


def test_a_saved_value_shows_its_label(stack, editor):
    editor.connect()
    editor.operation("list_sequence_steps_ddl")
    editor.page.locator("#json summary").click()
    editor.page.locator("#json-text").fill(json.dumps({"sequence_id": 3}))
    editor.page.locator("#json-apply").click()
    expect(editor.field("sequence_id").locator("input").first).to_have_value("Webinar Attendees")
    assert editor.run() == "success"
    output = json.loads(editor.page.get_by_test_id("output").text_content())
    assert len(output["result"]) == 3 and output["next_page_after"] is None


def test_more_pages_load_into_the_dropdown(stack, editor):
    editor.connect()
    editor.operation("add_prospect_to_sequence")
    editor.field("prospect_id").locator("input").first.click()
    expect(editor.options("prospect_id")).to_have_count(100)
    editor.field("prospect_id").get_by_test_id("more").click()
    expect(editor.options("prospect_id")).to_have_count(PROSPECTS)
    expect(editor.field("prospect_id").get_by_test_id("more")).to_have_count(0)
    values = editor.options("prospect_id").evaluate_all("nodes => nodes.map(n => n.dataset.value)")
    assert sorted(map(int, values)) == list(range(1, PROSPECTS + 1))


def test_a_wrong_key_says_so_and_lists_nothing(editor):
    editor.page.get_by_test_id("api-key").fill(f"not-{API_KEY}")
    editor.page.get_by_test_id("connect").click()
    expect(editor.page.locator("#status")).to_contain_text("unauthorized")
    expect(editor.page.get_by_test_id("auth").locator("option")).to_have_count(0)
    expect(editor.page.get_by_test_id("operation")).to_be_disabled()


def test_every_served_operation_is_offered_and_a_generated_one_runs(stack, editor):
    sandbox, server_url = stack
    served = httpx.get(f"{server_url}/connectors", headers={"Authorization": f"Bearer {API_KEY}"}).json()
    version = served["elements"][0]["version"]
    operations = httpx.get(f"{server_url}/connectors/outreach/versions/{version}/operations",
                           headers={"Authorization": f"Bearer {API_KEY}"}).json()["elements"]
    editor.connect()
    offered = editor.page.get_by_test_id("operation").locator("option[value]:not([value=''])")
    expect(offered).to_have_count(len(operations))
    assert sorted(offered.evaluate_all("nodes => nodes.map(n => n.value)")) == sorted(op["name"] for op in operations)

    editor.operation("update_persona")  # generated from the hyper-schema, its lookup a generated DDL
    editor.pick("persona_id", "CHNICAL EV", "Technical evaluator")
    editor.field("attributes.name").locator("input").fill("Technical evaluator (audited)")
    assert editor.run() == "success"
    assert sandbox.store.get("persona", 3).attributes["name"] == "Technical evaluator (audited)"

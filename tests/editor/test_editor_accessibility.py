"""An accessibility audit of the editor's main states with axe-core (pinned in tests/editor/axe/package-lock.json,
installed by ``npm ci`` there; .ci/run does it), injected into the page: no serious or critical violation."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import CONNECT_KEY, marked_authentication, playwright

expect = playwright.expect
AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        missing = "axe-core is not installed (cd tests/editor/axe && npm ci)"
        pytest.fail(missing) if os.environ.get("CI") else pytest.skip(missing)
    return AXE.read_text()


def audit(editor, axe_source: str) -> list[dict]:
    """Every violation axe finds on the page as it is now: rule, impact and where."""
    if not editor.page.evaluate("typeof window.axe !== 'undefined'"):
        editor.page.evaluate(axe_source)  # through the debugging protocol: the page's CSP still holds for it
    found = editor.page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
    }""")
    report = os.environ.get("EDITOR_AXE_REPORT")  # the audit's results for the record (docs/editor-audit.md)
    if report:
        with open(report, "a", encoding="utf-8") as out:
            out.write(json.dumps({"url": editor.page.url, "violations": found}) + "\n")
    return found


def blocking(found: list[dict]) -> list[dict]:
    return [v for v in found if v["impact"] in BLOCKING]


def test_the_page_before_connecting(editor, axe_source):
    assert blocking(audit(editor, axe_source)) == []


def test_a_form_with_an_open_dropdown(editor, axe_source):
    editor.connect()
    editor.operation("add_prospect_to_sequence")
    box = editor.field("sequence_id").get_by_role("combobox")
    box.focus()
    editor.page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", editor.options("sequence_id").first.get_attribute("id"))
    assert blocking(audit(editor, axe_source)) == []


def test_errors_shown_by_their_fields(editor, axe_source):
    editor.connect()
    editor.operation("create_task")
    assert editor.run() == "error"
    expect(editor.page.get_by_test_id("field-error").first).to_be_visible()
    assert blocking(audit(editor, axe_source)) == []


def test_a_list_output_as_a_table(editor, axe_source):
    editor.connect()
    editor.operation("list_stages")
    assert editor.run() == "success"
    expect(editor.page.get_by_test_id("output-table")).to_be_visible()
    assert blocking(audit(editor, axe_source)) == []


def test_a_long_form_with_more_fields_open_and_a_filter_item(editor, axe_source):
    editor.connect()
    editor.operation("create_prospect")
    more = editor.field("attributes").get_by_test_id("more-fields").first
    more.locator("summary").click()
    more.get_by_test_id("field-filter").fill("custom")
    assert blocking(audit(editor, axe_source)) == []
    editor.operation("list_prospects")
    editor.field("filters").get_by_test_id("add-item").click()
    assert blocking(audit(editor, axe_source)) == []


def test_reconnect_offered_a_consent_flow_open_and_then_denied(stack, editor, axe_source):
    marked_authentication(stack[1], CONNECT_KEY, "Audited team")
    editor.connect(CONNECT_KEY, auth="Audited team (reconnect required)")
    expect(editor.page.get_by_test_id("reconnect")).to_be_visible()
    assert blocking(audit(editor, axe_source)) == []
    with editor.page.expect_popup() as opened:
        editor.page.get_by_test_id("connect-outreach").click()
    popup = opened.value
    expect(popup.get_by_test_id("deny")).to_be_visible()
    expect(editor.page.locator("#status")).to_contain_text("answer its consent page in the new window")
    assert blocking(audit(editor, axe_source)) == []
    with popup.expect_event("close"):
        popup.get_by_test_id("deny").click()
    expect(editor.page.locator("#status")).to_contain_text("access_denied")
    assert blocking(audit(editor, axe_source)) == []


def test_the_servers_consent_callback_page(stack, editor, axe_source):
    """The page the callback shows when no opener window takes its message (here: a spent or unknown state)."""
    editor.page.goto(f"{stack[1]}/oauth/callback?state=unknown")
    expect(editor.page.get_by_role("heading")).to_have_text("This connect link is not valid")
    assert blocking(audit(editor, axe_source)) == []


def test_the_audit_finds_what_it_must(editor, axe_source):
    """The audit can fail: a control without a name is a critical violation it reports."""
    editor.page.evaluate("document.querySelector('main').append(Object.assign(document.createElement('input'),"
                         " {type: 'text', id: 'nameless'}))")
    assert any(v["id"] == "label" and "#nameless" in v["nodes"] for v in blocking(audit(editor, axe_source)))

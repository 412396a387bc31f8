"""Connecting Outreach from the editor, in Chromium: "Connect Outreach" and "Reconnect" open the sandbox's consent
page in a popup; the server's callback page tells the editor how it went (issue 19 item 3, issue 21 finding 10)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from outreach_connector.server import ServerSettings, create_app

from server.live import LiveServer

from .conftest import CONNECT_KEY, SANDBOX_CLIENT_ID, Editor, listed_ids, marked_authentication, playwright, snap
from .test_editor_usable import COUNT_POINTER, focused_testid, tab_to

expect = playwright.expect
NEW_NAME = re.compile(r"^Outreach \(connected \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$")  # the name a new connection gets
CONNECTED = re.compile(r"^Outreach connected: Outreach \(connected .* UTC\), now chosen\.$")
CLOSED_UNANSWERED = ("The consent window closed with no answer; no authentication was added. If you finish in it, the "
                     "list reloads when you come back to this page.")


def open_consent(editor: Editor, button: str = "connect-outreach"):
    """Press the button; the popup it opens, once the sandbox's consent page is in it."""
    with editor.page.expect_popup() as opened:
        editor.page.get_by_test_id(button).click()
    popup = opened.value
    popup.on("pageerror", lambda error: editor.errors.append(f"consent window: {error}"))
    expect(popup.get_by_test_id("allow")).to_be_visible()
    return popup


def decide(popup, decision: str) -> None:
    """Press Allow or Deny; the callback page closes the window once it has told the editor."""
    with popup.expect_event("close"):
        popup.get_by_test_id(decision).click()


def status(editor: Editor):
    return editor.page.locator("#status")


def chosen_label(editor: Editor) -> str:
    return editor.page.get_by_test_id("auth").evaluate("select => select.selectedOptions[0].textContent")


def run_list_stages(editor: Editor) -> None:
    editor.operation("list_stages")
    assert editor.run() == "success"
    expect(editor.page.get_by_test_id("output-table").locator("tbody tr").first).to_be_visible()


def test_connect_outreach_in_a_popup_chooses_the_new_authentication_and_a_call_works(stack, editor):
    server_url = stack[1]
    before = listed_ids(server_url, CONNECT_KEY)
    editor.connect(CONNECT_KEY, auth=None)
    button = editor.page.get_by_test_id("connect-outreach")
    expect(button).to_have_accessible_name("Connect Outreach")
    popup = open_consent(editor)

    where = urlsplit(popup.url)
    query = parse_qs(where.query)
    assert where.path == "/oauth/authorize" and where.port != urlsplit(server_url).port  # Outreach's page, elsewhere
    assert (query["client_id"], query["redirect_uri"], query["response_type"]) == (
        [SANDBOX_CLIENT_ID], [f"{server_url}/oauth/callback"], ["code"])
    expect(status(editor)).to_have_text("Connecting Outreach: answer its consent page in the new window.")
    decide(popup, "allow")

    expect(status(editor)).to_have_text(CONNECTED)
    (new_id,) = set(listed_ids(server_url, CONNECT_KEY)) - set(before)
    expect(editor.page.get_by_test_id("auth")).to_have_value(new_id)
    assert NEW_NAME.match(chosen_label(editor))
    expect(editor.page.get_by_test_id("reconnect")).to_have_count(0)
    run_list_stages(editor)


def test_deny_says_so_and_stores_nothing(stack, editor):
    server_url = stack[1]
    before = listed_ids(server_url, CONNECT_KEY)
    editor.connect(CONNECT_KEY, auth=None)
    chosen = editor.page.get_by_test_id("auth").input_value()
    decide(open_consent(editor), "deny")
    expect(status(editor)).to_have_text(
        "Outreach was not connected: access_denied (the consent was denied). Nothing was stored.")
    assert listed_ids(server_url, CONNECT_KEY) == before
    expect(editor.page.get_by_test_id("auth")).to_have_value(chosen)


def test_reconnect_on_a_marked_authentication_keeps_its_id_and_calls_work_again(stack, editor):
    server_url = stack[1]
    auth_id = marked_authentication(server_url, CONNECT_KEY, "Team to reconnect")
    before = listed_ids(server_url, CONNECT_KEY)
    editor.connect(CONNECT_KEY, auth="Team to reconnect (reconnect required)")
    reconnect = editor.page.get_by_test_id("reconnect")
    expect(reconnect).to_have_accessible_name("Reconnect")
    expect(reconnect).to_have_accessible_description(
        "Outreach refused its refresh token: reconnect it through Outreach's consent page (it keeps its id).")
    snap(editor, "editor-reconnect")  # docs/editor-reconnect.png

    popup = open_consent(editor, "reconnect")
    expect(status(editor)).to_have_text(
        "Reconnecting Team to reconnect: answer Outreach's consent page in the new window.")
    decide(popup, "allow")

    expect(status(editor)).to_have_text("Team to reconnect is reconnected.")
    expect(editor.page.get_by_test_id("auth")).to_have_value(auth_id)
    assert chosen_label(editor) == "Team to reconnect"
    expect(reconnect).to_have_count(0)
    expect(editor.page.get_by_test_id("auth")).to_be_focused()  # the pressed button is gone: focus stays nearby
    assert listed_ids(server_url, CONNECT_KEY) == before
    shown = httpx.get(f"{server_url}/authentications/{auth_id}", headers={"Authorization": f"Bearer {CONNECT_KEY}"})
    assert (shown.json()["status"], shown.json()["status_reason"]) == ("connected", None)
    run_list_stages(editor)


def test_choosing_another_authentication_takes_reconnect_away(stack, editor):
    server_url = stack[1]
    marked_authentication(server_url, CONNECT_KEY, "Marked team")
    editor.connect(CONNECT_KEY, auth="Marked team (reconnect required)")
    expect(editor.page.get_by_test_id("reconnect")).to_be_visible()
    editor.page.get_by_test_id("auth").select_option("")
    expect(editor.page.get_by_test_id("reconnect")).to_have_count(0)
    expect(editor.page.locator("#auth-actions")).to_be_empty()


def test_messages_from_another_origin_or_window_are_ignored(stack, editor):
    server_url = stack[1]
    before = listed_ids(server_url, CONNECT_KEY)
    editor.connect(CONNECT_KEY, auth=None)
    popup = open_consent(editor)
    # The consent page (another origin) and the editor's own window post what the callback page would.
    popup.evaluate("window.opener.postMessage({type: 'outreach-connector:connected', authentication_id: 'forged'},"
                   " '*')")
    editor.page.evaluate("window.postMessage({type: 'outreach-connector:error', error: 'forged'}, '*')")
    decide(popup, "allow")
    expect(status(editor)).to_have_text(CONNECTED)  # either forged message, taken, would have ended the flow
    (new_id,) = set(listed_ids(server_url, CONNECT_KEY)) - set(before)
    expect(editor.page.get_by_test_id("auth")).to_have_value(new_id)


def test_closing_the_window_without_deciding_adds_nothing(stack, editor):
    server_url = stack[1]
    before = listed_ids(server_url, CONNECT_KEY)
    editor.connect(CONNECT_KEY, auth=None)
    open_consent(editor).close()
    expect(status(editor)).to_have_text(CLOSED_UNANSWERED)
    assert listed_ids(server_url, CONNECT_KEY) == before


def test_a_consent_window_cut_off_from_the_editor_is_looked_at_again_when_the_person_comes_back(stack, editor):
    """A page in the popup that sends Cross-Origin-Opener-Policy (a sign-on page may) severs it from the editor:
    from the editor it looks closed at once, and the callback page's message never comes."""
    server_url = stack[1]
    before = listed_ids(server_url, CONNECT_KEY)

    def cut_off(route) -> None:  # the sandbox's consent page, as if it sent the header
        answer = route.fetch()
        route.fulfill(response=answer, headers={**answer.headers, "cross-origin-opener-policy": "same-origin"})

    editor.page.context.route("**/oauth/authorize?*", cut_off)
    editor.connect(CONNECT_KEY, auth=None)
    popup = open_consent(editor)
    expect(status(editor)).to_have_text(CLOSED_UNANSWERED)
    popup.get_by_test_id("allow").click()
    expect(popup.get_by_role("heading")).to_have_text("Outreach connected")  # it cannot close itself: no opener
    popup.close()
    (new_id,) = set(listed_ids(server_url, CONNECT_KEY)) - set(before)
    # The person back on the editor's window: the focus event a browser fires then (headless Chromium fires
    # none on bring_to_front, each page having its own focus).
    editor.page.evaluate("window.dispatchEvent(new FocusEvent('focus'))")
    expect(status(editor)).to_have_text(CONNECTED)
    expect(editor.page.get_by_test_id("auth")).to_have_value(new_id)


def test_when_no_message_arrives_the_window_closing_still_reloads_and_chooses_the_new_one(stack, browser):
    """The editor opened at another origin than --public-url (localhost, not 127.0.0.1): the callback page's
    message is addressed to the public URL's origin, so it never arrives; the window still closes itself."""
    server_url = stack[1]
    before = listed_ids(server_url, CONNECT_KEY)
    context = browser.new_context()
    try:
        editor = Editor(context.new_page(), server_url.replace("127.0.0.1", "localhost"))
        editor.connect(CONNECT_KEY, auth=None)
        decide(open_consent(editor), "allow")
        expect(status(editor)).to_have_text(CONNECTED)
        (new_id,) = set(listed_ids(server_url, CONNECT_KEY)) - set(before)
        expect(editor.page.get_by_test_id("auth")).to_have_value(new_id)
        assert editor.errors == []
    finally:
        context.close()


def test_without_an_outreach_app_the_server_says_so_and_the_window_closes(browser, tmp_path):
    settings = ServerSettings(api_keys=(CONNECT_KEY,), database=tmp_path / "server.db")
    with LiveServer(create_app(settings)) as server_url:
        context = browser.new_context()
        try:
            editor = Editor(context.new_page(), server_url)
            editor.connect(CONNECT_KEY, auth=None)
            with editor.page.expect_popup() as opened:
                editor.page.get_by_test_id("connect-outreach").click()
            expect(status(editor)).to_have_text(
                "Outreach cannot be connected: No Outreach app is configured: start serve with --oauth-client-id, "
                "--oauth-client-secret and --public-url to connect accounts")
            popup = opened.value
            for _ in range(50):  # closed by the page just before it set the status: give the browser a moment
                if popup.is_closed():
                    break
                editor.page.wait_for_timeout(100)
            assert popup.is_closed()
            assert editor.errors == []
        finally:
            context.close()


def test_connect_outreach_by_keyboard_alone(stack, editor):
    server_url = stack[1]
    before = listed_ids(server_url, CONNECT_KEY)
    page, keys = editor.page, editor.page.keyboard
    page.evaluate(COUNT_POINTER)
    tab_to(editor, lambda e: focused_testid(e) == "api-key")
    keys.type(CONNECT_KEY)
    keys.press("Enter")
    expect(status(editor)).to_contain_text("Connected")
    tab_to(editor, lambda e: focused_testid(e) == "connect-outreach")
    with page.expect_popup() as opened:
        keys.press("Enter")
    popup = opened.value
    allow = popup.get_by_test_id("allow")
    expect(allow).to_be_visible()
    for _ in range(8):  # the consent page, by keyboard too
        if allow.evaluate("button => button === document.activeElement"):
            break
        popup.keyboard.press("Tab")
    with popup.expect_event("close"):
        popup.keyboard.press("Enter")
    expect(status(editor)).to_have_text(CONNECTED)
    (new_id,) = set(listed_ids(server_url, CONNECT_KEY)) - set(before)
    expect(page.get_by_test_id("auth")).to_have_value(new_id)
    assert focused_testid(editor) == "connect-outreach" and page.evaluate("window.__pointer") == 0

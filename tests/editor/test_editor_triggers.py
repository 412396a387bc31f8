"""Issue 20 item 5 / issue 21 finding 10: the editor's Triggers view, driven in Chromium against the server and
the sandbox on loopback sockets: subscribe, see events arrive (webhook and poll), delete, by keyboard alone."""
from __future__ import annotations

import json
import re
import secrets
import time

import httpx
import pytest

from outreach_connector.server import create_app
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

from server.live import LiveServer
from tests.subscriptions.harness import outreach_client
from tests.subscriptions.receiver import wait_until

from .conftest import API_KEY, editor_settings, playwright, snap
from .test_editor_accessibility import audit, axe_source, blocking  # noqa: F401 - axe_source is a fixture
from .test_editor_usable import COUNT_POINTER, focused_testid, tab_to

expect = playwright.expect
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
CALLBACK_URL = "http://127.0.0.1:9/editor-hook"  # allowed; nothing listens (the test deletes its subscription)
# sequence_state_finished's filters, in its input schema's order
FINISHED_FILTERS = ("account_id", "mailbox_id", "opportunity_id", "prospect_id", "sequence_id", "user_id")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(sandbox, server URL), as conftest's, with the sandbox on the wall clock (a poll from "now" finds what is
    written next, as in Outreach) and the server polling every second."""
    sandbox = Sandbox(SandboxConfig(clock=time.time, webhook_retry_delay=0))
    with serving(sandbox) as sandbox_url:
        database = tmp_path_factory.mktemp("editor-triggers") / "server.db"
        settings = lambda url: editor_settings(sandbox_url, database, url, poll_interval=1,  # noqa: E731
                                               allowed_callback_urls=(CALLBACK_URL,))
        with LiveServer(make_app=lambda url: create_app(settings(url))) as server_url:
            yield sandbox, server_url


@pytest.fixture
def auth(stack) -> tuple[str, str]:
    """(id, name) of a new authentication: each test starts with no subscription."""
    name = f"Triggers team {secrets.token_hex(3)}"
    stored = httpx.post(f"{stack[1]}/authentications", headers=HEADERS,
                        json={"name": name, "credentials": {"access_token": "sandbox-access-token"}})
    assert stored.status_code == 201, stored.text
    return stored.json()["id"], name


def subscriptions_of(server_url: str, auth_id: str) -> list[dict]:
    answer = httpx.get(f"{server_url}/authentications/{auth_id}/subscriptions", headers=HEADERS)
    assert answer.status_code == 200, answer.text
    return answer.json()["elements"]


def open_triggers(editor, auth_name: str) -> None:
    editor.connect(auth=auth_name)
    editor.page.get_by_test_id("triggers-tab").click()
    expect(editor.page.get_by_test_id("triggers-view")).to_be_visible()
    expect(editor.page.get_by_test_id("operations-view")).to_be_hidden()
    expect(editor.page.get_by_test_id("subscriptions")).to_contain_text("no subscription yet")


def subscribe(editor, trigger: str, mode: str = "webhook") -> dict:
    """Choose the trigger and mode, press Subscribe; the body the page sent."""
    page = editor.page
    page.get_by_test_id("trigger").select_option(trigger)
    editor.field("mode").locator("select").select_option(label=mode)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/subscriptions")) as sent:
        page.get_by_test_id("subscribe").click()
    expect(page.get_by_test_id("trigger-outcome")).to_contain_text("Subscribed")
    expect(page.get_by_test_id("subscription-row")).to_have_count(1)
    return json.loads(sent.value.post_data)


def created_prospect(sandbox: Sandbox, first_name: str) -> int:
    with outreach_client(sandbox) as client:
        made = client.post("/prospects", json={"data": {"type": "prospect", "attributes": {"firstName": first_name}}})
    assert made.status_code == 201, made.text
    return int(made.json()["data"]["id"])


def active_webhooks(sandbox: Sandbox) -> list[dict]:
    with outreach_client(sandbox) as client:
        return client.get("/webhooks", params={"filter[active]": "true"}).json()["data"]


def test_the_triggers_are_grouped_by_resource_and_the_form_comes_from_the_input_schema(stack, editor, auth):
    open_triggers(editor, auth[1])
    page = editor.page
    groups = page.get_by_test_id("trigger").locator("optgroup")
    assert "Sequence state" in groups.evaluate_all("gs => gs.map(g => g.label)")
    finished = page.locator("optgroup[label='Sequence state'] option[value=sequence_state_finished]")
    expect(finished).to_have_text("Sequence state finished")
    expect(page.get_by_test_id("subscribe")).to_be_disabled()
    expect(page.locator("#subscribe-hint")).to_have_text("Choose a trigger to subscribe to.")
    page.get_by_test_id("trigger").select_option("sequence_state_finished")
    # the filters of the trigger's input schema, as dropdowns, then mode and callback URL
    assert page.locator("#trigger-form [data-field]").evaluate_all("ws => ws.map(w => w.dataset.field)") == [
        "input", *(f"input.{name}" for name in FINISHED_FILTERS), "mode", "callback_url"]
    expect(editor.field("input.sequence_id").get_by_role("combobox")).to_have_accessible_name("Sequence ID")
    expect(editor.field("mode").locator("select option:checked")).to_have_text("webhook")
    expect(page.get_by_test_id("subscribe")).to_be_enabled()


def test_subscribe_by_webhook_then_a_prospect_created_in_outreach_shows_as_an_event(stack, editor, auth):
    sandbox, server_url = stack
    open_triggers(editor, auth[1])
    assert subscribe(editor, "prospect_created") == {"trigger": "prospect_created", "mode": "webhook"}
    [made] = subscriptions_of(server_url, auth[0])
    assert (made["trigger"], made["mode"], made["status"]) == ("prospect_created", "webhook", "active")
    assert [hook["attributes"]["url"] for hook in active_webhooks(sandbox)
            if hook["attributes"]["url"].endswith(made["id"])] == [f"{server_url}/webhooks/outreach/{made['id']}"]
    row = editor.page.get_by_test_id("subscription-row")
    expect(row).to_have_attribute("data-id", made["id"])
    expect(row.get_by_test_id("subscription-status")).to_have_text("active")
    expect(editor.page.get_by_test_id("events")).to_contain_text("none yet")

    prospect_id = created_prospect(sandbox, "Ada")
    event_row = editor.page.get_by_test_id("event-row")
    expect(event_row).to_have_count(1, timeout=20_000)
    expect(event_row).to_contain_text("prospect.created")
    expect(event_row).to_contain_text(f"Prospect {prospect_id}")
    expect(event_row).to_contain_text("firstName: Ada")
    button = event_row.get_by_test_id("event-json-button")
    expect(button).to_have_accessible_name(f"JSON of prospect.created, Prospect {prospect_id}")
    button.click()  # the JSON, one click away
    expect(button).to_have_attribute("aria-pressed", "true")
    shown = json.loads(editor.page.get_by_test_id("event-json").text_content())
    assert (shown["trigger"], shown["resource"], shown["attributes"]["firstName"]) == \
        ("prospect_created", {"type": "prospect", "id": prospect_id}, "Ada")
    expect(row.locator("td").nth(2)).not_to_be_empty()  # the subscription's last event, reloaded
    snap(editor, "editor-triggers")  # docs/editor-triggers.png


def test_a_filter_picked_from_its_dropdown_is_sent_under_input_and_names_the_subscription(stack, editor, auth):
    sandbox, server_url = stack
    account = next(iter(sandbox.store.records("account")))
    name = account.attributes["name"]
    open_triggers(editor, auth[1])
    editor.page.get_by_test_id("trigger").select_option("prospect_updated")
    editor.pick("input.account_id", name[:4], name)
    with editor.page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/subscriptions")) as sent:
        editor.page.get_by_test_id("subscribe").click()
    assert json.loads(sent.value.post_data) == {"trigger": "prospect_updated", "input": {"account_id": account.id},
                                                "mode": "webhook"}
    row = editor.page.get_by_test_id("subscription-row")
    expect(row.locator("th")).to_have_text(f"Prospect changed (webhook, account_id {account.id})")
    expect(row.get_by_test_id("unsubscribe")).to_have_accessible_name(
        f"Delete the subscription to Prospect changed (webhook, account_id {account.id})")
    assert subscriptions_of(server_url, auth[0])[0]["input"] == {"account_id": account.id}


def test_poll_mode_shows_a_change_made_in_outreach(stack, editor, auth):
    sandbox, server_url = stack
    open_triggers(editor, auth[1])
    hooks_before = len(active_webhooks(sandbox))
    assert subscribe(editor, "prospect_updated", mode="poll") == {"trigger": "prospect_updated", "mode": "poll"}
    [made] = subscriptions_of(server_url, auth[0])
    assert (made["mode"], made["webhook_id"]) == ("poll", None) and len(active_webhooks(sandbox)) == hooks_before
    with outreach_client(sandbox) as client:
        changed = client.patch("/prospects/7", json={"data": {"type": "prospect", "id": 7,
                                                              "attributes": {"title": "Polled by the editor"}}})
        assert changed.status_code == 200, changed.text
    event_row = editor.page.get_by_test_id("event-row").filter(has_text="Prospect 7")
    expect(event_row).to_have_count(1, timeout=20_000)
    expect(event_row).to_contain_text("prospect.updated")
    expect(event_row).to_contain_text("title: Polled by the editor")


def test_a_callback_url_is_sent_and_the_delivery_secret_shown_once(stack, editor, auth):
    page = editor.page
    open_triggers(editor, auth[1])
    page.get_by_test_id("trigger").select_option("task_completed")
    editor.field("callback_url").locator("input").fill(CALLBACK_URL)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/subscriptions")) as answered:
        page.get_by_test_id("subscribe").click()
    assert json.loads(answered.value.request.post_data) == {"trigger": "task_completed", "mode": "webhook",
                                                            "callback_url": CALLBACK_URL}
    secret = answered.value.json()["delivery_secret"]
    expect(page.get_by_test_id("delivery-secret")).to_have_text(secret)
    expect(page.locator("#delivery-secret")).to_contain_text("shown once")
    [made] = subscriptions_of(stack[1], auth[0])
    assert made["callback_url"] == CALLBACK_URL and secret not in json.dumps(made)
    page.get_by_test_id("trigger").select_option("prospect_created")  # the next subscription keeps the URL
    expect(editor.field("callback_url").locator("input")).to_have_value(CALLBACK_URL)
    assert httpx.delete(f"{stack[1]}/subscriptions/{made['id']}", headers=HEADERS).status_code == 204


def test_delete_unsubscribes_and_removes_the_outreach_webhook(stack, editor, auth):
    sandbox, server_url = stack
    open_triggers(editor, auth[1])
    subscribe(editor, "prospect_updated")
    [made] = subscriptions_of(server_url, auth[0])
    assert str(made["webhook_id"]) in {str(hook["id"]) for hook in active_webhooks(sandbox)}
    delete = editor.page.get_by_test_id("unsubscribe")
    expect(delete).to_have_accessible_name("Delete the subscription to Prospect changed (webhook)")
    with editor.page.expect_request(lambda r: r.method == "DELETE") as sent:
        delete.click()
    assert sent.value.url == f"{server_url}/subscriptions/{made['id']}"
    expect(editor.page.get_by_test_id("trigger-outcome")).to_contain_text("Deleted the subscription")
    expect(editor.page.get_by_test_id("subscription-row")).to_have_count(0)
    expect(editor.page.locator("#subscriptions-heading")).to_be_focused()
    expect(editor.page.get_by_test_id("events")).not_to_contain_text("Prospect changed")  # no longer watched
    assert subscriptions_of(server_url, auth[0]) == []
    assert all(str(hook["id"]) != str(made["webhook_id"]) for hook in active_webhooks(sandbox))


def test_a_webhook_outreach_disabled_shows_and_enable_turns_it_back_on(stack, editor, auth):
    sandbox, server_url = stack
    page = editor.page
    open_triggers(editor, auth[1])
    subscribe(editor, "prospect_updated")
    [made] = subscriptions_of(server_url, auth[0])
    hook = made["webhook_id"]
    with outreach_client(sandbox) as client:
        assert client.patch(f"/webhooks/{hook}", json={"data": {"type": "webhook", "id": hook, "attributes": {
            "active": False}}}).status_code == 200
    # the server checks its webhooks every poll interval (1 s here)
    wait_until(lambda: subscriptions_of(server_url, auth[0])[0]["status"] == "webhook_disabled", 15,
               "the server never saw the webhook disabled")
    page.get_by_test_id("refresh-subscriptions").click()
    row = page.get_by_test_id("subscription-row")
    expect(row.get_by_test_id("subscription-status")).to_have_text("webhook disabled")
    expect(row).to_contain_text("webhook disabled: ")  # the last error says why
    enable = row.get_by_test_id("enable")
    expect(enable).to_have_accessible_name("Enable the webhook of Prospect changed again")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/enable")) as sent:
        enable.click()
    assert sent.value.url == f"{server_url}/subscriptions/{made['id']}/enable"
    expect(page.get_by_test_id("trigger-outcome")).to_have_text("The webhook of Prospect changed is enabled again.")
    expect(row.get_by_test_id("subscription-status")).to_have_text("active")
    expect(row.get_by_test_id("enable")).to_have_count(0)
    with outreach_client(sandbox) as client:
        assert client.get(f"/webhooks/{hook}").json()["data"]["attributes"]["active"] is True


def test_the_keyboard_focus_stays_on_its_button_while_the_lists_reload(stack, editor, auth):
    sandbox, _ = stack
    page = editor.page
    open_triggers(editor, auth[1])
    subscribe(editor, "prospect_created")
    page.get_by_test_id("unsubscribe").focus()
    def reloaded_with_the_event(response) -> bool:  # the list, asked again once the event arrived
        return response.request.method == "GET" and response.url.endswith("/subscriptions") \
            and response.json()["elements"][0]["last_event_at"] is not None
    with page.expect_response(reloaded_with_the_event, timeout=20_000):
        created_prospect(sandbox, "Kay")
    expect(page.get_by_test_id("event-row")).to_have_count(1)
    expect(page.get_by_test_id("subscription-row").locator("td").nth(2)).not_to_be_empty()
    expect(page.get_by_test_id("unsubscribe")).to_be_focused()  # drawn anew, focused again
    json_button = page.get_by_test_id("event-json-button")
    json_button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("event-json")).to_be_visible()
    expect(json_button).to_be_focused()
    expect(json_button).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("event-json")).to_have_count(0)


def events_read(request, sid: str) -> bool:
    return f"/subscriptions/{sid}/events" in request.url


def test_the_long_poll_stops_when_the_view_or_the_watched_subscription_changes(stack, editor, auth):
    sandbox, server_url = stack
    page = editor.page
    open_triggers(editor, auth[1])
    subscribe(editor, "prospect_created")
    first = subscriptions_of(server_url, auth[0])[0]["id"]
    created_prospect(sandbox, "Grace")
    expect(page.get_by_test_id("event-row")).to_have_count(1, timeout=20_000)
    with page.expect_event("requestfailed", lambda r: events_read(r, first)):  # the waiting read is cancelled
        page.get_by_test_id("operations-tab").click()
    with page.expect_request(lambda r: events_read(r, first)) as resumed:
        page.get_by_test_id("triggers-tab").click()
    assert re.search(r"[?&]after=[1-9][0-9]*", resumed.value.url)  # where it was, not from the start
    expect(page.get_by_test_id("event-row")).to_have_count(1)

    page.get_by_test_id("trigger").select_option("prospect_updated")
    page.get_by_test_id("subscribe").click()
    expect(page.get_by_test_id("subscription-row")).to_have_count(2)
    second = next(sub["id"] for sub in subscriptions_of(server_url, auth[0]) if sub["id"] != first)
    expect(page.locator(f"[data-id='{second}'] [data-testid=watch]")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("event-row")).to_have_count(0)  # the new subscription's events, none yet
    with page.expect_event("requestfailed", lambda r: events_read(r, second)):
        page.locator(f"[data-id='{first}'] [data-testid=watch]").click()
    expect(page.get_by_test_id("event-row")).to_have_count(1)


def test_keyboard_only_from_connect_to_subscribe(stack, editor, auth):
    page, keys = editor.page, editor.page.keyboard
    page.evaluate(COUNT_POINTER)
    tab_to(editor, lambda e: focused_testid(e) == "api-key")
    keys.type(API_KEY)
    keys.press("Enter")
    expect(page.locator("#status")).to_contain_text("Connected")
    tab_to(editor, lambda e: focused_testid(e) == "auth")
    for _ in range(20):  # the native select, by arrow keys, to this test's authentication
        if page.get_by_test_id("auth").evaluate("s => s.selectedOptions[0].text") == auth[1]:
            break
        keys.press("ArrowDown")
    expect(page.get_by_test_id("auth")).to_have_value(auth[0])
    tab_to(editor, lambda e: focused_testid(e) == "operations-tab")
    keys.press("ArrowRight")  # the tabs pattern: arrows move between the views
    assert focused_testid(editor) == "triggers-tab"
    expect(page.get_by_test_id("triggers-view")).to_be_visible()
    keys.press("Tab")
    assert focused_testid(editor) == "trigger"
    for _ in range(60):
        if page.get_by_test_id("trigger").input_value() == "prospect_created":
            break
        keys.press("ArrowDown")
    expect(page.get_by_test_id("trigger")).to_have_value("prospect_created")
    tab_to(editor, lambda e: focused_testid(e) == "subscribe", most=12)
    keys.press("Enter")
    expect(page.get_by_test_id("subscription-row")).to_have_count(1)
    assert [sub["trigger"] for sub in subscriptions_of(stack[1], auth[0])] == ["prospect_created"]
    assert page.evaluate("window.__pointer") == 0


@pytest.mark.parametrize("trigger, mode, callback, path", [
    pytest.param("prospect_destroyed", "poll", None, "mode", id="a-deletion-cannot-be-polled"),
    pytest.param("prospect_updated", "webhook", "https://elsewhere.example/hook", "callback_url",
                 id="a-callback-not-allowed"),
])
def test_a_refused_subscription_shows_the_servers_reason_by_its_field(stack, editor, auth, trigger, mode, callback,
                                                                      path):
    page = editor.page
    open_triggers(editor, auth[1])
    page.get_by_test_id("trigger").select_option(trigger)
    editor.field("mode").locator("select").select_option(label=mode)
    if callback:
        editor.field("callback_url").locator("input").fill(callback)
    page.get_by_test_id("subscribe").click()
    expect(page.get_by_test_id("trigger-outcome")).to_contain_text("Not subscribed: Invalid subscription")
    error = editor.field(path).get_by_test_id("field-error")
    expect(error).to_be_visible()
    control = editor.field(path).locator("select, input").first
    expect(control).to_have_attribute("aria-invalid", "true")
    assert error.get_attribute("id") in control.get_attribute("aria-describedby").split()
    expect(control).to_be_focused()
    assert subscriptions_of(stack[1], auth[0]) == []


def test_a_filter_that_is_not_an_id_is_refused_by_its_field(stack, editor, auth):
    open_triggers(editor, auth[1])
    editor.page.get_by_test_id("trigger").select_option("prospect_created")
    box = editor.field("input.account_id").get_by_role("combobox")
    box.fill("not an id")
    editor.page.get_by_test_id("subscribe").click()
    expect(editor.field("input.account_id").get_by_test_id("field-error")).to_be_visible()
    expect(box).to_have_attribute("aria-invalid", "true")
    assert subscriptions_of(stack[1], auth[0]) == []


@pytest.mark.parametrize("body, path, says", [
    pytest.param({"trigger": "prospect_destroyed", "mode": "poll"}, "mode", "poll", id="mode"),
    pytest.param({"trigger": "prospect_updatd"}, "trigger", "prospect_updated", id="trigger"),
    pytest.param({"trigger": "prospect_updated", "callback_url": "https://elsewhere.example/hook"}, "callback_url",
                 "--allow-callback-url", id="callback_url"),
])
def test_a_refused_subscription_names_its_member_in_errors(stack, auth, body, path, says):
    """The server's 400 carries `errors: [{"path", "message"}]`, as invalid input does, and keeps its prose."""
    answer = httpx.post(f"{stack[1]}/authentications/{auth[0]}/subscriptions", headers=HEADERS, json=body)
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["path"] == path and says in error["message"]
    assert answer.json()["message"] == f"Invalid subscription: {path}: {error['message']}"


def test_the_audit_finds_nothing_serious_in_the_triggers_views_states(stack, editor, auth, axe_source):  # noqa: F811
    """axe-core on the Triggers view: empty, a refused subscription (errors by their fields), subscribed with an
    event and its JSON open."""
    page = editor.page
    open_triggers(editor, auth[1])
    assert blocking(audit(editor, axe_source)) == []  # no trigger chosen, no subscription
    page.get_by_test_id("trigger").select_option("prospect_destroyed")
    editor.field("mode").locator("select").select_option(label="poll")
    editor.field("input.account_id").get_by_role("combobox").fill("not an id")
    page.get_by_test_id("subscribe").click()
    expect(editor.field("input.account_id").get_by_test_id("field-error")).to_be_visible()
    assert blocking(audit(editor, axe_source)) == []
    editor.field("input.account_id").get_by_role("combobox").fill("")
    editor.field("mode").locator("select").focus()  # leaves the dropdown, which closes (its list covers Subscribe)
    page.get_by_test_id("subscribe").click()
    expect(editor.field("mode").get_by_test_id("field-error")).to_be_visible()
    snap(editor, "editor-triggers-error")
    assert blocking(audit(editor, axe_source)) == []
    subscribe(editor, "prospect_created")
    created_prospect(stack[0], "Audrey")
    event_row = page.get_by_test_id("event-row")
    expect(event_row).to_have_count(1, timeout=20_000)
    event_row.get_by_test_id("event-json-button").click()
    expect(page.get_by_test_id("event-json")).to_be_visible()
    assert blocking(audit(editor, axe_source)) == []

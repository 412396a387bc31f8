"""Issue 21: the editor a person can use: by keyboard and screen reader, required fields marked, long forms
folded, operations grouped, outputs as tables, errors placed from the 400's data. Driven in Chromium."""
from __future__ import annotations

import json
import re

import httpx

from .conftest import API_KEY, AUTH_NAME, playwright, snap
from .test_editor_in_chromium import unenrolled_prospect

expect = playwright.expect

# Counts every pointer event the page receives: the keyboard-only run must end with none.
COUNT_POINTER = """
window.__pointer = 0;
for (const kind of ["mousedown", "mouseup", "pointerdown", "pointerup"]) {
  window.addEventListener(kind, () => { window.__pointer += 1; }, true);
}
"""


def focused_testid(editor) -> str | None:
    return editor.page.evaluate("document.activeElement && document.activeElement.dataset.testid || null")


def focused_field(editor) -> str | None:
    return editor.page.evaluate("(() => { const w = document.activeElement.closest('[data-field]');"
                                " return w ? w.dataset.field : null; })()")


def tab_to(editor, test, most: int = 8) -> None:
    """Press Tab until ``test(editor)`` holds (at most ``most`` times)."""
    for _ in range(most):
        if test(editor):
            return
        editor.page.keyboard.press("Tab")
    assert test(editor), "the keyboard never reached it"


def choose_by_keyboard(editor, path: str, search: str, text: str) -> None:
    """In the focused combobox: type, arrow down to the option labelled ``text``, Enter."""
    box = editor.field(path).get_by_role("combobox")
    expect(box).to_be_focused()
    def searched(response) -> bool:  # the answer to what was typed (not to an earlier, emptier search)
        sent = json.loads(response.request.post_data or "{}") if response.url.endswith("/call") else {}
        return sent.get("input", {}).get("search") == search

    with editor.page.expect_response(searched):
        editor.page.keyboard.type(search)
    # The answer has arrived; until the list shows it, it may show an earlier search's options (slow typing
    # sends a search per pause), which that answer replaces under the arrow keys.
    expect(editor.field(path).locator("[role=listbox]")).to_have_attribute("aria-busy", "false")
    expect(editor.options(path).filter(has_text=text).first).to_be_visible()
    for _ in range(20):
        editor.page.keyboard.press("ArrowDown")
        active = box.get_attribute("aria-activedescendant")
        if active and editor.page.locator(f"#{active}").inner_text().startswith(text):
            break
    editor.page.keyboard.press("Enter")
    expect(box).to_have_value(re.compile(f"^{re.escape(text)}"))
    expect(box).to_have_attribute("aria-expanded", "false")


def test_keyboard_only_from_connect_to_a_successful_run(stack, editor):
    sandbox, _ = stack
    prospect_id, name = unenrolled_prospect(sandbox)
    page = editor.page
    page.evaluate(COUNT_POINTER)
    keys = page.keyboard

    tab_to(editor, lambda e: focused_testid(e) == "api-key")
    keys.type(API_KEY)
    keys.press("Enter")
    expect(page.locator("#status")).to_contain_text("Connected")
    expect(page.get_by_test_id("auth")).to_have_value(re.compile(".+"))  # the key's one authentication
    tab_to(editor, lambda e: focused_testid(e) == "operation-filter")
    keys.type("add prospect to seq")
    keys.press("Tab")
    assert focused_testid(editor) == "operation"
    keys.press("ArrowDown")  # the first (here the only) match
    expect(page.get_by_test_id("operation")).to_have_value("add_prospect_to_sequence")

    keys.press("Tab")
    choose_by_keyboard(editor, "prospect_id", name.lower()[:5], name)
    keys.press("Tab")
    choose_by_keyboard(editor, "sequence_id", "webinar", "Webinar Attendees")
    keys.press("Tab")
    choose_by_keyboard(editor, "mailbox_id", "ava.fi", "ava.fischer@sandbox-sales.example")
    tab_to(editor, lambda e: focused_testid(e) == "run")
    keys.press("Enter")

    expect(page.get_by_test_id("outcome")).to_have_text("success")
    output = json.loads(page.get_by_test_id("output").text_content())
    state = sandbox.store.get("sequenceState", int(output["data"]["id"]))
    assert (state.ref_id("prospect"), state.ref_id("sequence"), state.ref_id("mailbox")) == (prospect_id, 3, 3)
    assert page.evaluate("window.__pointer") == 0


def test_the_lookup_is_a_combobox_that_says_what_is_open_and_active(editor):
    editor.connect()
    editor.operation("add_prospect_to_sequence")
    box = editor.field("sequence_id").get_by_role("combobox")
    listbox = editor.field("sequence_id").locator("[role=listbox]")
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    box.focus()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(editor.options("sequence_id").first).to_be_visible()
    expect(listbox).to_have_attribute("aria-busy", "false")
    assert box.get_attribute("aria-activedescendant") is None
    box.press_sequentially("zzzz-no-such-sequence")  # busy from the first key until the answer is shown
    expect(listbox).to_have_attribute("aria-busy", "true")
    expect(editor.field("sequence_id").locator(".note")).to_have_text("No matches")
    expect(listbox).to_have_attribute("aria-busy", "false")
    box.fill("")
    expect(listbox).to_have_attribute("aria-busy", "false")
    expect(editor.options("sequence_id").first).to_be_visible()

    editor.page.keyboard.press("ArrowDown")
    editor.page.keyboard.press("ArrowDown")
    second = editor.options("sequence_id").nth(1)
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    expect(second).to_have_class(re.compile(r"\bactive\b"))
    expect(second).to_have_attribute("aria-selected", "true")
    editor.page.keyboard.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", editor.options("sequence_id").first.get_attribute("id"))
    snap(editor, "editor-dropdown")

    editor.page.keyboard.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("")  # Escape chooses nothing

    editor.page.keyboard.press("ArrowDown")  # reopens, the first option active
    expect(box).to_have_attribute("aria-expanded", "true")
    first = editor.options("sequence_id").first
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    text = first.inner_text()
    editor.page.keyboard.press("Enter")
    expect(box).to_have_value(text)


# Drives lookup.js's Lookup in the page with a host whose answers the script releases one by one, so the order
# of answers and keys is exact. Returns what the listbox said (busy, options) after each step.
BUSY_SCRIPT = """async () => {
  const { Lookup } = await import("/editor/lookup.js");
  const asked = [];
  const host = { inputFor: () => ({}), changed: () => {},
                 call: (operation, input) => new Promise((resolve, reject) => asked.push({ input, resolve, reject })) };
  const lookup = new Lookup({ operation: "list_things_ddl" }, "thing", "Thing", host);
  document.querySelector("main").append(lookup.node);
  const answer = (text) => ({ outcome: "success", output: { result: [{ text, value: text }] } });
  const pause = () => new Promise((resolve) => setTimeout(resolve, 300));  // past the 200 ms typing pause
  const type = (text) => { lookup.input.value = text; lookup.input.dispatchEvent(new Event("input")); };
  const seen = [];
  const look = (step) => seen.push([step, lookup.list.getAttribute("aria-busy"),
    [...lookup.list.querySelectorAll("li")].map((li) => li.textContent).join("|"),
    asked.length ? asked[asked.length - 1].input.search || "" : null]);
  lookup.input.focus(); look("focused");
  asked[0].resolve(answer("First page")); await pause(); look("first answer");
  type("ad"); look("typed ad"); await pause(); look("ad asked");
  type("ada"); asked[1].resolve(answer("For ad")); await pause(); look("ad answered after ada typed");
  asked[2].resolve(answer("For ada")); await pause(); look("ada answered");
  type("adam"); await pause(); asked[3].reject(new Error("offline")); await pause(); look("adam failed");
  lookup.node.remove();
  return seen;
}"""


def test_a_lookup_is_busy_until_the_answer_to_what_is_typed_now_is_shown(editor):
    """An answer to an earlier search arriving after more keys is dropped, never shown as the answer (that is
    what replaced the options under the arrow keys); a search that fails says so and leaves the list idle."""
    seen = editor.page.evaluate(BUSY_SCRIPT)
    assert seen == [
        ["focused", "true", "", ""],
        ["first answer", "false", "First page", ""],
        ["typed ad", "true", "First page", ""],
        ["ad asked", "true", "First page", "ad"],
        ["ad answered after ada typed", "true", "First page", "ada"],
        ["ada answered", "false", "For ada", "ada"],
        ["adam failed", "false", "The options could not be loaded.", "adam"],
    ]


def test_the_more_option_loads_the_next_page_from_the_keyboard(editor):
    editor.connect()
    editor.operation("add_prospect_to_sequence")
    box = editor.field("prospect_id").get_by_role("combobox")
    box.focus()
    expect(editor.options("prospect_id")).to_have_count(100)
    editor.page.keyboard.press("ArrowUp")  # wraps to the last item: "More…"
    more = editor.field("prospect_id").get_by_test_id("more")
    expect(box).to_have_attribute("aria-activedescendant", more.get_attribute("id"))
    editor.page.keyboard.press("Enter")
    expect(editor.options("prospect_id")).to_have_count(150)
    expect(box).to_have_attribute("aria-activedescendant", editor.options("prospect_id").nth(100).get_attribute("id"))


UNNAMED = """() => [...document.querySelectorAll('main input, main select, main textarea, main button, [role=combobox]')]
  .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby')
                 && !(c.tagName === 'BUTTON' && c.textContent.trim()))
  .map((c) => c.outerHTML.slice(0, 120))"""


def test_every_control_has_a_name_and_errors_are_tied_to_their_fields(editor):
    editor.connect()
    for operation in ("create_task", "list_prospects", "add_prospect_to_sequence"):
        editor.operation(operation)
        editor.page.locator("[data-testid=add-item]").first.click() if operation == "list_prospects" else None
        assert editor.page.evaluate(UNNAMED) == [], operation
    expect(editor.page.get_by_role("combobox", name="Prospect ID", exact=True)).to_have_count(1)

    editor.pick("sequence_id", "cold", "Re-engage Cold")
    editor.field("prospect_id").get_by_role("combobox").fill("not an id")
    assert editor.run() == "error"
    mailbox = editor.page.get_by_role("combobox", name="Mailbox ID", exact=True)
    expect(mailbox).to_have_attribute("aria-invalid", "true")
    expect(mailbox).to_have_accessible_description(re.compile("^required field is missing"))
    expect(mailbox).to_be_focused()  # the first field in error
    expect(editor.page.get_by_role("combobox", name="Sequence ID", exact=True)).not_to_have_attribute("aria-invalid",
                                                                                                    "true")
    live = editor.page.get_by_role("status").filter(has=editor.page.get_by_test_id("outcome"))
    expect(live).to_have_attribute("aria-live", "polite")

    editor.pick("mailbox_id", "ava.fi", "ava.fischer@sandbox-sales.example")  # a new choice clears its error
    expect(mailbox).not_to_have_attribute("aria-invalid", "true")
    expect(editor.field("mailbox_id").get_by_test_id("field-error")).to_have_count(0)


def test_add_and_remove_name_their_field_and_item(editor):
    editor.connect()
    editor.operation("create_prospect")
    tags = editor.field("attributes.tags")
    expect(tags.get_by_test_id("add-item")).to_have_accessible_name("Add an item to Tags")
    tags.get_by_test_id("add-item").click()
    tags.get_by_test_id("add-item").click()
    expect(tags.get_by_test_id("remove-item").nth(1)).to_have_accessible_name("Remove Tags 2")
    expect(editor.page.get_by_role("textbox", name="Tags 2", exact=True)).to_be_focused()  # Add puts the cursor in the new item


def test_remove_then_add_sends_exactly_what_the_form_shows(stack, editor):
    sandbox, _ = stack
    editor.connect()
    editor.operation("create_prospect")
    tags = editor.field("attributes.tags")
    for text in ("a", "b", "c"):
        tags.get_by_test_id("add-item").click()
        editor.page.keyboard.type(text)
    tags.get_by_test_id("remove-item").first.click()
    tags.get_by_test_id("add-item").click()
    editor.page.keyboard.type("d")
    shown = tags.locator("input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert shown == ["b", "c", "d"]
    assert [tags.locator("[data-field]").nth(i).get_attribute("data-field") for i in range(3)] == [
        "attributes.tags.0", "attributes.tags.1", "attributes.tags.2"]
    editor.page.get_by_role("textbox", name="First name", exact=True).fill("Removal Check")
    assert editor.run() == "success"
    created = json.loads(editor.page.get_by_test_id("output").text_content())["data"]
    assert sandbox.store.get("prospect", int(created["id"])).attributes["tags"] == ["b", "c", "d"]


def test_create_task_marks_what_outreach_requires_and_refuses_locally(stack, editor):
    sandbox, _ = stack
    tasks_before = len(list(sandbox.store.records("task")))
    editor.connect()
    editor.operation("create_task")
    for path in ("attributes.action", "relationships.owner", "relationships.subject"):
        expect(editor.field(path).locator(".required").first).to_be_visible()
    expect(editor.page.get_by_role("textbox", name="Action", exact=True)).to_have_attribute("aria-required", "true")
    assert editor.run() == "error"
    output = editor.page.get_by_test_id("output").text_content()
    assert output.startswith("Connector input validation failed.")  # the server's 400, not Outreach's 422
    for path in ("attributes.action", "relationships.owner", "relationships.subject"):
        expect(editor.field(path).get_by_test_id("field-error").first).to_be_visible()
    assert len(list(sandbox.store.records("task"))) == tasks_before
    snap(editor, "editor-errors")


def test_a_long_form_shows_common_fields_first_and_folds_the_rest_behind_a_filter(editor):
    editor.connect()
    editor.operation("create_prospect")
    visible = editor.page.locator("#form [data-field]:visible")
    assert visible.count() < 40  # of the 214 attributes and the relationships
    first = editor.field("attributes").locator(":scope > fieldset > [data-field]")
    assert {path.removeprefix("attributes.") for path in first.evaluate_all("ns => ns.map(n => n.dataset.field)")} \
        == {"firstName", "lastName", "emails", "title", "company", "workPhones", "mobilePhones", "linkedInUrl",
            "websiteUrl1", "addressCity", "addressState", "addressCountry", "timeZone", "tags", "source"}
    labels = editor.page.locator("#form :is(label.label, legend):visible").all_inner_texts()
    raw = [label for label in labels if re.search(r"_|\b[a-z]+[A-Z]", label)]
    assert raw == []  # no camelCase or snake_case names
    assert editor.page.evaluate("document.documentElement.scrollHeight") < 4000
    snap(editor, "editor-long-form")

    attributes = editor.field("attributes")
    more = attributes.get_by_test_id("more-fields").first
    expect(more.locator("summary")).to_have_text(re.compile(r"^More fields \(\d+\)$"))
    expect(editor.field("attributes.custom12")).to_be_hidden()
    more.locator("summary").click()
    more.get_by_test_id("field-filter").fill("custom 12")
    expect(editor.field("attributes.custom12")).to_be_visible()
    expect(editor.field("attributes.custom12").locator("label")).to_have_text("Custom 12")
    expect(editor.field("attributes.custom13")).to_be_hidden()
    more.get_by_test_id("field-filter").fill("linkedin")
    kept = more.locator("[data-field]:visible").evaluate_all("nodes => nodes.map(n => n.dataset.field)")
    assert kept and all("linkedin" in path.lower() for path in kept)


def test_the_operation_picker_groups_by_resource_and_filters(stack, editor):
    server_url = stack[1]
    version = httpx.get(f"{server_url}/connectors", headers={"Authorization": f"Bearer {API_KEY}"}).json()
    version = version["elements"][0]["version"]
    operations = httpx.get(f"{server_url}/connectors/outreach/versions/{version}/operations",
                           headers={"Authorization": f"Bearer {API_KEY}"}).json()["elements"]
    editor.connect()
    picker = editor.page.get_by_test_id("operation")
    groups = picker.locator("optgroup").evaluate_all(
        "groups => groups.map(g => [g.label, [...g.children].map(o => o.value)])")
    group_of = {name: label for label, names in groups for name in names}
    assert sorted(group_of) == sorted(op["name"] for op in operations)  # each once
    assert {group_of[n] for n in ("list_prospects", "create_prospect", "delete_prospect", "get_prospect")} == {"Prospect"}
    assert group_of["list_prospects_ddl"] == "Dropdowns (DDL)"
    assert group_of["update_sequence_step"] == "Sequence step"
    assert len(groups) > 20 and groups[-1][0] == "Dropdowns (DDL)"

    editor.page.get_by_test_id("operation-filter").fill("Sequence STEP")
    offered = picker.locator("option:not([value=''])").evaluate_all("nodes => nodes.map(n => n.value)")
    wanted = [op["name"] for op in operations if "sequence step" in op["name"].lower()
              or "sequence step" in op["title"].lower()]
    assert wanted and sorted(offered) == sorted(wanted)
    expect(editor.page.locator("#operation-count")).to_have_text(f"{len(offered)} of {len(operations)} operations match")

    editor.page.get_by_test_id("operation-filter").fill("")
    editor.operation("list_stages")
    editor.page.get_by_test_id("operation-filter").fill("sequence step")  # list_stages no longer listed
    expect(picker).to_have_value("")
    expect(editor.page.locator("#form [data-field]")).to_have_count(0)


def test_a_list_output_is_a_table_and_changing_operation_clears_it(stack, editor):
    sandbox, _ = stack
    editor.connect()
    editor.operation("list_stages")
    assert editor.run() == "success"
    records = json.loads(editor.page.get_by_test_id("output").text_content())["data"]
    table = editor.page.get_by_test_id("output-table")
    expect(table.locator("tbody tr")).to_have_count(len(records))
    assert len(records) == len(list(sandbox.store.records("stage")))
    first = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first[:2] == [str(records[0]["id"]), records[0]["attributes"]["name"]]
    expect(editor.page.get_by_test_id("output")).to_be_hidden()  # the JSON: one click away
    snap(editor, "editor-table")
    editor.page.locator("#output-json summary").click()
    expect(editor.page.get_by_test_id("output")).to_be_visible()

    editor.operation("get_stage")
    expect(editor.page.get_by_test_id("outcome")).to_have_text("")
    expect(editor.page.get_by_test_id("output")).to_have_text("")
    expect(editor.page.get_by_test_id("output-table")).to_have_count(0)


def test_a_long_error_line_wraps_inside_the_page(editor):
    editor.connect()
    editor.operation("get_stage")
    editor.field("stage_id").locator("input").fill("x" * 400)
    assert editor.run() == "error"
    output = editor.page.get_by_test_id("output")
    assert output.evaluate("o => o.scrollWidth <= o.clientWidth")


def test_run_waits_for_an_authentication_and_says_why(editor):
    editor.connect()
    run = editor.page.get_by_test_id("run")
    expect(run).to_be_disabled()
    expect(run).to_have_accessible_description("Choose an operation to run.")
    editor.operation("list_stages")
    expect(run).to_be_enabled()
    editor.page.get_by_test_id("auth").select_option("")
    expect(run).to_be_disabled()
    expect(run).to_have_accessible_description("Choose an authentication to run an operation.")
    editor.page.get_by_test_id("auth").select_option(label=AUTH_NAME)
    expect(run).to_be_enabled()


def test_filters_and_sort_have_real_controls_in_a_readable_order(editor):
    editor.connect()
    editor.operation("list_prospects")
    filters = editor.field("filters")
    filters.get_by_test_id("add-item").click()
    item = editor.field("filters.0")
    expect(item.locator("legend")).to_have_text("Filters 1")
    assert item.locator("label.label").all_inner_texts() == ["Field*", "Criteria*"]
    for name in ("Sort by", "Sort direction"):
        expect(editor.page.get_by_role("combobox", name=name, exact=True)).to_have_js_property("tagName", "SELECT")

    item.get_by_role("combobox", name="Field", exact=True).select_option(label="firstName")
    item.get_by_role("textbox", name="Criteria", exact=True).fill("Ava")
    editor.page.get_by_role("combobox", name="Sort by", exact=True).select_option(label="lastName")
    assert editor.run() == "success"
    sent = json.loads(editor.page.locator("#json-text").input_value())
    assert sent["filters"] == [{"field": "firstName", "criteria": "Ava"}]
    assert sent["sort"] == {"sort_by": "lastName"}
    names = editor.page.get_by_test_id("output-table").locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert names and all(name.startswith("Ava") for name in names)


def test_field_errors_come_from_the_errors_list_not_the_message(editor):
    """The page places each entry of the 400's ``errors`` by its path, whatever the prose says; a path counted
    among the items sent (an empty item left out) lands on the item shown."""
    editor.connect()
    editor.operation("list_prospects")
    filters = editor.field("filters")
    filters.get_by_test_id("add-item").click()
    filters.get_by_test_id("add-item").click()  # item 1 stays empty: not sent
    editor.field("filters.1").get_by_role("combobox", name="Field", exact=True).select_option(label="lastName")

    def refuse(route) -> None:
        route.fulfill(status=400, content_type="application/json", body=json.dumps({
            "message": "Connector input validation failed. (prose the page must not need)", "code": None,
            "errors": [{"path": "filters.0.criteria", "message": "required field is missing"},
                       {"path": "page_size", "message": "must be at most 1000"},
                       {"path": "", "message": "and 3 more"}]}))

    editor.page.route("**/call", refuse)
    assert editor.run() == "error"
    expect(editor.field("filters.1.criteria").get_by_test_id("field-error")).to_have_text("required field is missing")
    expect(editor.field("filters.0.criteria").get_by_test_id("field-error")).to_have_count(0)
    expect(editor.field("page_size").get_by_test_id("field-error")).to_have_text("must be at most 1000")
    expect(editor.page.get_by_test_id("output")).to_contain_text("prose the page must not need")


def test_a_long_list_draws_at_most_500_rows_and_says_so(editor):
    records = [{"type": "stage", "id": n, "attributes": {"name": f"Stage {n}"}} for n in range(1, 601)]
    editor.connect()
    editor.operation("list_stages")
    editor.page.route("**/call", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(
        {"outcome": "success", "output": {"data": records, "links": {}, "meta": {}}})))
    assert editor.run() == "success"
    table = editor.page.get_by_test_id("output-table")
    expect(table.locator("tbody tr")).to_have_count(500)
    expect(table.locator("caption")).to_have_text("600 stage records (the first 500 shown)")
    assert len(json.loads(editor.page.get_by_test_id("output").text_content())["data"]) == 600


def test_an_authentication_status_shows_beside_its_name(editor):
    """The extension point for connecting Outreach: a status the server sends is shown in the select."""
    def listed(route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"next_page_after": None,
            "elements": [{"id": "a1", "name": "Sales", "status": "reconnect_required"},
                         {"id": "a2", "name": "Support", "status": "connected"}]}))

    editor.page.route("**/authentications?*", listed)
    editor.connect(auth=None)
    options = editor.page.get_by_test_id("auth").locator("option:not([value=''])")
    assert options.all_inner_texts() == ["Sales (reconnect required)", "Support"]

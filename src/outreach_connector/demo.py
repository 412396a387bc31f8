"""``outreach-connector demo``: a real sales workflow, end to end, against the embedded Outreach sandbox.

Every step is an ordinary ``Connector.call``; the sandbox runs in-process, so no credentials or network
are needed. Pass ``--base-url`` with ``OUTREACH_ACCESS_TOKEN`` set to run the same steps elsewhere.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

SANDBOX_BASE_URL = "http://sandbox.test/api/v2"
SANDBOX_TOKEN = "sandbox-access-token"


def sandbox_connector(settings: Any = None):
    """A connector on a new in-process Outreach sandbox (no network, no credentials), and the sandbox itself:
    for ``call --sandbox``, ``describe`` and the demo."""
    from outreach_sandbox import Sandbox, SandboxConfig  # the [sandbox] extra: only those who ask pay for it

    from .connector import Connector

    sandbox = Sandbox(SandboxConfig())
    return Connector(base_url=SANDBOX_BASE_URL, access_token=SANDBOX_TOKEN, transport=sandbox.transport(),
                     settings=settings), sandbox


Step = Callable[[Any, dict], None]


def say(text: str) -> None:
    print(text, flush=True)


def attrs(doc: dict) -> dict:
    return doc["data"].get("attributes") or {}


def create_account_and_prospects(conn, state: dict) -> None:
    account = conn.call("create_account", {"attributes": {"name": "Globex Demo Corp", "domain": "globex.example",
                                                          "industry": "Manufacturing"}})
    state["account_id"] = account["data"]["id"]
    say(f"  created account {state['account_id']}: {attrs(account)['name']}")
    state["prospect_ids"] = []
    for first, last in (("Hank", "Scorpio"), ("Lisa", "Simpson"), ("Frank", "Grimes")):
        prospect = conn.call("create_prospect", {
            "attributes": {"firstName": first, "lastName": last, "title": "Head of Operations",
                           "emails": [f"{first.lower()}.{last.lower()}@globex.example"], "custom1": "demo"},
            "relationships": {"account": state["account_id"]}})
        state["prospect_ids"].append(prospect["data"]["id"])
        say(f"  created prospect {prospect['data']['id']}: {first} {last}")


def fill_dropdowns(conn, state: dict) -> None:
    sequences = conn.call("list_sequences_ddl", {})["result"]
    mailboxes = conn.call("list_mailboxes_ddl", {})["result"]
    stages = conn.call("list_stages_ddl", {})["result"]
    say(f"  sequences dropdown: {', '.join(o['text'] for o in sequences[:4])} ({len(sequences)} options)")
    say(f"  mailboxes dropdown: {', '.join(o['text'] for o in mailboxes[:2])} ({len(mailboxes)} options)")
    say(f"  stages dropdown:    {', '.join(o['text'] for o in stages[:5])}")
    state["sequence_id"], state["mailbox_id"] = sequences[0]["value"], mailboxes[0]["value"]


def enrol_in_sequence(conn, state: dict) -> None:
    enrolled = conn.call("add_prospect_to_sequence", {"prospect_id": state["prospect_ids"][0],
                                                      "sequence_id": state["sequence_id"],
                                                      "mailbox_id": state["mailbox_id"]})
    state["sequence_state_id"] = enrolled["data"]["id"]
    say(f"  prospect {state['prospect_ids'][0]} enrolled: sequence state {state['sequence_state_id']} is "
        f"{attrs(enrolled).get('state')}")


def list_with_filters(conn, state: dict) -> None:
    page = conn.call("list_prospects", {
        "filters": [{"field": "account.id", "criteria": state["account_id"]}],
        "sort": {"sort_by": "lastName", "sort_direction": "asc"},
        "fields": ["firstName", "lastName", "emails"]})
    names = [f"{attrs({'data': p})['firstName']} {attrs({'data': p})['lastName']}" for p in page["data"]]
    say(f"  prospects of the account, by last name: {', '.join(names)} (meta.count={page['meta'].get('count')})")


def page_through(conn, state: dict) -> None:
    first = conn.call("list_prospects", {"page_size": 5, "sort": {"sort_by": "id"}, "fields": ["lastName"]})
    second = conn.call("list_prospects", {"page_size": 5, "sort": {"sort_by": "id"}, "fields": ["lastName"],
                                          "page_after": first["links"]["next"]})
    third = conn.call("execute_link", {"link": second["links"]["next"]})
    ids = [[r["id"] for r in p["data"]] for p in (first, second, third)]
    say(f"  pages of 5 by cursor: {ids[0]} -> {ids[1]} -> (execute_link on links.next) {ids[2]}")


def drive_sequence_state(conn, state: dict) -> None:
    for action in ("pause", "resume", "finish"):
        result = conn.call("set_sequence_state_action", {"sequence_state_id": state["sequence_state_id"],
                                                         "action": action})
        say(f"  {action:<6} -> sequence state {state['sequence_state_id']} is {attrs(result).get('state')}")


def complete_a_task(conn, state: dict) -> None:
    open_tasks = conn.call("list_tasks", {"page_size": 1, "filters": [{"field": "state", "criteria": "incomplete"}],
                                          "sort": {"sort_by": "dueAt"}})
    if not open_tasks["data"]:
        say("  no open task to complete")
        return
    task = open_tasks["data"][0]
    done = conn.call("set_task_action", {"task_id": task["id"], "action": "markComplete",
                                         "action_params": {"completionNote": "Called back, all good"}})
    say(f"  task {task['id']} ({task['attributes'].get('action')}) -> {attrs(done).get('state')}")


def show_invalid_input(conn, state: dict) -> None:
    from .errors import InputInvalid

    try:
        conn.call("create_prospect", {"attributes": {"createdAt": "2020-01-01", "shoeSize": 44}})
    except InputInvalid as error:
        say("  refused before sending: " + "; ".join(f"{e['path']} ({e['message']})" for e in error.errors))


STEPS: list[tuple[str, Step]] = [
    ("Create an account and three prospects", create_account_and_prospects),
    ("Fill dropdowns from DDL operations", fill_dropdowns),
    ("Add a prospect to a sequence", enrol_in_sequence),
    ("List with filters, sort and sparse fields", list_with_filters),
    ("Page through prospects with the cursor and Execute link", page_through),
    ("Pause, resume and finish the sequence state", drive_sequence_state),
    ("Complete a task", complete_a_task),
    ("Bad input never reaches Outreach", show_invalid_input),
]


def run_demo() -> int:

    conn, _sandbox = sandbox_connector()
    say("Outreach connector demo: the embedded Outreach sandbox, in-process, no credentials needed.\n")
    state: dict = {}
    with conn:
        for number, (title, step) in enumerate(STEPS, 1):
            say(f"{number}. {title}")
            step(conn, state)
    say(f"\nDone: {len(STEPS)} steps, {len(conn.operations())} operations available "
        "(outreach-connector operations).")
    return 0


if __name__ == "__main__":
    sys.exit(run_demo())

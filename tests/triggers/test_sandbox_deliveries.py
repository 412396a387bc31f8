"""The sandbox delivers webhook events as Outreach does, to a real loopback receiver; signatures are checked with
our own webhooks.verify and bodies read with parse_event."""
from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest

from outreach_connector import Connector, webhooks
from outreach_connector.triggers import parse_event
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox import webhooks as sandbox_webhooks
from tests.subscriptions.receiver import Receiver, delivered, wait_until

BASE = "http://sandbox.test/api/v2"
SECRET = "whsec-sandbox-test"


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(SandboxConfig(webhook_retry_delay=0))


@pytest.fixture
def conn(sandbox) -> Connector:
    with Connector(base_url=BASE, access_token="sandbox-access-token", transport=sandbox.transport(),
                   entry_points=False) as conn:
        yield conn


def subscribe(conn: Connector, url: str, secret: str | None = SECRET, **attributes) -> int:
    given = {"url": url, **({"secret": secret} if secret else {}), **attributes}
    return conn.call("create_webhook", {"attributes": given})["data"]["id"]


def control(sandbox: Sandbox, path: str, body: dict) -> httpx.Response:
    with httpx.Client(transport=sandbox.transport(), base_url="http://sandbox.test") as client:
        return client.post(path, json=body)


def test_seeded_data_holds_no_active_webhook(conn):
    hooks = conn.call("list_webhooks", {"page_size": 100})["data"]
    assert hooks and not any(h["attributes"]["active"] for h in hooks)


def test_a_create_is_delivered_signed_with_flat_relationships_and_the_set_attributes(conn, sandbox, receiver):
    hook = subscribe(conn, receiver.url, resource="prospect")
    ident = conn.call("create_prospect", {"attributes": {"firstName": "Ada", "emails": ["ada@hooks.example"]}})[
        "data"]["id"]
    delivered(sandbox)
    [(headers, body)] = receiver.deliveries
    webhooks.verify(SECRET, body, headers)
    assert headers["Content-Type"] == "application/vnd.api+json" and headers["Outreach-Webhook-Id"] == str(hook)
    document = json.loads(body)
    assert document["meta"]["eventName"] == "prospect.created" and document["meta"]["deliveredAt"].endswith("Z")
    assert document["data"]["relationships"]["creator"] == {"type": "creator", "id": 1}  # flat: the name as type
    assert document["data"]["attributes"]["firstName"] == "Ada"
    assert None not in document["data"]["attributes"].values()  # only what the create set
    event = parse_event(body, headers)
    assert event["id"] == headers["Outreach-Webhook-Event-Id"]
    assert event["resource"] == {"type": "prospect", "id": ident}
    assert event["relationships"]["creator"] == {"type": "user", "id": 1}


def test_an_update_carries_only_the_changed_attributes_and_a_delete_the_last_known(conn, sandbox, receiver):
    subscribe(conn, receiver.url, resource="prospect")
    conn.call("update_prospect", {"prospect_id": 3, "attributes": {"title": "Chief Hooks Officer"}})
    conn.call("delete_prospect", {"prospect_id": 3})
    delivered(sandbox)
    updated, destroyed = receiver.events()
    assert updated["event"] == "prospect.updated"
    assert sorted(updated["attributes"]) == ["title", "updatedAt"]
    assert updated["attributes"]["title"] == "Chief Hooks Officer"
    assert destroyed["event"] == "prospect.destroyed" and destroyed["attributes"]["title"] == "Chief Hooks Officer"
    assert destroyed["attributes"]["firstName"]  # the last known record, not only what changed


def test_a_webhook_gets_only_its_resource_and_action(conn, sandbox, receiver):
    subscribe(conn, receiver.url, resource="mailing", action="replied")
    conn.call("update_prospect", {"prospect_id": 3, "attributes": {"title": "x"}})
    assert control(sandbox, "/sandbox/events", {"event": "mailing.replied", "id": 12}).status_code == 202
    delivered(sandbox)
    [event] = receiver.events()
    assert event["event"] == "mailing.replied" and event["resource"] == {"type": "mailing", "id": 12}
    assert event["attributes"]["state"] == "replied" and event["attributes"]["repliedAt"]
    assert conn.call("get_mailing", {"mailing_id": 12})["data"]["attributes"]["state"] == "replied"


def test_simulated_activity_is_the_update_and_the_event_and_bad_requests_say_why(conn, sandbox, receiver):
    subscribe(conn, receiver.url)
    answer = control(sandbox, "/sandbox/events", {"event": "task.completed", "id": 1})
    assert answer.status_code == 202 and len(answer.json()["event_ids"]) == 2
    delivered(sandbox)
    assert [e["event"] for e in receiver.events()] == ["task.updated", "task.completed"]
    assert control(sandbox, "/sandbox/events", {"event": "prospect.exploded", "id": 1}).status_code == 400
    assert control(sandbox, "/sandbox/events", {"event": "mailing.replied", "id": 99999}).status_code == 404
    missing_id = control(sandbox, "/sandbox/events", {"event": "mailing.replied"})
    assert missing_id.status_code == 400 and "'id'" in missing_id.text


def test_no_secret_no_signature_header(conn, sandbox, receiver):
    subscribe(conn, receiver.url, secret=None)
    conn.call("update_prospect", {"prospect_id": 2, "attributes": {"title": "x"}})
    delivered(sandbox)
    [(headers, _)] = receiver.deliveries
    assert "Outreach-Webhook-Signature" not in headers and headers["Outreach-Webhook-Event-Id"]


@pytest.mark.parametrize("status", [500, 404, 200])
def test_an_http_answer_is_never_retried(conn, sandbox, receiver, status):
    receiver.status = status
    subscribe(conn, receiver.url)
    conn.call("update_prospect", {"prospect_id": 2, "attributes": {"title": "x"}})
    delivered(sandbox)
    assert len(receiver.deliveries) == 1
    assert [(d.attempts, d.status) for d in sandbox.webhooks.log] == [(1, status)]


def test_a_network_failure_is_retried_three_times(conn, sandbox):
    with socket.socket() as probe:  # a port with nobody listening: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subscribe(conn, f"http://127.0.0.1:{port}/gone")
    conn.call("update_prospect", {"prospect_id": 2, "attributes": {"title": "x"}})
    delivered(sandbox)
    [delivery] = sandbox.webhooks.log
    assert (delivery.attempts, delivery.status, delivery.error) == (4, None, "ConnectError")


def test_a_delivery_never_delays_the_api_answer(conn, sandbox, receiver):
    receiver.hold = threading.Event()
    subscribe(conn, receiver.url)
    answer = conn.call("update_prospect", {"prospect_id": 2, "attributes": {"title": "x"}})
    assert answer["data"]["attributes"]["title"] == "x"
    assert not sandbox.webhooks.wait_idle(0)  # the API answered while its delivery is still held
    receiver.hold.set()
    delivered(sandbox)
    assert len(receiver.deliveries) == 1


def test_redeliver_sends_the_same_event_id_again(conn, sandbox, receiver):
    hook = subscribe(conn, receiver.url)
    conn.call("update_prospect", {"prospect_id": 2, "attributes": {"title": "first"}})
    conn.call("update_prospect", {"prospect_id": 2, "attributes": {"title": "second"}})
    delivered(sandbox)
    first, second = receiver.events()
    answer = control(sandbox, f"/sandbox/webhooks/{hook}/redeliver", {})
    assert answer.status_code == 202 and answer.json()["event_id"] == second["id"]  # default: the last one
    assert control(sandbox, f"/sandbox/webhooks/{hook}/redeliver", {"event_id": first["id"]}).status_code == 202
    delivered(sandbox)
    again_second, again_first = receiver.events()[2:]
    assert (again_second["id"], again_first["id"]) == (second["id"], first["id"])
    assert again_first["attributes"] == first["attributes"]
    for headers, body in receiver.deliveries:
        webhooks.verify(SECRET, body, headers)
    assert control(sandbox, f"/sandbox/webhooks/{hook}/redeliver", {"event_id": "nope"}).status_code == 404
    assert control(sandbox, "/sandbox/webhooks/999/redeliver", {}).status_code == 404


def test_the_delivery_thread_ends_when_idle_and_a_new_one_starts(conn, sandbox, receiver, monkeypatch):
    monkeypatch.setattr(sandbox_webhooks, "IDLE_SECONDS", 0.01)
    subscribe(conn, receiver.url)
    conn.call("update_prospect", {"prospect_id": 2, "attributes": {"title": "one"}})
    delivered(sandbox)
    wait_until(lambda: sandbox.webhooks._thread is None, 30, "an idle sandbox holds no thread")
    conn.call("update_prospect", {"prospect_id": 2, "attributes": {"title": "two"}})
    delivered(sandbox)
    assert [e["attributes"]["title"] for e in receiver.events()] == ["one", "two"]


def test_a_webhook_carries_a_cleanup_token_that_removes_it_without_an_access_token(conn, sandbox):
    made = conn.call("create_webhook", {"attributes": {"url": "https://host.example/hooks", "secret": SECRET}})
    token = made["data"]["attributes"]["cleanupToken"]
    assert isinstance(token, str) and len(token) >= 32
    with httpx.Client(transport=sandbox.transport(), base_url=BASE) as anonymous:  # no Authorization header
        assert anonymous.post("/webhooks/cleanup", json={"cleanupToken": "not-it"}).status_code == 404
        assert anonymous.post("/webhooks/cleanup", json={}).status_code == 400
        assert anonymous.post("/webhooks/cleanup", json={"cleanupToken": token}).status_code == 204
        assert anonymous.post("/webhooks/cleanup", json={"cleanupToken": token}).status_code == 404
    assert sandbox.store.get("webhook", made["data"]["id"]) is None


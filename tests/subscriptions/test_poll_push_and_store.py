"""Poll mode, pushes to a callback, a webhook Outreach disabled, retention, and a store that fails while
receiving; the store parts on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from outreach_connector.server import subscription_store, trigger_tasks
from outreach_connector.server.store_sql import StoreUnavailable
from outreach_sandbox import Sandbox, SandboxConfig

from .harness import OTHER_KEY, LiveConnector, authenticate, outreach_client
from .receiver import Receiver, wait_until
from .test_webhook_subscriptions import read, subscribe


def wall_clock_sandbox() -> Sandbox:
    """Its timestamps are real time, as Outreach's are: a poll from 'now' finds what is written next."""
    return Sandbox(SandboxConfig(webhook_retry_delay=0, clock=time.time))


def test_poll_mode_catches_a_change_made_while_no_webhook_existed(database):
    with LiveConnector(database, sandbox=wall_clock_sandbox(), poll_interval=1) as live, live.client() as client:
        sid = subscribe(client, authenticate(client), "prospect_updated", mode="poll")["id"]
        with live.outreach() as outreach:
            assert outreach.get("/webhooks", params={"filter[active]": "true"}).json()["data"] == []
            outreach.patch("/prospects/3", json={"data": {"type": "prospect", "id": 3,
                                                          "attributes": {"title": "Polled"}}})
        page = read(client, sid, wait=15)
        [event] = page["events"]
        assert (event["event"], event["resource"], event["attributes"]["title"]) == \
            ("prospect.updated", {"type": "prospect", "id": 3}, "Polled")
        store = live.app.state.services.store
        found_by = subscription_store.fetch(store, sid)["poll_due"]  # the poll that found it was claimed by then
        wait_until(lambda: subscription_store.fetch(store, sid)["poll_due"] >= found_by + 2, 15,
                   "two more polls")  # the second one claimed: the first of them has stored what it found
        assert read(client, sid, after=page["next_after"])["events"] == []  # the bookmark kept the change out
        shown = client.get(f"/subscriptions/{sid}").json()
        assert shown["mode"] == "poll" and shown["webhook_id"] is None and shown["last_error"] is None


def test_a_poll_after_downtime_fills_the_gap_from_the_stored_bookmark(tmp_path):
    sandbox = wall_clock_sandbox()
    with LiveConnector(tmp_path / "s.db", sandbox=sandbox, poll_interval=1) as live, live.client() as client:
        sid = subscribe(client, authenticate(client), "prospect_updated", mode="poll")["id"]
        made = subscription_store.fetch(live.app.state.services.store, sid)["bookmark"]
        wait_until(lambda: subscription_store.fetch(live.app.state.services.store, sid)["bookmark"] != made, 15,
                   "a poll storing its bookmark")
    with outreach_client(sandbox) as outreach:  # while we are down
        outreach.patch("/prospects/5", json={"data": {"type": "prospect", "id": 5, "attributes": {"title": "Gap"}}})
    with LiveConnector(tmp_path / "s.db", sandbox=sandbox, poll_interval=1) as live, live.client() as client:
        [event] = read(client, sid, wait=15)["events"]
        assert event["resource"]["id"] == 5 and event["attributes"]["title"] == "Gap"


def signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    stamp, _, digest = headers["X-Outreach-Connector-Signature"].partition(",sha256=")
    t = stamp.removeprefix("t=")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, digest) and abs(time.time() - int(t)) < 60


def test_events_are_pushed_in_order_signed_with_the_delivery_secret(database):
    callback = Receiver()
    try:
        with LiveConnector(database, allowed_callback_urls=(callback.url,)) as live, live.client() as client:
            made = subscribe(client, authenticate(client), "prospect_updated", callback_url=callback.url)
            assert made["delivery_secret"] and made["status"] == "active"
            with live.outreach() as outreach:
                for title in ("one", "two", "three"):
                    outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2,
                                                                  "attributes": {"title": title}}})
            callback.wait_for(3)
            pushed = [json.loads(body) for _, body in callback.deliveries]
            assert [e["attributes"]["title"] for e in pushed] == ["one", "two", "three"]
            assert pushed == read(client, made["id"])["events"]  # the same events the long poll reads
            assert all(signed_by(made["delivery_secret"], headers, body) for headers, body in callback.deliveries)
            assert not signed_by("another-secret", *callback.deliveries[0])
    finally:
        callback.close()


def test_a_failed_push_is_retried_in_order_until_the_callback_takes_it(tmp_path, monkeypatch):
    monkeypatch.setattr(trigger_tasks, "FIRST_RETRY_SECONDS", 0.2)
    callback = Receiver(statuses=[500, 503])  # the first two answers fail, then 200
    try:
        with LiveConnector(tmp_path / "s.db", allowed_callback_urls=(callback.url,)) as live, live.client() as client:
            sid = subscribe(client, authenticate(client), "prospect_updated", callback_url=callback.url)["id"]
            with live.outreach() as outreach:
                for title in ("first", "second"):
                    outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2,
                                                                  "attributes": {"title": title}}})
            callback.wait_for(4)
            titles = [json.loads(body)["attributes"]["title"] for _, body in callback.deliveries]
            assert titles == ["first", "first", "first", "second"]  # the same event until it is taken
            wait_until(lambda: client.get(f"/subscriptions/{sid}").json()["last_error"] is None, 10,
                       "the push error cleared once a push succeeded")  # cleared after the callback's answer
    finally:
        callback.close()


def test_pushes_failing_past_the_retry_window_mark_delivery_failed_and_events_stay_readable(tmp_path, monkeypatch):
    monkeypatch.setattr(trigger_tasks, "FIRST_RETRY_SECONDS", 0.1)
    callback = Receiver(statuses=[500] * 1000)
    try:
        with LiveConnector(tmp_path / "s.db", allowed_callback_urls=(callback.url,),
                           delivery_retry_hours=0.0002) as live, live.client() as client:  # 0.72 s
            sid = subscribe(client, authenticate(client), "prospect_updated", callback_url=callback.url)["id"]
            with live.outreach() as outreach:
                outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2,
                                                              "attributes": {"title": "lost?"}}})
            wait_until(lambda: client.get(f"/subscriptions/{sid}").json()["status"] == "delivery_failed", 20,
                       "delivery_failed")
            shown = client.get(f"/subscriptions/{sid}").json()
            assert "HTTP 500" in shown["last_error"]
            assert [e["attributes"]["title"] for e in read(client, sid)["events"]] == ["lost?"]
            assert subscription_store.next_due(live.app.state.services.store)[1] is None  # no push is due, ever
            with live.outreach() as outreach:
                outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2,
                                                              "attributes": {"title": "meanwhile"}}})
            callback.statuses.clear()  # the callback is back
            tried = len(callback.deliveries)
            resumed = client.post(f"/subscriptions/{sid}/resume")
            assert resumed.status_code == 200 and (resumed.json()["status"], resumed.json()["last_error"]) == \
                ("active", None)
            callback.wait_for(tried + 2)
            titles = [json.loads(body)["attributes"]["title"] for _, body in callback.deliveries[tried:]]
            assert titles == ["lost?", "meanwhile"]  # from the first event it did not take, in order
    finally:
        callback.close()


def test_a_webhook_outreach_disabled_shows_in_the_status_and_can_be_enabled_again(tmp_path):
    with LiveConnector(tmp_path / "s.db", poll_interval=1) as live, live.client() as client:
        sid = subscribe(client, authenticate(client), "prospect_updated")["id"]
        hook = client.get(f"/subscriptions/{sid}").json()["webhook_id"]
        with live.outreach() as outreach:
            assert outreach.patch(f"/webhooks/{hook}", json={"data": {"type": "webhook", "id": hook, "attributes": {
                "active": False}}}).status_code == 200
        wait_until(lambda: client.get(f"/subscriptions/{sid}").json()["status"] == "webhook_disabled", 15,
                   "the disabled webhook shown")
        assert client.get(f"/subscriptions/{sid}").json()["last_error"].startswith("webhook disabled")
        enabled = client.post(f"/subscriptions/{sid}/enable")
        assert enabled.status_code == 200 and enabled.json()["status"] == "active"
        with live.outreach() as outreach:
            assert outreach.get(f"/webhooks/{hook}").json()["data"]["attributes"]["active"] is True
            outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2, "attributes": {"title": "on"}}})
        assert read(client, sid, wait=10)["events"][0]["attributes"]["title"] == "on"


def test_events_past_the_retention_are_deleted_and_an_older_cursor_is_410(database):
    with LiveConnector(database) as live, live.client() as client:
        sid = subscribe(client, authenticate(client), "prospect_updated")["id"]
        with live.outreach() as outreach:
            outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2, "attributes": {"title": "a"}}})
        first = read(client, sid, wait=10)
        store = live.app.state.services.store
        assert subscription_store.purge(store, time.time() + 1) == 1
        with live.outreach() as outreach:
            outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2, "attributes": {"title": "b"}}})
        later = read(client, sid, after=first["next_after"], wait=10)
        assert [e["attributes"]["title"] for e in later["events"]] == ["b"]
        gone = client.get(f"/subscriptions/{sid}/events")
        assert gone.status_code == 200  # no cursor: from the oldest kept
        assert [e["attributes"]["title"] for e in gone.json()["events"]] == ["b"]


def test_a_cursor_older_than_the_retention_is_410(tmp_path):
    with LiveConnector(tmp_path / "s.db") as live, live.client() as client:
        sid = subscribe(client, authenticate(client), "prospect_updated")["id"]
        with live.outreach() as outreach:
            for title in ("a", "b"):
                outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2,
                                                              "attributes": {"title": title}}})
        live.delivered()
        first = read(client, sid, limit=1)
        assert subscription_store.purge(live.app.state.services.store, time.time() + 1) == 2
        gone = client.get(f"/subscriptions/{sid}/events", params={"after": first["next_after"]})
        assert gone.status_code == 410 and "--event-retention-days" in gone.json()["message"]


def test_a_delivery_the_store_cannot_take_drops_the_connection_and_the_retry_is_stored_once(database, monkeypatch):
    real_add, failures = subscription_store.add_deliveries, [1]

    def failing_once(*args, **kwargs):
        if failures:
            failures.pop()
            raise StoreUnavailable(OSError("disk gone"))
        return real_add(*args, **kwargs)

    monkeypatch.setattr(subscription_store, "add_deliveries", failing_once)
    with LiveConnector(database) as live, live.client() as client:
        sid = subscribe(client, authenticate(client), "prospect_updated")["id"]
        with live.outreach() as outreach:
            outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2, "attributes": {"title": "x"}}})
        live.delivered()
        [delivery] = live.sandbox.webhooks.log
        assert (delivery.attempts, delivery.status) == (2, 200)  # the first try saw no answer at all
        assert len(read(client, sid)["events"]) == 1


@pytest.mark.parametrize("query, message", [({"limit": "1001"}, "limit"), ({"wait": "31"}, "wait"),
                                            ({"wait": "nan"}, "wait"), ({"after": "abc"}, "after")])
def test_bad_event_queries_are_400_naming_the_parameter(tmp_path, query, message):
    with LiveConnector(tmp_path / "s.db") as live, live.client() as client:
        sid = subscribe(client, authenticate(client), "prospect_updated")["id"]
        answer = client.get(f"/subscriptions/{sid}/events", params=query)
        assert answer.status_code == 400 and message in answer.json()["message"]


def test_resume_needs_a_callback_and_the_tenants_own_subscription(tmp_path):
    with LiveConnector(tmp_path / "s.db") as live, live.client() as client, live.client(OTHER_KEY) as other:
        sid = subscribe(client, authenticate(client), "prospect_updated")["id"]
        answer = client.post(f"/subscriptions/{sid}/resume")
        assert answer.status_code == 400 and "callback_url" in answer.json()["message"]
        assert other.post(f"/subscriptions/{sid}/resume").status_code == 404


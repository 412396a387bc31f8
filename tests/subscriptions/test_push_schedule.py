"""The pusher's schedule on a clock the test moves: a callback down for an hour, then up, gets every event in
order and none twice; the background loop sleeps until something is due and looks for pushes only when
there can be one. The rounds run as serve runs them (``TriggerTasks.once``), on the real store."""
from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest

from outreach_connector.server import subscription_store
from outreach_connector.server.opening import open_store
from outreach_connector.server.secrets_box import generate_key_text
from outreach_connector.server.subscriptions import Arrivals
from outreach_connector.server.trigger_tasks import TriggerTasks
from tests.clocks import ManualClock

HOUR = 3600.0
# Offsets of the tries while the callback is down: the first retry after 5 s, then after as long again as it
# has been failing, at most 10 minutes apart.
DOWN_FOR_AN_HOUR = [0, 5, 10, 20, 40, 80, 160, 320, 640, 1240, 1840, 2440, 3040]


class Callback:
    """The host's endpoint on httpx.MockTransport: refuses connections while ``down``; notes every try."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock, self.down = clock, True
        self.tries: list[tuple[float, str, bool]] = []  # when, event id, taken

    def __call__(self, request: httpx.Request) -> httpx.Response:
        event_id = json.loads(request.content)["id"]
        self.tries.append((self.clock.now, event_id, not self.down))
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200)

    def taken(self) -> list[str]:
        return [event_id for _, event_id, taken in self.tries if taken]


@pytest.fixture
def setup(database):
    store = open_store(database, generate_key_text())
    clock = ManualClock(float(int(time.time())))  # whole seconds: every due time the pusher computes is exact
    callback = Callback(clock)
    settings = SimpleNamespace(poll_interval=60.0, event_retention_days=7.0, delivery_retry_hours=24.0)
    arrivals = Arrivals()
    tasks = TriggerTasks(SimpleNamespace(store=store, settings=settings, pool=None), arrivals,
                         httpx.AsyncClient(transport=httpx.MockTransport(callback)), clock=clock)
    yield SimpleNamespace(store=store, clock=clock, callback=callback, arrivals=arrivals, tasks=tasks)
    store.close()


def subscription(store, clock: ManualClock, callback_url: str | None = "https://host.example/events") -> str:
    sid = str(uuid.uuid4())
    row = {"id": sid, "owner": "tenant", "auth_id": str(uuid.uuid4()), "trigger_name": "prospect_updated",
           "input": "{}", "mode": "webhook", "callback_url": callback_url, "status": "active",
           "created_at": subscription_store.precise_time_now(store), "poll_due": clock.now + 30 * 86400}
    assert subscription_store.insert(store, row, {"webhook_secret": "whsec", "delivery_secret": "dsec"})
    return sid


def store_events(setup, sid: str, *ids: str) -> None:
    """As the receiver stores them: committed, then the pusher woken."""
    events = [{"id": i, "event": "prospect.updated", "attributes": {"title": i}} for i in ids]
    assert subscription_store.add_events(setup.store, sid, events) == len(ids)
    setup.arrivals.stored(sid, push=True)


async def run_until(setup, until: float) -> None:
    """Rounds as serve's loop runs them: each sleeps what ``once`` says (an arrival cuts the sleep short)."""
    while setup.clock.now < until:
        wait = await setup.tasks.once()
        if not setup.arrivals.any.is_set():
            setup.clock.now += wait


@pytest.mark.anyio
async def test_a_callback_down_for_an_hour_gets_every_event_afterwards_in_order_none_twice(setup, monkeypatch):
    claims = []
    real_claim = subscription_store.claim_pushes
    monkeypatch.setattr(subscription_store, "claim_pushes", lambda *a: claims.append(a[1]) or real_claim(*a))
    start = setup.clock.now
    sid = subscription(setup.store, setup.clock)
    store_events(setup, sid, "e1", "e2")
    await run_until(setup, start + 1000)
    store_events(setup, sid, "e3")  # arrives while the callback is down: waits behind e1
    await run_until(setup, start + HOUR)
    down = [(when - start, event_id) for when, event_id, _ in setup.callback.tries]
    assert down == [(offset, "e1") for offset in DOWN_FOR_AN_HOUR]  # the same first event, on the schedule
    shown = subscription_store.fetch(setup.store, sid)
    assert shown["status"] == "active" and shown["last_error"] == "push failed: ConnectError"
    assert len(claims) == len(DOWN_FOR_AN_HOUR) + 1  # a look when due (and at e3's arrival), not every tick

    setup.callback.down = False  # the callback is back: at the next retry, 10 minutes at most, all of it
    store_events(setup, sid, "e4")
    await run_until(setup, start + HOUR + 600)
    assert setup.callback.taken() == ["e1", "e2", "e3", "e4"]
    [(back_at, _, _)] = [t for t in setup.callback.tries if t[2] and t[1] == "e1"]
    assert back_at - start == 3640
    shown = subscription_store.fetch(setup.store, sid)
    assert (shown["status"], shown["last_error"], shown["failing_since"], shown["delivery_due"]) == \
        ("active", None, None, None)


@pytest.mark.anyio
async def test_the_loop_looks_for_pushes_only_when_one_can_be_due(setup, monkeypatch):
    claims = []
    real_claim = subscription_store.claim_pushes
    monkeypatch.setattr(subscription_store, "claim_pushes", lambda *a: claims.append(a[1]) or real_claim(*a))
    subscription(setup.store, setup.clock, callback_url=None)
    assert await setup.tasks.once() == 60.0  # nothing due before the purge and the poll interval
    assert len(claims) == 1  # the first round looks (another replica may have left pushes behind)
    setup.clock.now += 60.0
    assert await setup.tasks.once() == 60.0
    assert len(claims) == 1  # nothing has a callback: no look
    pushing = subscription(setup.store, setup.clock)
    store_events(setup, pushing, "e1")  # an event for a callback wakes the loop, which looks at once
    setup.callback.down = False
    assert await setup.tasks.once() == 60.0
    assert len(claims) == 2 and setup.callback.taken() == ["e1"]
    assert subscription_store.next_due(setup.store)[1] is None  # all taken: no push is due


@pytest.mark.anyio
async def test_a_failed_push_sleeps_until_its_retry(setup):
    sid = subscription(setup.store, setup.clock)
    store_events(setup, sid, "e1")
    assert await setup.tasks.once() == 5.0  # the first retry, 5 s on
    assert subscription_store.fetch(setup.store, sid)["delivery_due"] == setup.clock.now + 5

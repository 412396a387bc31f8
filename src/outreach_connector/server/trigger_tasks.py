"""The background work of triggers in ``serve``: polls, webhook checks, pushes to callbacks, retention.

* Every ``--poll-interval`` seconds each subscription is due once (claimed by one replica: see
  ``subscription_store._claim``). A poll-mode subscription lists what changed since its stored bookmark
  (``triggers.apoll``) and stores the events and the new bookmark in one transaction, so a server that was
  down continues where it stopped and fills the gap. A webhook-mode one reads its Outreach webhook: a webhook
  Outreach disabled shows as ``webhook_disabled`` (``POST /subscriptions/{id}/enable`` turns it back on).
* Pushes: a subscription with a ``callback_url`` and events not yet pushed is leased to one replica, which
  POSTs them one by one, in order, signed (``X-Outreach-Connector-Signature: t=<unix>,sha256=<hex HMAC of
  "<t>.<body>">``). A failure (no 2xx answer) waits and retries the same event: first after
  ``FIRST_RETRY_SECONDS``, then after as long again as it has been failing (the waits double), at most
  ``MAX_RETRY_WAIT_SECONDS``; after ``--delivery-retry-hours`` the subscription shows ``delivery_failed`` and
  pushes stop (its events stay readable by long poll); ``POST /subscriptions/{id}/resume`` starts them again
  from the first event not pushed.
* Retention: events older than ``--event-retention-days`` are deleted once a minute.

Between rounds the loop sleeps until the next thing the database says is due (a poll, a push's retry time, a
purge), at most ``--poll-interval``; an event stored here for a subscription with a callback wakes it at once.
A server without callbacks does not look for pushes at all until one has an event.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import time
from typing import Any, Callable

import httpx
from starlette.concurrency import run_in_threadpool

from . import subscription_store as rows
from ..triggers import apoll

logger = logging.getLogger("outreach_connector.server.triggers")

PUSH_SIGNATURE_HEADER = "X-Outreach-Connector-Signature"
RETRY_ROUND_SECONDS = 0.5  # after a round that failed (store down), or one that found due work it could not take
CLAIM_BATCH = 20  # subscriptions one replica takes per look
POLL_EVENTS = 1000  # events one poll stores; more: the subscription is due again at once
PUSH_LEASE_SECONDS = 60.0
PUSH_TIMEOUT_SECONDS = 10.0
PUSH_BATCH = 100
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_WAIT_SECONDS = 600.0
RETENTION_EVERY_SECONDS = 60.0


def push_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Outreach-Connector-Signature`` value of one push."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={digest}"


def retry_wait(failing_for: float) -> float:
    """How long to wait before the next try, having failed for ``failing_for`` seconds."""
    return min(MAX_RETRY_WAIT_SECONDS, max(FIRST_RETRY_SECONDS, failing_for))


class TriggerTasks:
    """``clock`` (Unix seconds) is every time this work reads, so a test can run hours of it in a moment."""

    def __init__(self, services: Any, arrivals: Any, client: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._services = services
        self._settings = services.settings
        self._arrivals = arrivals
        self._client = client or httpx.AsyncClient(timeout=PUSH_TIMEOUT_SECONDS, follow_redirects=False)
        self._clock = clock
        self._last_purge = 0.0
        self._polls_due = self._pushes_due = 0.0  # nothing known yet: look at once

    async def run_forever(self) -> None:
        while True:
            try:
                wait = await self.once()
            except Exception as exc:  # noqa: BLE001 - a failed round (store down) must not end the loop
                logger.warning("triggers: a round failed (%s)", type(exc).__name__)
                wait = RETRY_ROUND_SECONDS
            await self.sleep(wait)

    async def sleep(self, seconds: float) -> None:
        """Until ``seconds`` pass or an event for a callback is stored here, whichever comes first."""
        try:
            await asyncio.wait_for(self._arrivals.any.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def once(self) -> float:
        """One round: due polls and checks, pushes (when due or an event for a callback arrived), retention when
        it is time. Returns how long nothing is due, which the loop sleeps unless an arrival wakes it."""
        now, store = self._clock(), self._services.store
        arrived = self._arrivals.any.is_set()
        self._arrivals.any.clear()  # before claiming: an event stored from here on wakes the next round
        claimed = 0
        if now >= self._polls_due:
            due = await run_in_threadpool(rows.claim_polls, store, now, self._settings.poll_interval, CLAIM_BATCH)
            await asyncio.gather(*(self.poll_one(row) if row["mode"] == "poll" else self.check_webhook(row)
                                   for row in due))
            claimed += len(due)
        if arrived or now >= self._pushes_due:
            pushes = await run_in_threadpool(rows.claim_pushes, store, now, PUSH_LEASE_SECONDS, CLAIM_BATCH)
            await asyncio.gather(*(self.push_some(row) for row in pushes))
            claimed += len(pushes)
        if now - self._last_purge >= RETENTION_EVERY_SECONDS:
            self._last_purge = now
            await run_in_threadpool(rows.purge, store, now - self._settings.event_retention_days * 86400)
        return await self.plan(now, claimed)

    async def plan(self, now: float, claimed: int) -> float:
        """Seconds until the next poll, check, push or purge is due. Never longer than ``--poll-interval``: a
        subscription made meanwhile (here or on another replica) is first due that long after it was made."""
        polls, pushes = await run_in_threadpool(rows.next_due, self._services.store)
        self._polls_due = math.inf if polls is None else polls
        self._pushes_due = math.inf if pushes is None else pushes
        wake = min(self._polls_due, self._pushes_due, self._last_purge + RETENTION_EVERY_SECONDS,
                   now + self._settings.poll_interval)
        wait = wake - self._clock()
        if wait <= 0 and not claimed:  # due, yet another replica holds it: look again shortly, not at once
            return RETRY_ROUND_SECONDS
        return max(0.0, wait)

    async def poll_one(self, row: dict[str, Any]) -> int:
        """Poll one subscription from its bookmark; how many new events were stored."""
        store, sid = self._services.store, row["id"]
        try:
            connector = await self._services.pool.get(row["auth_id"], row["owner"])
            events, bookmark = await apoll(connector, row["trigger_name"], json.loads(row["input"]),
                                           since=row["bookmark"], limit=POLL_EVENTS)
        except Exception as exc:  # noqa: BLE001 - Outreach or the authentication failed: say so, try next time
            message = getattr(exc, "message", None) or type(exc).__name__
            await run_in_threadpool(rows.update, store, sid, last_error=f"poll failed: {str(message)[:300]}")
            logger.warning("subscription %s: the poll failed (%s)", sid, type(exc).__name__)
            return 0
        extra: dict[str, Any] = {"bookmark": bookmark, "last_error": None}
        if len(events) >= POLL_EVENTS:
            extra["poll_due"] = self._clock()  # more are waiting: continue at the next round
        added = await run_in_threadpool(rows.add_events, store, sid, events, extra)
        if added:
            self._arrivals.stored(sid, push=row["callback_url"] is not None)
        return added

    async def check_webhook(self, row: dict[str, Any]) -> str:
        """Read the subscription's Outreach webhook and show whether Outreach disabled it."""
        store, sid = self._services.store, row["id"]
        if row["webhook_id"] is None:
            return row["status"]
        try:
            connector = await self._services.pool.get(row["auth_id"], row["owner"])
            hook = await connector.acall("get_webhook", {"webhook_id": int(row["webhook_id"])})
            attributes = hook["data"]["attributes"]
        except Exception as exc:  # noqa: BLE001 - the check is advisory: try again next interval
            logger.warning("subscription %s: the webhook check failed (%s)", sid, type(exc).__name__)
            return row["status"]
        if attributes.get("active") is False and row["status"] == "active":
            reason = attributes.get("disabledReason") or "Outreach disabled the webhook"
            await run_in_threadpool(rows.update, store, sid, status="webhook_disabled",
                                    last_error=f"webhook disabled: {str(reason)[:300]}")
            logger.warning("subscription %s: Outreach disabled its webhook", sid)
            return "webhook_disabled"
        return row["status"]

    async def push_some(self, row: dict[str, Any]) -> int:
        """Push the subscription's next events in order until one fails or the lease runs short; how many
        were pushed. Ends the lease."""
        store, sid = self._services.store, row["id"]
        started, pushed = time.monotonic(), 0  # the lease's length is real time, whatever the clock says
        try:
            secret = rows.secrets_of(store, row)["delivery_secret"]
            pending = await run_in_threadpool(rows.read_events, store, sid, row["delivered_through"], PUSH_BATCH)
            for seq, body in pending:
                error = await self.push(row["callback_url"], secret, body.encode())
                if error is not None:
                    await run_in_threadpool(self.failed, row, error)
                    return pushed
                pushed += 1
                await run_in_threadpool(rows.pushed, store, sid, seq)
                if time.monotonic() - started > PUSH_LEASE_SECONDS / 2:
                    break
        finally:
            await run_in_threadpool(rows.update, store, sid, delivery_lease=None)
        return pushed

    async def push(self, url: str, secret: str, body: bytes) -> str | None:
        """POST one event; None when the callback answered 2xx, else what went wrong."""
        headers = {"Content-Type": "application/json",
                   PUSH_SIGNATURE_HEADER: push_signature(secret, body, int(self._clock()))}
        try:
            answer = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return type(exc).__name__
        return None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"

    def failed(self, row: dict[str, Any], error: str) -> None:
        now = self._clock()
        since = row["failing_since"] or now
        if now - since >= self._settings.delivery_retry_hours * 3600:
            rows.update(self._services.store, row["id"], status="delivery_failed",
                        last_error=f"push failed for {self._settings.delivery_retry_hours:g} hours: {error}")
            logger.warning("subscription %s: pushes failed for %g hours; delivery_failed", row["id"],
                           self._settings.delivery_retry_hours)
            return
        rows.update(self._services.store, row["id"], failing_since=since, delivery_due=now + retry_wait(now - since),
                    last_error=f"push failed: {error}")

    async def aclose(self) -> None:
        await self._client.aclose()


def start(services: Any, arrivals: Any) -> tuple[asyncio.Task, TriggerTasks]:
    tasks = TriggerTasks(services, arrivals)
    return asyncio.get_running_loop().create_task(tasks.run_forever(), name="triggers"), tasks


async def stop(running: tuple[asyncio.Task, TriggerTasks]) -> None:
    task, tasks = running
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    await tasks.aclose()

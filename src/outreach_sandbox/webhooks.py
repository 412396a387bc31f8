"""Webhook deliveries, as Outreach makes them (the project's reference notes on webhooks).

Every write through the API (created, updated, destroyed; member actions are updates) and every simulated
activity (``POST /sandbox/events``) becomes an event, delivered to each active webhook whose ``resource`` and
``action`` match (``*`` matches all): a JSON:API body ``{"data": {"type", "id", "attributes",
"relationships"}, "meta": {"eventName", "deliveredAt", "jobId"}}`` with FLAT relationships (``{"owner":
{"type": "owner", "id": 5}}``: ``type`` holds the relationship's name), created and updated carrying only the
created or changed attributes, destroyed the last known ones. Headers: ``Outreach-Webhook-Id``,
``Outreach-Webhook-Event-Id`` (one per event, kept on redelivery), ``Outreach-Org-Id`` and, when the webhook has
a secret, ``Outreach-Webhook-Signature`` (hex HMAC-SHA256 of the body).

A created webhook carries a ``cleanupToken``; ``POST /api/v2/webhooks/cleanup`` ``{"cleanupToken"}`` removes it
with no access token (the reference: the way out once the app's access was revoked; the body's form is our guess).

An HTTP answer, whatever its status, ends a delivery; a network failure is retried up to 3 times, 1 s apart
(``SandboxConfig.webhook_retry_delay``). Redirects are not followed. Deliveries run on one background thread,
so they never delay the API's answer; ``wait_idle`` lets tests wait for them.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import queue
import secrets
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from .render import Renderer
from .store import Record, Store

RETRIES = 3
TIMEOUT_SECONDS = 5.0  # Outreach expects an answer within 5 s
KEPT_EVENTS = 100  # per webhook, for redelivery
KEPT_LOG = 1000
IDLE_SECONDS = 2.0
CRUD = ("created", "updated", "destroyed")
# The events Outreach's webhooks send, by resource; writes to other types deliver nothing.
EVENTS = {"account": CRUD, "call": CRUD, "emailAddress": CRUD, "opportunity": CRUD, "opportunityProspectRole": CRUD,
          "prospect": CRUD, "sequence": CRUD, "mailing": (*CRUD, "bounced", "delivered", "opened", "replied"),
          "sequenceState": (*CRUD, "advanced", "finished"), "task": (*CRUD, "completed"),
          "import": ("created", "finished"), "kaiaRecording": ("created",), "user": ("created", "updated")}
# An update that moves ``state`` to one of these is also this event (a mailing replied, a task completed...).
STATE_EVENTS = {("mailing", "bounced"): "bounced", ("mailing", "delivered"): "delivered",
                ("mailing", "opened"): "opened", ("mailing", "replied"): "replied",
                ("sequenceState", "finished"): "finished", ("task", "complete"): "completed"}
# What a simulated activity changes on its record before it is delivered.
SIMULATED: dict[str, dict[str, Any]] = {
    "mailing.bounced": {"state": "bounced", "bouncedAt": None},
    "mailing.delivered": {"state": "delivered", "deliveredAt": None},
    "mailing.opened": {"state": "opened", "openedAt": None},
    "mailing.replied": {"state": "replied", "repliedAt": None},
    "sequenceState.finished": {"state": "finished", "stateChangedAt": None},
    "sequenceState.advanced": {"stateChangedAt": None},
    "task.completed": {"state": "complete", "completed": True, "completedAt": None},
}


@dataclass(frozen=True)
class Event:
    """One Outreach event: its id (the event id header) and the document delivered (``deliveredAt`` aside)."""

    id: str
    name: str
    data: dict[str, Any]


@dataclass
class Delivery:
    """One attempt chain to one webhook: ``status`` is the HTTP answer, or None after a network failure."""

    webhook_id: int
    event_id: str
    event_name: str
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def flat_relationships(rendered: dict[str, Any]) -> dict[str, Any]:
    """Rendered ``{"owner": {"data": {"type": "user", "id": 5}}}`` -> Outreach's webhook form ``{"owner":
    {"type": "owner", "id": 5}}``; to-one only (to-many and links-only ones are not sent)."""
    flat: dict[str, Any] = {}
    for name, value in (rendered.get("relationships") or {}).items():
        data = value.get("data", ...) if isinstance(value, dict) else ...
        if data is None:
            flat[name] = None
        elif isinstance(data, dict):
            flat[name] = {"type": name, "id": data["id"]}
    return flat


def event_data(rendered: dict[str, Any], action: str, changed: set[str] | None) -> dict[str, Any]:
    """The ``data`` of an event: created -> the attributes set, updated -> the changed ones, else all."""
    attributes = rendered.get("attributes") or {}
    if action == "created":
        attributes = {k: v for k, v in attributes.items() if v is not None}
    elif changed is not None:
        attributes = {k: v for k, v in attributes.items() if k in changed}
    return {"type": rendered["type"], "id": rendered["id"], "attributes": attributes,
            "relationships": flat_relationships(rendered)}


def state_event(type_name: str, before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """The special action an update is as well (``replied``...), when it moved ``state``."""
    state = after.get("state")
    if not isinstance(state, str) or state == before.get("state"):
        return None
    return STATE_EVENTS.get((type_name, state))


def new_cleanup_token() -> str:
    """What a new webhook carries as ``cleanupToken``: removes it through ``POST /webhooks/cleanup``."""
    return secrets.token_urlsafe(24)


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhooks:
    """Finds the webhooks an event goes to and delivers it on a background thread."""

    def __init__(self, store: Store, renderer: Renderer, org_id: str, retry_delay: float,
                 transport: httpx.BaseTransport | None = None):
        self.store = store
        self.renderer = renderer
        self.org_id = org_id
        self.retry_delay = retry_delay
        self.transport = transport
        self.log: deque[Delivery] = deque(maxlen=KEPT_LOG)
        self._sent: dict[int, deque[Event]] = {}  # webhook id -> its last events, newest last
        self._queue: queue.Queue[tuple[dict[str, Any], Event, str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Condition()
        self._pending = 0

    def reset(self) -> None:
        self.log.clear()
        self._sent.clear()

    # --------------------------------------------------------------------------- what is delivered where

    def written(self, type_name: str, action: str, before: Record | None, after: Record | None, base: str,
                now: str) -> list[Event]:
        """A write through the API: ``created``/``updated``/``destroyed`` of one record (``before`` and
        ``after`` as stored), delivered to the webhooks it matches. Nothing is rendered when none match."""
        names = [f"{type_name}.{action}"]
        if action == "updated":
            names += [f"{type_name}.{special}" for (kind, _), special in STATE_EVENTS.items() if kind == type_name]
        if not any(self.matching(name) for name in names):
            return []
        old = self.renderer.resource(type_name, before, base, None) if before is not None else None
        new = self.renderer.resource(type_name, after, base, None) if after is not None else old
        if new is None:  # neither side: nothing was written
            return []
        changed = None
        if action == "updated" and old is not None:
            changed = {k for k, v in new["attributes"].items() if old["attributes"].get(k) != v}
        sent = [self.emit(f"{type_name}.{action}", event_data(new, action, changed), now)]
        special = state_event(type_name, old["attributes"], new["attributes"]) if old and after else None
        if special:
            sent.append(self.emit(f"{type_name}.{special}", event_data(new, special, changed), now))
        return [event for event in sent if event is not None]

    def simulate(self, name: str, ident: int, base: str, now: str) -> list[Event]:
        """Simulated activity (``POST /sandbox/events``): change the record as the activity would (a reply
        sets the mailing's ``state`` and ``repliedAt``) and deliver its events as for a write (``updated``,
        then ``name``). Raises KeyError for an event it cannot simulate, LookupError for a missing record."""
        if name not in SIMULATED:
            raise KeyError(name)
        type_name = name.partition(".")[0]
        before = self.store.get(type_name, ident)
        if before is None:
            raise LookupError(ident)
        after = before.copy()
        after.attributes.update({k: now if v is None else v for k, v in SIMULATED[name].items()})
        after.attributes["updatedAt"] = now
        self.store.table(type_name).put(after)
        self.store.log_write("POST", "/sandbox/events", type_name, ident)
        sent = self.written(type_name, "updated", before, after, base, now)
        if name == "sequenceState.advanced":  # no state change tells this one: deliver it as such
            rendered = self.renderer.resource(type_name, after, base, None)
            advanced = self.emit(name, event_data(rendered, "advanced", {"stateChangedAt", "updatedAt"}), now)
            sent += [advanced] if advanced is not None else []
        return sent

    def emit(self, name: str, data: dict[str, Any], now: str) -> Event | None:
        """Deliver event ``name`` (``prospect.created``) to every matching active webhook (one event id for
        all); the caller holds the sandbox lock, so only the queueing happens here."""
        targets = self.matching(name)
        if not targets:
            return None
        event = Event(str(uuid.uuid4()), name, data)
        for webhook in targets:
            self._remember(webhook["id"], event)
            self._enqueue(webhook, event, now)
        return event

    def matching(self, name: str) -> list[dict[str, Any]]:
        resource, _, action = name.partition(".")
        if action not in EVENTS.get(resource, ()):
            return []
        found = []
        for record in self.store.records("webhook"):
            attrs = record.attributes
            if attrs.get("active") and attrs.get("url") and attrs.get("resource", "*") in ("*", resource) \
                    and attrs.get("action", "*") in ("*", action):
                found.append({"id": record.id, "url": attrs["url"], "secret": attrs.get("secret")})
        return found

    def redeliver(self, webhook_id: int, event_id: str | None, now: str) -> Event | None:
        """Send one of the webhook's events again with the same event id (the last one by default)."""
        record = self.store.get("webhook", webhook_id)
        events = self._sent.get(webhook_id) or ()
        event = next((e for e in reversed(events) if event_id in (None, e.id)), None)
        if record is None or event is None:
            return None
        attrs = record.attributes
        self._enqueue({"id": webhook_id, "url": attrs.get("url"), "secret": attrs.get("secret")}, event, now)
        return event

    def cleanup(self, token: str) -> int | None:
        """Delete the webhook that carries this cleanup token (no access token needed: it works after access
        was revoked); its id, or None when no webhook carries it."""
        for record in self.store.records("webhook"):
            held = record.attributes.get("cleanupToken")
            if isinstance(held, str) and token and hmac.compare_digest(held, token):
                self.store.table("webhook").delete(record.id)
                self.store.log_write("POST", "/webhooks/cleanup", "webhook", record.id)
                self._sent.pop(record.id, None)
                return record.id
        return None

    def _remember(self, webhook_id: int, event: Event) -> None:
        self._sent.setdefault(webhook_id, deque(maxlen=KEPT_EVENTS)).append(event)

    # --------------------------------------------------------------------------- the background sender

    def _enqueue(self, webhook: dict[str, Any], event: Event, now: str) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put((webhook, event, now))
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued delivery has ended (answered or given up); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        """Deliver what is queued; after IDLE_SECONDS with nothing to do the thread ends (the next delivery
        starts another), so an idle sandbox holds no thread."""
        with httpx.Client(transport=self.transport, timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            while True:
                try:
                    item = self._queue.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    with self._start_lock:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                try:
                    self.log.append(self._deliver(client, *item))
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, webhook: dict[str, Any], event: Event, delivered_at: str) -> Delivery:
        meta = {"eventName": event.name, "deliveredAt": delivered_at, "jobId": event.id}
        body = json.dumps({"data": event.data, "meta": meta}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/vnd.api+json", "Outreach-Org-Id": self.org_id,
                   "Outreach-Webhook-Id": str(webhook["id"]), "Outreach-Webhook-Event-Id": event.id}
        if webhook.get("secret"):
            headers["Outreach-Webhook-Signature"] = signature(webhook["secret"], body)
        delivery = Delivery(webhook["id"], event.id, event.name, headers=headers)
        while delivery.attempts <= RETRIES:
            delivery.attempts += 1
            try:
                delivery.status = client.post(webhook["url"], content=body, headers=headers).status_code
                delivery.error = None
                return delivery  # any HTTP answer counts as delivered: never retried
            except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                delivery.error = type(exc).__name__
            if delivery.attempts <= RETRIES:
                threading.Event().wait(self.retry_delay)
        return delivery

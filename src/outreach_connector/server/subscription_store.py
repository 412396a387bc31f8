"""What subscriptions to Outreach events keep in the database (schema 6), in short transactions.

* A subscription row: its tenant (``owner``), authentication, trigger and input, mode, the Outreach webhook's
  id, status and last event/error; its secrets (the webhook's signing secret, the push's delivery secret)
  sealed in ``secret`` under the context ``subscription:<id>``; the poll bookmark and when the next poll is due;
  how far pushes got (``delivered_through``) and how far retention deleted (``purged_through``).
* Events, numbered by ``seq`` in the order they were stored. Storing takes a per-subscription lock first
  (PostgreSQL: an advisory lock; SQLite: the write lock), so within one subscription a number is never
  committed after a higher one: a reader continuing after ``seq`` never skips an event committed late.
  ``(subscription_id, event_id)`` is unique: a redelivery stores nothing.
* Claims (a poll due, a push due) are one conditional UPDATE, or ``FOR UPDATE SKIP LOCKED`` on PostgreSQL:
  exactly one replica wins each.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterable

from .store import CredentialStore, precise_time

COLUMNS = ("id, owner, auth_id, trigger_name, input, mode, callback_url, secret, webhook_id, status, last_error, "
           "last_event_at, created_at, bookmark, poll_due, purged_through, delivered_through, delivery_due, "
           "delivery_lease, failing_since")
MAX_SUBSCRIPTIONS_PER_AUTHENTICATION = 100


def context(subscription_id: str) -> str:
    return f"subscription:{subscription_id}"


def insert(store: CredentialStore, row: dict[str, Any], secrets: dict[str, str]) -> bool:
    """Add a subscription; False (nothing written) when its authentication already has the most it may."""
    backend = store.backend
    row = {**row, "secret": sealed(store, row["id"], secrets)}
    names = [name for name in COLUMNS.split(", ") if name in row]
    with backend.owner_transaction(row["owner"]) as db:
        held = backend.rows(db, "SELECT count(*) AS n FROM subscriptions WHERE auth_id = ?", (row["auth_id"],))
        if held[0]["n"] >= MAX_SUBSCRIPTIONS_PER_AUTHENTICATION:
            return False
        backend.execute(db, f"INSERT INTO subscriptions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                        [row[name] for name in names])
    return True


def fetch(store: CredentialStore, subscription_id: str, owner: str | None = None) -> dict[str, Any] | None:
    """The row (another tenant's: None, as if it did not exist)."""
    backend = store.backend
    with backend.transaction() as db:
        found = backend.rows(db, f"SELECT {COLUMNS} FROM subscriptions WHERE id = ?", (subscription_id,))
    if not found or (owner is not None and found[0]["owner"] != owner):
        return None
    return found[0]


def secrets_of(store: CredentialStore, row: dict[str, Any]) -> dict[str, str]:
    """The subscription's secrets: ``webhook_secret``, ``delivery_secret``, ``cleanup_token``, those it has."""
    return store.open_values(context(row["id"]), row["secret"])


def sealed(store: CredentialStore, subscription_id: str, secrets: dict[str, str]) -> bytes:
    """The ``secret`` column holding ``secrets``, sealed for this subscription alone."""
    return store.seal_values(context(subscription_id), secrets)


def listed(store: CredentialStore, owner: str, auth_id: str | None = None) -> list[dict[str, Any]]:
    """The tenant's subscriptions (of one authentication), oldest first (an authentication holds at most
    ``MAX_SUBSCRIPTIONS_PER_AUTHENTICATION``)."""
    backend = store.backend
    where, params = "owner = ?", [owner]
    if auth_id is not None:
        where, params = where + " AND auth_id = ?", [*params, auth_id]
    with backend.transaction() as db:
        return backend.rows(db, f"SELECT {COLUMNS} FROM subscriptions WHERE {where} ORDER BY created_at, id "
                                "LIMIT ?", (*params, MAX_SUBSCRIPTIONS_PER_AUTHENTICATION))


def update(store: CredentialStore, subscription_id: str, **values: Any) -> None:
    backend = store.backend
    assignments = ", ".join(f"{name} = ?" for name in values)
    with backend.transaction() as db:
        backend.execute(db, f"UPDATE subscriptions SET {assignments} WHERE id = ?", (*values.values(), subscription_id))


# last_error without a push's error (another, such as a disabled webhook, stays); substr, not LIKE 'push%':
# psycopg would read the % as a placeholder
_PUSH_ERROR_CLEARED = "CASE WHEN substr(last_error, 1, 4) = 'push' THEN NULL ELSE last_error END"


def pushed(store: CredentialStore, subscription_id: str, seq: int) -> None:
    """The callback took the events up to ``seq``: a push error shown before is over."""
    backend = store.backend
    with backend.transaction() as db:
        backend.execute(db, "UPDATE subscriptions SET delivered_through = ?, failing_since = NULL, "
                            f"delivery_due = NULL, last_error = {_PUSH_ERROR_CLEARED} WHERE id = ?",
                        (seq, subscription_id))


def resume_pushes(store: CredentialStore, subscription_id: str) -> None:
    """Push again, now, from the first event the callback did not take (``delivered_through`` stays): the
    failure is forgotten and ``delivery_failed`` is active again."""
    backend = store.backend
    with backend.transaction() as db:
        backend.execute(db, "UPDATE subscriptions SET failing_since = NULL, delivery_due = NULL, "
                            "status = CASE WHEN status = 'delivery_failed' THEN 'active' ELSE status END, "
                            f"last_error = {_PUSH_ERROR_CLEARED} WHERE id = ?", (subscription_id,))


def delete(store: CredentialStore, subscription_id: str) -> bool:
    backend = store.backend
    with backend.transaction() as db:
        backend.execute(db, "DELETE FROM subscription_events WHERE subscription_id = ?", (subscription_id,))
        return backend.execute(db, "DELETE FROM subscriptions WHERE id = ?", (subscription_id,)).rowcount == 1


# ------------------------------------------------------------------------------------------------ events

def add_events(store: CredentialStore, subscription_id: str, events: Iterable[dict[str, Any]],
               extra: dict[str, Any] | None = None) -> int:
    """Store events (those already stored are skipped) and commit; how many were new. ``extra``: columns of
    the subscription to set in the same transaction (a poll's bookmark moves with the events it found)."""
    backend = store.backend
    with backend.transaction(lock=backend.row_lock_database) as db:
        added = _insert_events(store, db, subscription_id, list(events))
        values = dict(extra or {})
        if values:
            assignments = ", ".join(f"{name} = ?" for name in values)
            backend.execute(db, f"UPDATE subscriptions SET {assignments} WHERE id = ?",
                            (*values.values(), subscription_id))
    return added


def add_deliveries(store: CredentialStore, deliveries: list[tuple[str, dict[str, Any]]]) -> list[bool]:
    """Store the events of many deliveries in ONE transaction (a group commit: one disk flush for all); for
    each, True when its subscription exists (the event is stored, or was already), False when it is gone."""
    backend = store.backend
    by_subscription: dict[str, list[dict[str, Any]]] = {}
    for subscription_id, event in deliveries:
        by_subscription.setdefault(subscription_id, []).append(event)
    existing = set()
    with backend.transaction(lock=backend.row_lock_database) as db:
        for subscription_id, events in by_subscription.items():
            if backend.rows(db, "SELECT 1 AS found FROM subscriptions WHERE id = ?", (subscription_id,)):
                existing.add(subscription_id)
                _insert_events(store, db, subscription_id, events)
    return [subscription_id in existing for subscription_id, _ in deliveries]


def _insert_events(store: CredentialStore, db: Any, subscription_id: str, events: list[dict[str, Any]]) -> int:
    backend, added, now = store.backend, 0, time.time()
    backend.lock_key(db, "events:" + subscription_id)  # one writer per subscription: seq commits in order
    for event in events:
        cursor = backend.execute(
            db, "INSERT INTO subscription_events (subscription_id, event_id, received_at, body) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (subscription_id, event_id) DO NOTHING",
            (subscription_id, event["id"], now, json.dumps(event, separators=(",", ":"))))
        added += cursor.rowcount == 1
    if added:
        backend.execute(db, "UPDATE subscriptions SET last_event_at = ? WHERE id = ?",
                        (precise_time_now(store), subscription_id))
    return added


def precise_time_now(store: CredentialStore) -> str:
    return precise_time(store.now())


def read_events(store: CredentialStore, subscription_id: str, after: int, limit: int) -> list[tuple[int, str]]:
    """Up to ``limit`` events stored after ``after``, oldest first: (seq, JSON text)."""
    backend = store.backend
    with backend.transaction() as db:
        rows = backend.rows(db, "SELECT seq, body FROM subscription_events WHERE subscription_id = ? AND seq > ? "
                                "ORDER BY seq LIMIT ?", (subscription_id, after, limit))
    return [(int(row["seq"]), row["body"]) for row in rows]


def purge(store: CredentialStore, older_than: float) -> int:
    """Delete events received before ``older_than`` (Unix seconds), remembering per subscription the newest
    one deleted (an ``after`` below it asks for events that are gone: 410). How many were deleted. It reads, then
    writes: on SQLite it takes the write lock first (a read snapshot another writer moved on cannot write)."""
    backend = store.backend
    with backend.transaction(lock=backend.row_lock_database) as db:
        gone = backend.rows(db, "SELECT subscription_id, max(seq) AS seq FROM subscription_events "
                                "WHERE received_at < ? GROUP BY subscription_id", (older_than,))
        for row in gone:
            backend.execute(db, "UPDATE subscriptions SET purged_through = ? WHERE id = ? AND purged_through < ?",
                            (row["seq"], row["subscription_id"], row["seq"]))
        return backend.execute(db, "DELETE FROM subscription_events WHERE received_at < ?", (older_than,)).rowcount


# ------------------------------------------------------------------------------------------------ claims

def claim_polls(store: CredentialStore, now: float, interval: float, limit: int) -> list[dict[str, Any]]:
    """Subscriptions due for their poll (poll mode) or webhook check (webhook mode) now, each claimed (its next
    one moved ``interval`` on) by this caller only."""
    return _claim(store, "(poll_due IS NULL OR poll_due <= ?)", (now,),
                  "poll_due = ?", (now + interval,), limit)


# A subscription with events its callback has not taken yet, and pushes not given up on.
PUSHING = ("callback_url IS NOT NULL AND status != 'delivery_failed' AND EXISTS (SELECT 1 FROM subscription_events e "
           "WHERE e.subscription_id = subscriptions.id AND e.seq > subscriptions.delivered_through)")


def claim_pushes(store: CredentialStore, now: float, lease: float, limit: int) -> list[dict[str, Any]]:
    """Subscriptions with a callback and events not yet pushed, due and not leased: leased to this caller for
    ``lease`` seconds (one pusher per subscription, so its events go out in order)."""
    return _claim(store, f"{PUSHING} AND (delivery_due IS NULL OR delivery_due <= ?) "
                         "AND (delivery_lease IS NULL OR delivery_lease <= ?)", (now, now),
                  "delivery_lease = ?", (now + lease,), limit)


def next_due(store: CredentialStore) -> tuple[float | None, float | None]:
    """When the next poll (or webhook check) and the next push fall due, in Unix seconds (None: nothing is
    scheduled; a push waits for both its retry time and another replica's lease)."""
    backend = store.backend
    with backend.transaction() as db:
        polls = backend.rows(db, "SELECT min(coalesce(poll_due, 0)) AS due FROM subscriptions")
        pushes = backend.rows(db, "SELECT min(CASE WHEN coalesce(delivery_lease, 0) > coalesce(delivery_due, 0) "
                                  "THEN delivery_lease ELSE coalesce(delivery_due, 0) END) AS due "
                                  f"FROM subscriptions WHERE {PUSHING}")
    return polls[0]["due"], pushes[0]["due"]


def _claim(store: CredentialStore, where: str, params: tuple, assignment: str, values: tuple,
           limit: int) -> list[dict[str, Any]]:
    backend = store.backend
    skip_locked = f"{backend.row_lock_sql} SKIP LOCKED" if backend.row_lock_sql else ""
    with backend.transaction(lock=backend.row_lock_database) as db:
        rows = backend.rows(db, f"SELECT {COLUMNS} FROM subscriptions WHERE {where} ORDER BY id LIMIT ?"
                                f"{skip_locked}", (*params, limit))
        for row in rows:
            backend.execute(db, f"UPDATE subscriptions SET {assignment} WHERE id = ?", (*values, row["id"]))
    return rows

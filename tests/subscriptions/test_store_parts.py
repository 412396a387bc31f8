"""A subscription's secrets follow a key rotation; the receiver is never refused by the connection limit."""
from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from outreach_connector.server import subscription_store
from outreach_connector.server.opening import open_store
from outreach_connector.server.secrets_box import EncryptionKeyError, generate_key_text
from outreach_connector.server.serving import ConnectionLimit


def test_a_key_rotation_reseals_the_subscription_secrets(database):
    old, new = generate_key_text(), generate_key_text()
    store = open_store(database, old)
    sid = str(uuid.uuid4())
    row = {"id": sid, "owner": "o", "auth_id": str(uuid.uuid4()), "trigger_name": "prospect_updated", "input": "{}",
           "mode": "webhook", "callback_url": None, "status": "active", "created_at": "2026-01-01T00:00:00.000000Z"}
    assert subscription_store.insert(store, row, {"webhook_secret": "whsec-1", "delivery_secret": "dsec-1"})
    store.close()
    open_store(database, new, previous_keys=(old,)).close()  # serve started with the new key and the old one
    rotated = open_store(database, new)  # the old key is gone for good
    try:
        found = subscription_store.fetch(rotated, sid)
        assert subscription_store.secrets_of(rotated, found) == {"webhook_secret": "whsec-1",
                                                                "delivery_secret": "dsec-1"}
        with pytest.raises(EncryptionKeyError):  # sealed for its own row only
            rotated.open_values(subscription_store.context("another"), found["secret"])
    finally:
        rotated.close()


@pytest.mark.anyio
@pytest.mark.parametrize("path, status", [("/webhooks/outreach/00000000-0000-4000-8000-000000000000", 200),
                                          ("/connectors", 503)])
async def test_the_receiver_is_exempt_from_the_connection_limit(path, status):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    full = ConnectionLimit(app, limit=1, connections={1, 2, 3}, tasks={1, 2, 3})  # over the limit
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=full), base_url="http://server.test") as client:
        assert (await client.post(path)).status_code == status


def test_retention_purges_while_events_are_stored_without_a_failed_transaction(tmp_path):
    """SQLite: the purge reads, then deletes; taking the write lock first, it never meets a snapshot another
    writer moved on (which fails at once, without waiting: SQLITE_BUSY_SNAPSHOT)."""
    store = open_store(str(tmp_path / "s.db"), generate_key_text())
    sid = str(uuid.uuid4())
    row = {"id": sid, "owner": "o", "auth_id": str(uuid.uuid4()), "trigger_name": "prospect_updated", "input": "{}",
           "mode": "webhook", "callback_url": None, "status": "active", "created_at": "2026-01-01T00:00:00.000000Z"}
    assert subscription_store.insert(store, row, {"webhook_secret": "whsec-1"})

    def store_events() -> None:
        for index in range(300):
            subscription_store.add_events(store, sid, [{"id": f"e{index}"}])

    writer = threading.Thread(target=store_events)
    writer.start()
    try:
        while writer.is_alive():
            subscription_store.purge(store, 0)  # nothing is that old: it reads, finds nothing, deletes nothing
    finally:
        writer.join()
        store.close()

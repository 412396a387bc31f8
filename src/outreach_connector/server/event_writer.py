"""What keeps the webhook receiver fast without weakening "stored before answered".

* :class:`EventWriter`: a group commit. Deliveries that arrive while a transaction is being written wait for
  the next one, which stores them all at once; each delivery's answer still waits for the commit of the
  transaction holding its event. One disk flush serves many events (a commit costs milliseconds; a batch of
  events costs about the same as one).
* :class:`SubscriptionCache`: what the receiver needs of a subscription (its webhook secret, trigger, input),
  kept a few seconds, so a burst does not read and decrypt the row for every delivery. A subscription deleted
  meanwhile (on another replica) is still caught: the group commit stores nothing for a subscription that is
  gone, and the delivery gets 404.
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool

from . import subscription_store as rows

MAX_BATCH = 500  # events per transaction
CACHE_SECONDS = 5.0
CACHE_ENTRIES = 10_000


class EventWriter:
    def __init__(self, store: Any) -> None:
        self._store = store
        self._pending: list[tuple[str, dict[str, Any], asyncio.Future]] = []
        self._writing: asyncio.Task | None = None

    async def write(self, subscription_id: str, event: dict[str, Any]) -> bool:
        """Store the event durably; True once committed (or already stored), False when the subscription is
        gone. Raises the store's error (``StoreUnavailable``) when the transaction failed."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((subscription_id, event, done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.get_running_loop().create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                kept = await run_in_threadpool(rows.add_deliveries, self._store, [(s, e) for s, e, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiting delivery learns of it (and drops)
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, _, done), exists in zip(batch, kept):
                if not done.done():
                    done.set_result(exists)


@dataclass(frozen=True)
class Receiving:
    """What the receiver needs of one subscription."""

    row: dict[str, Any]
    webhook_secret: str
    input: dict[str, Any]


class SubscriptionCache:
    def __init__(self, load: Callable[[str], Receiving | None], clock: Callable[[], float] = time.monotonic):
        self._load, self._clock = load, clock
        self._entries: OrderedDict[str, tuple[float, Receiving]] = OrderedDict()

    async def get(self, subscription_id: str) -> Receiving | None:
        found = self._entries.get(subscription_id)
        if found is not None and self._clock() < found[0]:
            return found[1]
        loaded = await run_in_threadpool(self._load, subscription_id)
        self.forget(subscription_id)
        if loaded is not None:
            self._entries[subscription_id] = (self._clock() + CACHE_SECONDS, loaded)
            while len(self._entries) > CACHE_ENTRIES:
                self._entries.popitem(last=False)
        return loaded

    def forget(self, subscription_id: str) -> None:
        self._entries.pop(subscription_id, None)

"""The keep-alive of ``serve``: OAuth authentications idle for ``--keep-alive-days`` are refreshed.

Outreach's refresh tokens lapse after 14 days unused, so a tenant that makes no call for two weeks would
silently lose its connection. Every ``keep_alive_interval`` seconds (jittered ±20 %, so replicas started
together drift apart) a sweep lists connected OAuth authentications whose tokens were last issued before
the cutoff (at most ``MAX_PER_SWEEP``) and refreshes them ``keep_alive_batch`` at a time.

Each refresh takes the authentication's row lock (the same lock a call's refresh takes) and re-reads the row
under it: when another replica refreshed it meanwhile, there is nothing to do, so each authentication is
refreshed once across replicas. A refused refresh (``invalid_grant``) marks it ``reconnect_required``. The log
names authentication ids and outcomes only, never a token.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool

from ..oauth import refresh_form
from . import connect_store
from .credentials import Authentication, OAuthCredentials
from .store import precise_time
from .token_endpoint import TokenEndpointRefused, request_tokens

logger = logging.getLogger("outreach_connector.server.keepalive")

MAX_PER_SWEEP = 1000  # authentications one sweep looks at; the rest wait for the next sweep
FIRST_SWEEP_WITHIN = 60.0  # seconds after start-up (jittered), capped by the interval


class KeepAlive:
    def __init__(self, services: Any, rng: random.Random | None = None) -> None:
        self._services = services
        self._settings = services.settings
        self._rng = rng or random.Random()

    async def run_forever(self) -> None:
        """Sweep after a short jittered delay, then every interval (jittered) until cancelled."""
        delay = self._rng.uniform(0, min(FIRST_SWEEP_WITHIN, self._settings.keep_alive_interval))
        while True:
            await asyncio.sleep(delay)
            try:
                await self.sweep()
            except Exception as exc:  # noqa: BLE001 - a failed sweep (store down) must not end the keep-alive
                logger.warning("keep-alive sweep failed (%s); next one in about %.0f s", type(exc).__name__,
                               self._settings.keep_alive_interval)
            delay = self._settings.keep_alive_interval * self._rng.uniform(0.8, 1.2)

    def cutoff(self) -> str:
        return precise_time(self._services.store.now() - timedelta(days=self._settings.keep_alive_days))

    async def sweep(self) -> Counter[str]:
        """One pass; counts of outcomes (refreshed, fresh, marked, failed)."""
        cutoff = self.cutoff()
        ids = await run_in_threadpool(connect_store.stale_oauth_ids, self._services.store, cutoff, MAX_PER_SWEEP)
        outcomes: Counter[str] = Counter()
        batch = self._settings.keep_alive_batch
        for start in range(0, len(ids), batch):
            done = await asyncio.gather(*(self.refresh_one(auth_id, cutoff) for auth_id in ids[start:start + batch]))
            outcomes.update(done)
        if ids:
            logger.info("keep-alive: %d idle OAuth authentications: %s", len(ids),
                        ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())))
        return outcomes

    async def refresh_one(self, auth_id: str, cutoff: str) -> str:
        store = self._services.store
        try:
            lease = await run_in_threadpool(store.lock, auth_id)
        except Exception as exc:  # noqa: BLE001 - the lock timed out or the store failed: try next sweep
            logger.warning("keep-alive: authentication %s: could not lock it (%s)", auth_id, type(exc).__name__)
            return "failed"
        try:
            stored = lease.stored  # the row as the lease read it: no other read
            if stored is None or lease.tokens is None or not still_idle(stored.info, cutoff):
                lease.release()
                return "fresh"  # deleted, marked, or refreshed by another replica while we waited
            credentials = stored.credentials
            assert isinstance(credentials, OAuthCredentials)
            refresh_token = lease.tokens.refresh_token
            form = refresh_form(refresh_token, credentials.client_id, credentials.client_secret.get_secret_value(),
                                credentials.redirect_uri)
            tokens = await request_tokens(self._services.pool.transport, self._settings, form,
                                          keep_refresh_token=refresh_token, token_url=credentials.token_url)
        except TokenEndpointRefused as exc:
            if exc.code != "invalid_grant":
                lease.release()
                logger.warning("keep-alive: authentication %s: the refresh failed (%s)", auth_id, exc.code)
                return "failed"
            await run_in_threadpool(lease.mark_reconnect_required, "invalid_grant")  # under the lock
            await self._services.pool.forget(auth_id)
            logger.warning("keep-alive: authentication %s marked reconnect_required (invalid_grant)", auth_id)
            return "marked reconnect_required"
        except Exception as exc:  # noqa: BLE001 - the store failed mid-way: this one waits for the next sweep
            lease.release()
            logger.warning("keep-alive: authentication %s: the refresh failed (%s)", auth_id, type(exc).__name__)
            return "failed"
        except BaseException:  # cancelled (shutdown): never leave the row locked
            lease.release()
            raise
        await run_in_threadpool(lease.save, tokens)  # stored before the lock goes, as every refresh is
        await self._services.pool.forget(auth_id)
        logger.info("keep-alive: refreshed authentication %s", auth_id)
        return "refreshed"


def still_idle(info: Authentication, cutoff: str) -> bool:
    """Connected, with tokens last issued before ``cutoff`` (a stored time; the row shows seconds)."""
    return info.status == "connected" and (info.last_refreshed_at or "") < cutoff[:19] + "Z"


def start(services: Any) -> asyncio.Task | None:
    """The keep-alive as a task of the running server (None when ``keep_alive_days`` is 0)."""
    if services.settings.keep_alive_days <= 0:
        return None
    logger.info("keep-alive: refreshing OAuth authentications idle for %g days, every %g s (jittered), "
                "%d at a time", services.settings.keep_alive_days, services.settings.keep_alive_interval,
                services.settings.keep_alive_batch)
    return asyncio.get_running_loop().create_task(KeepAlive(services).run_forever(), name="keep-alive")


async def stop(task: asyncio.Task | None) -> None:
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass

"""Sessions: one connector per used authentication, cached with a bound, all sharing one connection pool.

A session is a thin :class:`Connector` (settings, credentials, its auth object, its rate pacer) whose HTTP
client sends through the server's one transport, so a thousand authentications hold a thousand small
objects but only the connections Outreach actually needs. Sessions idle for ``session_idle_seconds``, and
the least recently used beyond ``max_sessions``, are dropped and rebuilt from the store on next use.

Single flight survives eviction: within a session the auth object's lock orders refreshes, and across
sessions (a rebuilt one, another process) the store's row lock does (``OAuthRefreshAuth(token_store=...)``).
Dropping a session closes nothing: calls still running on it finish on the shared transport.

A delete on another replica cannot reach this process's cache, so a session is re-checked against the store
(one row read, no decryption) when it is used and was last checked more than ``session_check_seconds`` ago:
a deleted authentication stops working on every replica within that bound, at a cost of at most one read
per authentication per interval however busy it is.
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

import anyio
import httpx
from starlette.concurrency import run_in_threadpool

from .. import Connector
from ..client import BearerToken, shared_ssl_context
from ..errors import TenantBusy
from ..oauth import OAuthRefreshAuth
from ..pagination import AnswerBound
from ..retry import BUDGET_LEFT
from .credentials import (AccessTokenCredentials, Authentication, AuthenticationNotFound,
                                                   StoredAuthentication)
from .settings import ServerSettings
from .status import reconnect_needed
from .store import CredentialStore


class SharedTransport(httpx.AsyncBaseTransport):
    """The server's one connection pool, lent to every session; a session closing its client leaves it open."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Sessions call this when dropped: the pool outlives them (see :meth:`shutdown`)."""

    async def shutdown(self) -> None:
        await self.inner.aclose()


TENANT_BUSY = ("This API key already has {limit} requests to Outreach in flight (--max-upstream-per-key) and none "
               "finished within the call's retry budget; nothing was sent: try again shortly")
TENANT_BUSY_RETRY_AFTER_SECONDS = 1


class TenantSlots(httpx.AsyncBaseTransport):
    """One tenant's way into the shared pool: at most ``limit`` of its requests in flight at once, so one API key
    cannot take every connection to Outreach (the settings keep ``limit`` below the pool's size).

    A request beyond the limit waits for a slot as long as its call's retry budget allows (the sender says,
    ``retry.BUDGET_LEFT``), then fails with :class:`TenantBusy`, sent nowhere. A slot is held until the
    answer's body is read or closed, not only until its headers arrive."""

    def __init__(self, inner: SharedTransport, slots: anyio.Semaphore, limit: int, max_wait: float) -> None:
        self.inner, self.slots, self.limit, self.max_wait = inner, slots, limit, max_wait

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self._take_slot(request.extensions.get(BUDGET_LEFT, self.max_wait))
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException:
            self.slots.release()
            raise
        return httpx.Response(response.status_code, headers=response.headers, extensions=response.extensions,
                              stream=ReleasingStream(response.stream, self.slots.release))

    async def _take_slot(self, wait: float) -> None:
        """A free slot at once (even with no budget left), else the first within ``wait`` seconds."""
        try:
            self.slots.acquire_nowait()
            return
        except anyio.WouldBlock:
            pass
        with anyio.move_on_after(wait):  # bounds the wait for a slot, never the request itself
            await self.slots.acquire()
            return
        raise TenantBusy(TENANT_BUSY.format(limit=self.limit), retry_after=TENANT_BUSY_RETRY_AFTER_SECONDS)

    async def aclose(self) -> None:
        """Sessions call this when dropped: the pool outlives them."""


class ReleasingStream(httpx.AsyncByteStream):
    """An answer's body that gives its tenant's slot back once, when closed (read to the end or not)."""

    def __init__(self, inner: Any, release: Callable[[], None]) -> None:
        self.inner = inner
        self._release: Callable[[], None] | None = release  # None once given back

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self.inner.aclose()
        finally:
            if release is not None:
                release()


def shared_transport(settings: ServerSettings, transport: Any = None) -> SharedTransport:
    if transport is None:
        limits = httpx.Limits(max_connections=settings.max_upstream_connections,
                              max_keepalive_connections=min(20, settings.max_upstream_connections))
        transport = httpx.AsyncHTTPTransport(verify=shared_ssl_context(), limits=limits)
    return SharedTransport(transport)


@dataclass
class Session:
    connector: Connector
    owner: str | None
    last_used: float
    checked_at: float
    info: Authentication  # as loaded: a status change seen by a re-check rebuilds the session


def same_status(a: Authentication, b: Authentication) -> bool:
    return (a.status, a.status_since) == (b.status, b.status_since)


class ConnectorPool:
    def __init__(self, store: CredentialStore, settings: ServerSettings, transport: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._settings = settings
        self.transport = shared_transport(settings, transport)
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._building = asyncio.Lock()
        self._clock = clock
        self._upstream_slots: dict[str | None, anyio.Semaphore] = {}  # per owner; owners are the configured keys

    def __len__(self) -> int:
        return len(self._sessions)

    async def get(self, auth_id: str, owner: str | None) -> Connector:
        """The authentication's connector for this owner; raises ``AuthenticationNotFound``, or
        ``ReconnectNeeded`` when it is marked ``reconnect_required`` (nothing may be sent with it)."""
        connector, info = await self.get_with_info(auth_id, owner)
        if info.status != "connected":
            raise reconnect_needed(info)
        return connector

    async def get_with_info(self, auth_id: str, owner: str | None) -> tuple[Connector, Authentication]:
        self.expire_idle()
        session = self._sessions.get(auth_id)
        if session is None:
            async with self._building:  # one build per authentication: two would be two auth objects
                session = self._sessions.get(auth_id)
                if session is None:
                    # Scoped by owner: another tenant's id decrypts nothing and pushes no session out.
                    stored = await run_in_threadpool(self._store.load, auth_id, owner)
                    session = Session(self.build(stored), stored.owner, self._clock(), self._clock(), stored.info)
                    self._sessions[auth_id] = session
        if owner is not None and session.owner != owner:
            raise AuthenticationNotFound(auth_id)  # another tenant's authentication does not exist
        if not await self._recheck(auth_id, session):
            return await self.get_with_info(auth_id, owner)  # its status changed elsewhere: rebuilt from the store
        session.last_used = self._clock()
        self._sessions.move_to_end(auth_id)
        self._evict_beyond_bound()
        return session.connector, session.info

    async def _recheck(self, auth_id: str, session: Session) -> bool:
        """Drop the session and raise ``AuthenticationNotFound`` if its row is gone (deleted elsewhere); drop it
        and answer False if its status changed (marked or reconnected elsewhere); True when it may be used.

        The stamp moves before the read, so calls arriving meanwhile do not read again; if the store fails
        the stamp goes back and the error (``StoreUnavailable``) reaches the caller: a session is never used
        past the bound unchecked."""
        checked_at = session.checked_at
        if self._clock() - checked_at < self._settings.session_check_seconds:
            return True
        session.checked_at = self._clock()
        try:
            row = await run_in_threadpool(self._store.get, auth_id, session.owner)
        except BaseException:
            session.checked_at = checked_at
            raise
        if row is None or not same_status(row, session.info):
            if self._sessions.get(auth_id) is session:
                del self._sessions[auth_id]
            if row is None:
                raise AuthenticationNotFound(auth_id)
            return False
        return True

    def tenant_transport(self, owner: str | None) -> TenantSlots:
        """The shared pool as one tenant reaches it: its sessions share one set of slots."""
        limit = self._settings.max_upstream_per_key
        slots = self._upstream_slots.setdefault(owner, anyio.Semaphore(limit))
        return TenantSlots(self.transport, slots, limit, self._settings.connector.max_retry_wait)

    def build(self, stored: StoredAuthentication) -> Connector:
        connector = self._connector(stored)
        connector.answer_bound = AnswerBound(self._settings.max_records_per_call, self._settings.max_answer_bytes)
        return connector

    def _connector(self, stored: StoredAuthentication) -> Connector:
        settings = self._settings.connector
        credentials = stored.credentials
        transport = self.tenant_transport(stored.owner)
        if isinstance(credentials, AccessTokenCredentials):
            # As an auth, not a setting: a token stored before whitespace was refused fails its calls with an
            # error envelope (the bearer check), not the whole session with a settings error.
            return Connector(settings=settings, auth=BearerToken(credentials.access_token.get_secret_value()),
                             transport=transport)
        tokens = stored.tokens
        assert tokens is not None  # an OAuth row always carries its refresh token
        auth = OAuthRefreshAuth(
            client_id=credentials.client_id, client_secret=credentials.client_secret.get_secret_value(),
            refresh_token=tokens.refresh_token, token_url=credentials.token_url or self._settings.token_url,
            access_token=tokens.access_token or None, expires_at=tokens.expires_at,
            max_token_wait=settings.max_retry_wait, timeout=settings.timeout,
            token_store=self._store.token_store(stored.info.id), redirect_uri=credentials.redirect_uri)
        return Connector(settings=settings, auth=auth, transport=transport)

    def expire_idle(self) -> None:
        horizon = self._clock() - self._settings.session_idle_seconds
        while self._sessions:
            auth_id, oldest = next(iter(self._sessions.items()))
            if oldest.last_used > horizon:
                return
            del self._sessions[auth_id]

    def _evict_beyond_bound(self) -> None:
        while len(self._sessions) > self._settings.max_sessions:
            self._sessions.popitem(last=False)

    async def forget(self, auth_id: str) -> None:
        """Drop the session; calls still running on it finish (they own their requests, not the pool).

        Waits for a build in progress: it may have read the row just before the delete, and would otherwise
        put the deleted authentication's session back after this pop."""
        async with self._building:
            self._sessions.pop(auth_id, None)

    async def aclose(self) -> None:
        self._sessions.clear()
        await self.transport.shutdown()

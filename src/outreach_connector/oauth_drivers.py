"""The drivers of the OAuth refresh flow (see :mod:`outreach_connector.oauth`): the commands the flow yields,
and the sync and async loops that carry them out, holding locks and store leases only as long as the flow does.

The refresh flow is one generator of commands; these drivers give it a thread lock, an event-loop lock, sleep,
and (for the server) a lease on the authentication's stored row, and release whatever is held on any exit.
"""
from __future__ import annotations

import asyncio
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generator, Protocol, Union

import httpx

from outreach_connector.client import MAX_RESPONSE_BYTES
from outreach_connector.errors import TransportError, UpstreamError
from outreach_connector.responses import aread_kept, read_kept
from outreach_connector.retry import BUDGET_LEFT

if TYPE_CHECKING:
    from outreach_connector.oauth import TokenSet

_LOCK_POLL_SECONDS = 0.005


class TokenLease(Protocol):
    """A lock on one authentication's stored tokens, held across processes until saved or released."""

    tokens: "TokenSet | None"  # what the store holds now; None when the authentication is gone

    def save(self, tokens: "TokenSet") -> None:
        """Write ``tokens`` and release the lock (one transaction)."""

    def release(self) -> None:
        """Release the lock without writing."""


class TokenStore(Protocol):
    """Where several processes share an authentication's tokens (the server's database)."""

    def lock(self, max_wait: float) -> TokenLease:
        """Block until this process alone may refresh, at most ``max_wait`` seconds; raises when the lock
        cannot be had in time."""


# --- commands the shared flow yields to its drivers -------------------------------------------------------

@dataclass(frozen=True)
class Acquire:
    """Take the per-auth refresh lock."""


@dataclass(frozen=True)
class Release:
    """Give the refresh lock back."""


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class FetchToken:
    """Send this token request; the driver reads the body before handing the response back."""

    request: httpx.Request


@dataclass(frozen=True)
class LockStore:
    """Lock the authentication's row in the shared store; the driver replies with the lease."""


@dataclass(frozen=True)
class SaveStore:
    """Write the rotated tokens through the held lease and release it."""

    tokens: "TokenSet"


@dataclass(frozen=True)
class ReleaseStore:
    """Release the held lease without writing."""


ACQUIRE, RELEASE, LOCK_STORE, RELEASE_STORE = Acquire(), Release(), LockStore(), ReleaseStore()
MIN_LOCK_WAIT = 1.0  # seconds any call may wait for another call's refresh, whatever its budget has left
Command = Union[httpx.Request, Acquire, Release, Sleep, FetchToken, LockStore, SaveStore, ReleaseStore]
Flow = Generator[Command, Any, None]


class FlowDrivers:
    """Mixed into the auth class: ``_flow`` yields commands, these methods carry them out."""

    _thread_lock: threading.Lock
    _loop_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]"
    _max_lock_wait: float
    _store: "TokenStore | None"

    def _flow(self, request: httpx.Request) -> "Flow":
        raise NotImplementedError

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()
        flow, held = self._flow(request), Held(self._lock_wait_for(request))
        try:
            reply: Any = None
            api_reply: httpx.Response | None = None  # the API's answer, left to the sender unless the flow goes on
            while True:
                command = flow.send(reply)
                read_passed_over(api_reply)
                api_reply = None
                if isinstance(command, httpx.Request):
                    reply = api_reply = yield command
                elif isinstance(command, FetchToken):
                    reply = yield command.request
                    read_token_reply(reply)  # only token answers have the token bound
                else:
                    reply = self._run_sync(command, held)
        except StopIteration:
            return
        finally:
            held.release_all(self._thread_lock.release)

    def _lock_wait_for(self, request: httpx.Request) -> float:
        """How long this request may wait for another call's refresh: what is left of its call's retry budget
        (the sender says, see ``retry.BUDGET_LEFT``) but at least a second (a refresh usually takes less; with
        no budget left a call would otherwise fail whenever it met a refresh), never more than the auth
        object's own bound."""
        left = request.extensions.get(BUDGET_LEFT)
        return self._max_lock_wait if left is None else min(self._max_lock_wait, max(MIN_LOCK_WAIT, left))

    def _run_sync(self, command: Command, held: "Held") -> Any:
        if isinstance(command, Acquire):
            if not self._thread_lock.acquire(timeout=held.max_wait):
                raise lock_wait_error(held.max_wait)
            held.lock = True
        elif isinstance(command, Release):
            held.lock = False
            self._thread_lock.release()
        elif isinstance(command, Sleep):
            time.sleep(command.seconds)
        else:
            return held.store_command(command, self._store)
        return None

    async def async_auth_flow(self, request: httpx.Request):
        await request.aread()
        flow, held = self._flow(request), Held(self._lock_wait_for(request))
        try:
            reply: Any = None
            api_reply: httpx.Response | None = None
            while True:
                command = flow.send(reply)
                await aread_passed_over(api_reply)
                api_reply = None
                if isinstance(command, httpx.Request):
                    reply = api_reply = yield command
                elif isinstance(command, FetchToken):
                    reply = yield command.request
                    await aread_token_reply(reply)
                else:
                    reply = await self._run_async(command, held)
        except StopIteration:
            return
        finally:
            held.release_all(self._release_async)

    async def _run_async(self, command: Command, held: "Held") -> Any:
        if isinstance(command, Acquire):
            await self._acquire_async(held.max_wait)
            held.lock = True
        elif isinstance(command, Release):
            held.lock = False
            self._release_async()
        elif isinstance(command, Sleep):
            await asyncio.sleep(command.seconds)
        elif isinstance(command, LockStore):
            return await held.lock_store_async(self._store)
        else:
            return held.store_command(command, self._store)
        return None

    def _loop_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; a host may drive this auth from several.
        loop = asyncio.get_running_loop()
        lock = self._loop_locks.get(loop)
        if lock is None:
            lock = self._loop_locks.setdefault(loop, asyncio.Lock())
        return lock

    async def _acquire_async(self, max_wait: float) -> None:
        """Queue on the loop's lock, then take the thread lock that also guards sync callers and other loops.

        Both waits together are bounded by ``max_wait``; a free lock is taken even when nothing is left.
        """
        deadline = time.monotonic() + max_wait
        loop_lock = self._loop_lock()
        try:
            if loop_lock.locked():
                await asyncio.wait_for(loop_lock.acquire(), max_wait)
            else:
                await loop_lock.acquire()
        except asyncio.TimeoutError:
            raise lock_wait_error(max_wait) from None
        try:
            while not self._thread_lock.acquire(blocking=False):
                if time.monotonic() > deadline:
                    raise lock_wait_error(max_wait)
                await asyncio.sleep(_LOCK_POLL_SECONDS)  # never block the event loop on a thread lock
        except BaseException:
            loop_lock.release()
            raise

    def _release_async(self) -> None:
        self._thread_lock.release()
        self._loop_lock().release()


class Held:
    """What a driver holds for one flow (the refresh lock, a store lease), so it is released on any exit."""

    def __init__(self, max_wait: float) -> None:
        self.lock = False
        self.lease: TokenLease | None = None
        self.max_wait = max_wait  # seconds the flow may wait for the refresh lock
        self._deadline = time.monotonic() + max_wait

    def store_wait(self) -> float:
        """How long taking the store's row lock may wait: what is left of ``max_wait`` now (the in-process
        lock may have used some), at least MIN_LOCK_WAIT as for that lock, never more than ``max_wait``."""
        return min(self.max_wait, max(MIN_LOCK_WAIT, self._deadline - time.monotonic()))

    def store_command(self, command: Command, store: TokenStore | None) -> Any:
        assert store is not None
        if isinstance(command, LockStore):
            self.lease = store.lock(self.store_wait())
            return self.lease
        lease, self.lease = self.lease, None
        assert lease is not None
        if isinstance(command, SaveStore):
            lease.save(command.tokens)
        else:
            lease.release()
        return None

    async def lock_store_async(self, store: TokenStore | None) -> TokenLease:
        """The row lock, taken in a worker thread; a lease that arrives after the caller gave up is released."""
        assert store is not None
        future = asyncio.get_running_loop().run_in_executor(None, store.lock, self.store_wait())
        try:
            self.lease = await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(_release_late_lease)
            raise
        return self.lease

    def release_all(self, release_lock: Callable[[], None]) -> None:
        if self.lease is not None:
            lease, self.lease = self.lease, None
            lease.release()
        if self.lock:
            self.lock = False
            release_lock()


def _release_late_lease(future: "asyncio.Future[TokenLease]") -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().release()


MAX_TOKEN_REPLY = 64 * 1024  # a token answer is a few hundred bytes; anything far larger is not one


def _oversized_reply(response: httpx.Response) -> UpstreamError:
    return UpstreamError(response.status_code, [], None,
                         message=f"the token endpoint's answer is larger than {MAX_TOKEN_REPLY} bytes")


def read_token_reply(response: httpx.Response) -> None:
    """Read a token endpoint's answer (decompressed) up to MAX_TOKEN_REPLY bytes: ``response.content`` after."""
    read_kept(response, MAX_TOKEN_REPLY, lambda: _oversized_reply(response))


async def aread_token_reply(response: httpx.Response) -> None:
    await aread_kept(response, MAX_TOKEN_REPLY, lambda: _oversized_reply(response))


def _passed_over(response: httpx.Response) -> UpstreamError:
    return UpstreamError(response.status_code, [], None, message=(
        f"Outreach's {response.status_code} answer is larger than the {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB the "
        "connector reads (counted after decompression; 64 KiB on the wire when compressed)"))


def read_passed_over(response: httpx.Response | None) -> None:
    """An API answer the flow went past (a 401 before a refresh and a retry): httpx keeps it in the history and
    would read it whole, so it is read here under a cap first."""
    if response is not None:
        read_kept(response, MAX_RESPONSE_BYTES, lambda: _passed_over(response))


async def aread_passed_over(response: httpx.Response | None) -> None:
    if response is not None:
        await aread_kept(response, MAX_RESPONSE_BYTES, lambda: _passed_over(response))


def lock_wait_error(seconds: float) -> TransportError:
    return TransportError(f"gave up after {seconds:.1f} s waiting for another call's token refresh to finish")

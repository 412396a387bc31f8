"""Carrying out the OAuth refresh flow of :mod:`outreach_connector.oauth`: the commands the flow yields, the
refresh lock of one auth object, and the driver that runs one flow.

The flow is one generator of commands, written once. A :class:`FlowDriver` runs it for one request, sync or
async: it is handed the auth object's :class:`RefreshLock` and token store, carries out each command (send a
request, take or release the lock, sleep, lease the stored row), and releases whatever it holds on any exit.
The driver knows nothing of tokens; the flow knows nothing of threads, event loops or databases.
"""
from __future__ import annotations

import asyncio
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, AsyncGenerator, Callable, Generator, Union

import httpx

from .client import MAX_RESPONSE_BYTES
from .errors import TransportError, UpstreamError
from .responses import aread_kept, read_kept
from .wire import TokenLease, TokenSet, TokenStore

_LOCK_POLL_SECONDS = 0.005
MIN_LOCK_WAIT = 1.0  # seconds any call may wait for another call's refresh, whatever its budget has left


# --- commands the flow yields to its driver ---------------------------------------------------------------

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
    """Send this token request; the driver reads the body (capped) before handing the response back."""

    request: httpx.Request


@dataclass(frozen=True)
class LockStore:
    """Lease the authentication's row in the shared store; the driver replies with the lease."""


@dataclass(frozen=True)
class SaveStore:
    """Write the rotated tokens through the held lease and release it."""

    tokens: TokenSet


@dataclass(frozen=True)
class ReleaseStore:
    """Release the held lease without writing."""


ACQUIRE, RELEASE, LOCK_STORE, RELEASE_STORE = Acquire(), Release(), LockStore(), ReleaseStore()
# An API request to send (its response comes back), or one of the commands above.
Command = Union[httpx.Request, Acquire, Release, Sleep, FetchToken, LockStore, SaveStore, ReleaseStore]
Flow = Generator[Command, Any, None]


# --- the lock ---------------------------------------------------------------------------------------------

class RefreshLock:
    """One auth object's single-flight lock, for threads and event loops alike.

    A thread lock guards every caller; an async caller first queues on its event loop's own lock, then polls
    the thread lock, so a loop never blocks on it. Every wait is bounded by the caller's ``max_wait``."""

    def __init__(self) -> None:
        self._thread_lock = threading.Lock()
        # An asyncio.Lock belongs to one event loop; a host may drive the same auth from several.
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())

    def acquire(self, max_wait: float) -> None:
        if not self._thread_lock.acquire(timeout=max_wait):
            raise lock_wait_error(max_wait)

    def release(self) -> None:
        self._thread_lock.release()

    async def aacquire(self, max_wait: float) -> None:
        """Both waits together are bounded by ``max_wait``; a free lock is taken even when nothing is left."""
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
                await asyncio.sleep(_LOCK_POLL_SECONDS)
        except BaseException:
            loop_lock.release()
            raise

    def arelease(self) -> None:
        self._thread_lock.release()
        self._loop_lock().release()

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._loop_locks.get(loop)
        if lock is None:
            lock = self._loop_locks.setdefault(loop, asyncio.Lock())
        return lock


def lock_wait_error(seconds: float) -> TransportError:
    return TransportError(f"gave up after {seconds:.1f} s waiting for another call's token refresh to finish")


# --- the driver -------------------------------------------------------------------------------------------

class FlowDriver:
    """Runs one request's flow with the auth object's lock and store, releasing what it holds on any exit.

    ``max_wait`` bounds the waits for another call's refresh: the refresh lock, then the store's row lease
    (which gets what is left of it, at least MIN_LOCK_WAIT)."""

    def __init__(self, lock: RefreshLock, store: TokenStore | None, max_wait: float) -> None:
        self._lock, self._store, self.max_wait = lock, store, max_wait
        self._holds_lock = False
        self._lease: TokenLease | None = None
        self._deadline = time.monotonic() + max_wait

    def locked(self, request: httpx.Request, flow: Flow) -> Generator[httpx.Request, httpx.Response, None]:
        """The flow as httpx's ``sync_auth_flow``, with the refresh lock and any store lease released on every exit:
        requests go out through the caller's client."""
        request.read()
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
                    reply = self._run(command)
        except StopIteration:
            return
        finally:
            self._release_all(self._lock.release)

    async def alocked(self, request: httpx.Request, flow: Flow) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The flow as httpx's ``async_auth_flow``."""
        await request.aread()
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
                    reply = await self._arun(command)
        except StopIteration:
            return
        finally:
            self._release_all(self._lock.arelease)

    def _run(self, command: Command) -> Any:
        if isinstance(command, Acquire):
            self._lock.acquire(self.max_wait)
            self._holds_lock = True
        elif isinstance(command, Release):
            self._holds_lock = False
            self._lock.release()
        elif isinstance(command, Sleep):
            time.sleep(command.seconds)
        elif isinstance(command, LockStore):
            self._lease = self._shared_store().lock(self._store_wait())
            return self._lease
        else:
            self._end_lease(command)
        return None

    async def _arun(self, command: Command) -> Any:
        if isinstance(command, Acquire):
            await self._lock.aacquire(self.max_wait)
            self._holds_lock = True
        elif isinstance(command, Release):
            self._holds_lock = False
            self._lock.arelease()
        elif isinstance(command, Sleep):
            await asyncio.sleep(command.seconds)
        elif isinstance(command, LockStore):
            return await self._alock_store()
        else:
            self._end_lease(command)
        return None

    def _shared_store(self) -> TokenStore:
        assert self._store is not None, "the flow asked for the store of an auth object that has none"
        return self._store

    def _store_wait(self) -> float:
        """How long taking the store's row lease may wait: what is left of ``max_wait`` now (the refresh lock
        may have used some), at least MIN_LOCK_WAIT as for that lock, never more than ``max_wait``."""
        return min(self.max_wait, max(MIN_LOCK_WAIT, self._deadline - time.monotonic()))

    async def _alock_store(self) -> TokenLease:
        """The row lease, taken in a worker thread; a lease that arrives after the caller gave up is released."""
        future = asyncio.get_running_loop().run_in_executor(None, self._shared_store().lock, self._store_wait())
        try:
            self._lease = await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(_release_late_lease)
            raise
        return self._lease

    def _end_lease(self, command: Command) -> None:
        lease, self._lease = self._lease, None
        assert lease is not None, "the flow ended a store lease it did not hold"
        if isinstance(command, SaveStore):
            lease.save(command.tokens)
        else:
            lease.release()

    def _release_all(self, release_lock: Callable[[], None]) -> None:
        if self._lease is not None:
            lease, self._lease = self._lease, None
            lease.release()
        if self._holds_lock:
            self._holds_lock = False
            release_lock()


def _release_late_lease(future: "asyncio.Future[TokenLease]") -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().release()


# --- capped reads of the answers the driver handles -------------------------------------------------------

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

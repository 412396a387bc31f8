"""OAuth 2.0 refresh-token lifecycle for Outreach, as an ``httpx.Auth`` flow.

Outreach access tokens live two hours and every refresh *rotates* the refresh token: the old one dies the
moment the new one is issued. Three rules follow, and this module enforces them for every host (the Python
API, the CLI, the Connectors API server):

* one refresh at a time per auth object (two concurrent refreshes would kill each other's refresh token);
* the new token set is handed to ``on_refresh`` (the host persists it) *before* the new access token is used;
* a rejected refresh token is :class:`ReconnectRequired`, not a generic failure.

The flow is written once as a generator of *commands* (a request to send, take/release the refresh lock,
sleep) and driven by a small sync driver and a small async driver, so the token request goes through the
same client and transport as the API call and the logic is shared, as in httpx's own auth classes.
No token or secret ever appears in a repr, an exception message or a log record.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Generator, Union

import httpx

from outreach_connector.errors import AuthError, RateLimited, ReconnectRequired, UpstreamError

logger = logging.getLogger(__name__)

OnRefresh = Callable[["TokenSet"], None]


@dataclass(frozen=True)
class TokenSet:
    """The tokens of one authorisation; ``expires_at`` is a Unix time, ``None`` when unknown."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float | None = None
    scope: str | None = None


class BearerAuth(httpx.Auth):
    """A static access token (no refresh); its repr never shows the token."""

    def __init__(self, access_token: str) -> None:
        self._access_token = access_token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._access_token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(access_token=<redacted>)"


# --- commands the shared flow yields to its drivers -------------------------------------------------------

@dataclass(frozen=True)
class _Acquire:
    """Take the per-auth refresh lock."""


@dataclass(frozen=True)
class _Release:
    """Give the refresh lock back."""


@dataclass(frozen=True)
class _Sleep:
    seconds: float


@dataclass(frozen=True)
class _FetchToken:
    """Send this token request; the driver reads the body before handing the response back."""

    request: httpx.Request


_ACQUIRE, _RELEASE = _Acquire(), _Release()
Command = Union[httpx.Request, _Acquire, _Release, _Sleep, _FetchToken]
Flow = Generator[Command, Any, None]
_LOCK_POLL_SECONDS = 0.005


class OAuthRefreshAuth(httpx.Auth):
    """Bearer auth that refreshes before expiry and once on a 401, single flight, rotation-safe."""

    requires_request_body = True  # the request may be sent twice (after a 401), so its body must be replayable

    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str, token_url: str,
                 access_token: str | None = None, expires_at: float | None = None,
                 on_refresh: OnRefresh | None = None, clock: Callable[[], float] = time.time,
                 refresh_margin: float = 60.0, max_token_wait: float = 120.0) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_url = token_url
        self._on_refresh = on_refresh
        self._clock = clock
        self._margin = refresh_margin
        self._max_token_wait = max_token_wait
        self._tokens = TokenSet(access_token or "", refresh_token, expires_at)
        # The access token requests may carry: a rotated one is published here only after on_refresh.
        self._access_token = self._tokens.access_token
        self._refresh_at = None if expires_at is None else expires_at - refresh_margin
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())
        self.refresh_count = 0

    def __repr__(self) -> str:
        return f"OAuthRefreshAuth(token_url={self._token_url!r}, credentials=<redacted>)"

    @property
    def token_set(self) -> TokenSet:
        """The current tokens (repr-safe); what a host would persist."""
        return self._tokens

    # --- the shared flow ---------------------------------------------------------------------------------

    def _flow(self, request: httpx.Request) -> Flow:
        if self._needs_refresh():
            yield _ACQUIRE
            if self._needs_refresh():  # another caller may have refreshed while we waited for the lock
                yield from self._refresh_flow()
            yield _RELEASE
        sent_with = self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        yield _ACQUIRE
        if self._access_token == sent_with:  # nobody refreshed since our request left
            yield from self._refresh_flow()
        yield _RELEASE
        self._authorize(request)
        yield request

    def _needs_refresh(self) -> bool:
        if not self._access_token or self._unpersisted():
            return True
        return self._refresh_at is not None and self._clock() >= self._refresh_at

    def _unpersisted(self) -> bool:
        """True while a rotated token set has not reached on_refresh yet."""
        return self._tokens.access_token != self._access_token

    def _authorize(self, request: httpx.Request) -> str:
        token = self._access_token
        request.headers["Authorization"] = f"Bearer {token}"
        return token

    def _refresh_flow(self) -> Flow:
        if self._unpersisted():  # Outreach already rotated; only the hand-over to the host is missing
            self._persist()
            return
        waited = 0.0
        while True:
            response = yield _FetchToken(self._token_request())
            delay = self._retry_delay(response, waited)
            if delay is None:
                break
            waited += delay
            yield _Sleep(delay)
        self._adopt(self._parse_token_response(response))

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "refresh_token", "refresh_token": self._tokens.refresh_token,
                "client_id": self._client_id, "client_secret": self._client_secret}
        return httpx.Request("POST", self._token_url, data=form, headers={"Accept": "application/json"})

    def _retry_delay(self, response: httpx.Response, waited: float) -> float | None:
        """Seconds to wait before asking again after a 429, or None to take the response as final."""
        if response.status_code != 429:
            return None
        delay = _retry_after_seconds(response)
        if waited + delay > self._max_token_wait:
            raise RateLimited(429, [], _error_body(response), retry_after=delay,
                              message="Outreach's token endpoint is rate limiting refreshes "
                                      f"(Retry-After {delay:g}s exceeds the {self._max_token_wait:g}s budget)")
        logger.info("token endpoint answered 429; waiting %.2fs before refreshing again", delay)
        return delay

    def _parse_token_response(self, response: httpx.Response) -> TokenSet:
        if response.status_code != 200:
            raise _refresh_error(response)
        try:
            payload = response.json()
            access_token = payload["access_token"]
        except (ValueError, KeyError, TypeError):
            raise UpstreamError(response.status_code, [], None,
                                message="Outreach's token endpoint answered 200 without an access token") from None
        expires_in = payload.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else None
        # Outreach rotates refresh tokens; a server that does not keeps the old one valid.
        return TokenSet(access_token, payload.get("refresh_token") or self._tokens.refresh_token,
                        None if lifetime is None else self._clock() + lifetime, payload.get("scope"))

    def _adopt(self, tokens: TokenSet) -> None:
        # Outreach has already killed the old refresh token: keep the new set even if persisting fails,
        # but requests only get its access token once the host has it (see _persist).
        self._refresh_at = self._refresh_time(tokens.expires_at)
        self._tokens = tokens
        self.refresh_count += 1
        logger.info("refreshed the Outreach access token (expires_at=%s)", tokens.expires_at)
        self._persist()

    def _refresh_time(self, expires_at: float | None) -> float | None:
        if expires_at is None:
            return None
        lifetime = expires_at - self._clock()
        # A margin larger than half the token's lifetime would refresh on every call.
        return expires_at - min(self._margin, max(lifetime, 0.0) / 2)

    def _persist(self) -> None:
        if self._on_refresh is not None:
            self._on_refresh(self._tokens)
        self._access_token = self._tokens.access_token

    # --- drivers -----------------------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()
        flow, holding = self._flow(request), False
        try:
            reply: Any = None
            while True:
                command = flow.send(reply)
                reply = None
                if isinstance(command, _Acquire):
                    self._thread_lock.acquire()
                    holding = True
                elif isinstance(command, _Release):
                    self._thread_lock.release()
                    holding = False
                elif isinstance(command, _Sleep):
                    time.sleep(command.seconds)
                elif isinstance(command, _FetchToken):
                    reply = yield command.request
                    reply.read()
                else:
                    reply = yield command
        except StopIteration:
            return
        finally:
            if holding:
                self._thread_lock.release()

    async def async_auth_flow(self, request: httpx.Request):  # type: ignore[override]
        await request.aread()
        flow, holding = self._flow(request), False
        try:
            reply: Any = None
            while True:
                command = flow.send(reply)
                reply = None
                if isinstance(command, _Acquire):
                    await self._acquire_async()
                    holding = True
                elif isinstance(command, _Release):
                    self._release_async()
                    holding = False
                elif isinstance(command, _Sleep):
                    await asyncio.sleep(command.seconds)
                elif isinstance(command, _FetchToken):
                    reply = yield command.request
                    await reply.aread()
                else:
                    reply = yield command
        except StopIteration:
            return
        finally:
            if holding:
                self._release_async()

    def _loop_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; a host may drive this auth from several.
        loop = asyncio.get_running_loop()
        lock = self._loop_locks.get(loop)
        if lock is None:
            lock = self._loop_locks.setdefault(loop, asyncio.Lock())
        return lock

    async def _acquire_async(self) -> None:
        """Queue on the loop's lock, then take the thread lock that also guards sync callers and other loops."""
        loop_lock = self._loop_lock()
        await loop_lock.acquire()
        try:
            while not self._thread_lock.acquire(blocking=False):
                await asyncio.sleep(_LOCK_POLL_SECONDS)  # never block the event loop on a thread lock
        except BaseException:
            loop_lock.release()
            raise

    def _release_async(self) -> None:
        self._thread_lock.release()
        self._loop_lock().release()


def _retry_after_seconds(response: httpx.Response) -> float:
    """Retry-After in seconds, from its delta or HTTP-date form (absent or unreadable: one second)."""
    value = response.headers.get("Retry-After", "1")
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 1.0


def _error_body(response: httpx.Response) -> dict[str, Any] | None:
    """Only the OAuth error fields of a token-endpoint answer: never echo anything else it might carry."""
    try:
        payload = response.json()
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    return {k: payload[k] for k in ("error", "error_description") if isinstance(payload.get(k), str)} or None


def _refresh_error(response: httpx.Response) -> UpstreamError:
    body = _error_body(response)
    code = (body or {}).get("error")
    errors = [{"id": code, "detail": (body or {}).get("error_description")}] if code else []
    status = response.status_code
    if status in (400, 401) and code == "invalid_grant":
        return ReconnectRequired(status, errors, body, message=(
            "Outreach rejected the refresh token (invalid_grant): it was revoked, expired or already used. "
            "Reconnect: the user must authorise the Outreach app again."))
    if status in (400, 401):
        return AuthError(status, errors, body, message=(
            f"Outreach's token endpoint refused the refresh ({status} {code or 'no error code'}): "
            "check the OAuth client id, client secret and token URL."))
    return UpstreamError(status, errors, body,
                         message=f"Outreach's token endpoint answered {status} to a token refresh")


__all__ = ["BearerAuth", "OAuthRefreshAuth", "TokenSet"]

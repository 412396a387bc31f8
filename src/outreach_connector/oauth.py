"""OAuth 2.0 refresh-token lifecycle for Outreach, as an ``httpx.Auth`` flow.

Outreach access tokens live two hours and every refresh *rotates* the refresh token: the old one dies the
moment the new one is issued. Three rules follow, and this module enforces them for every host (the Python
API, the CLI, the Connectors API server):

* one refresh at a time per auth object (two concurrent refreshes would kill each other's refresh token);
* the new token set is handed to ``on_refresh`` (the host persists it) *before* the new access token is used;
* a rejected refresh token is :class:`ReconnectRequired`, not a generic failure.

The flow is written once as a generator of *commands* (a request to send, take/release the refresh lock,
sleep, lease the stored row) and run for each request by a :class:`~outreach_connector.oauth_drivers.FlowDriver`
handed the auth object's lock and store, sync or async, so the token request goes through the same client and
transport as the API call and the logic is shared, as in httpx's own auth classes.
No token or secret ever appears in a repr, an exception message or a log record.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, AsyncGenerator, Callable, Generator

import httpx

from .errors import AuthError, RateLimited, ReconnectRequired, UpstreamError
# Re-exported for the old import path: errors.py holds every error class.
from .errors import AuthenticationGone as AuthenticationGone
from .header_values import bearer, header_problem
from .oauth_drivers import (ACQUIRE, LOCK_STORE, MIN_LOCK_WAIT, RELEASE, RELEASE_STORE, Command,
                                              FetchToken, Flow, FlowDriver, RefreshLock, SaveStore, Sleep)
from .responses import loads
from .retry import BUDGET_LEFT, retry_after_seconds
# Re-exported for the old import path: the value types live in the bottom layer, below the server's stores.
from .wire import TokenLease as TokenLease, TokenSet, TokenStore as TokenStore

logger = logging.getLogger(__name__)

OnRefresh = Callable[[TokenSet], None]
# An access token said to live longer than a day (or a negative, infinite or NaN lifetime) is taken as a
# day: a token endpoint's typo must not pin a dead token for years, nor make every call refresh.
MAX_TOKEN_LIFETIME = 86400.0


class OAuthRefreshAuth(httpx.Auth):
    """Bearer auth that refreshes before expiry and once on a 401, single flight, rotation-safe.

    With a ``token_store`` (the server's database) the single flight spans processes: a refresh locks the
    authentication's stored row, re-reads it, adopts tokens another process already rotated, and writes a
    rotated set before the lock is released. Without one, ``on_refresh`` receives every rotated set.

    This class holds the tokens and the flow (``_flow``, a generator of commands); each request's flow is run by
    a :class:`FlowDriver` handed this object's refresh lock and token store.
    """

    requires_request_body = True  # the request may be sent twice (after a 401), so its body must be replayable

    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str, token_url: str,
                 access_token: str | None = None, expires_at: float | None = None,
                 on_refresh: OnRefresh | None = None, clock: Callable[[], float] = time.time,
                 refresh_margin: float = 60.0, max_token_wait: float = 120.0,
                 timeout: httpx.Timeout | None = None, token_store: TokenStore | None = None,
                 redirect_uri: str | None = None) -> None:
        self._client_id = client_id
        self._redirect_uri = redirect_uri  # sent again on every refresh when the authorisation had one
        self._client_secret = client_secret
        self._token_url = token_url
        self._on_refresh = on_refresh
        self._store = token_store
        self._clock = clock
        self._margin = refresh_margin
        self._max_token_wait = max_token_wait
        # Token requests get the same time bounds as API requests; waiting for another caller's refresh is
        # bounded by the retry budget plus one timeout (what that refresh itself may take).
        self._timeout = timeout
        self._max_lock_wait = max_token_wait + longest_request_seconds(timeout)
        self._tokens = TokenSet(access_token or "", refresh_token, expires_at)
        # The access token requests may carry: a rotated one is published here only after on_refresh.
        self._access_token = self._tokens.access_token
        self._refresh_at = None if expires_at is None else expires_at - refresh_margin
        self._refresh_lock = RefreshLock()
        self.refresh_count = 0

    def __repr__(self) -> str:
        return f"OAuthRefreshAuth(token_url={self._token_url!r}, credentials=<redacted>)"

    @property
    def token_set(self) -> TokenSet:
        """The current tokens (repr-safe); what a host would persist."""
        return self._tokens

    # --- httpx's entry points: the flow, run by a driver --------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        return self._driver_for(request).locked(request, self._flow(request))

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return self._driver_for(request).alocked(request, self._flow(request))

    def _driver_for(self, request: httpx.Request) -> FlowDriver:
        """A driver that waits for another call's refresh no longer than what is left of this request's retry
        budget (the sender says, see ``retry.BUDGET_LEFT``), but at least MIN_LOCK_WAIT (a refresh usually takes
        less; with no budget left a call would otherwise fail whenever it met a refresh), never more than this
        object's own bound."""
        left = request.extensions.get(BUDGET_LEFT)
        wait = self._max_lock_wait if left is None else min(self._max_lock_wait, max(MIN_LOCK_WAIT, left))
        return FlowDriver(self._refresh_lock, self._store, wait)

    # --- the flow ----------------------------------------------------------------------------------------

    def _flow(self, request: httpx.Request) -> Flow:
        bounds = _Bounds(self._timeout_for(request), time.monotonic())
        if self._needs_refresh():
            yield ACQUIRE
            if self._needs_refresh():  # another caller may have refreshed while we waited for the lock
                yield from self._refresh_flow(None, bounds)
            yield RELEASE
        sent_with = self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        yield ACQUIRE
        if self._access_token == sent_with:  # nobody refreshed since our request left
            yield from self._refresh_flow(sent_with, bounds)
        yield RELEASE
        self._authorize(request)
        yield request

    def _timeout_for(self, request: httpx.Request) -> dict[str, Any] | None:
        if self._timeout is not None:
            return self._timeout.as_dict()
        return request.extensions.get("timeout")  # the client's own timeouts

    def _needs_refresh(self) -> bool:
        return self._unpersisted() or self._stale(None)

    def _stale(self, rejected: str | None) -> bool:
        """True when the current access token cannot be used: none, the one Outreach just refused, or expiring."""
        if not self._access_token or self._access_token == rejected:
            return True
        return self._refresh_at is not None and self._clock() >= self._refresh_at

    def _unpersisted(self) -> bool:
        """True while a rotated token set has not reached on_refresh (or the store) yet."""
        return self._tokens.access_token != self._access_token

    def _authorize(self, request: httpx.Request) -> str:
        token = self._access_token
        request.headers["Authorization"] = bearer(token)
        return token

    def _refresh_flow(self, rejected: str | None, bounds: "_Bounds") -> Flow:
        if self._store is not None:
            yield from self._shared_refresh_flow(rejected, bounds)
            return
        if self._unpersisted():  # Outreach already rotated; only the hand-over to the host is missing
            self._persist()
            return
        self._adopt((yield from self._fetch_flow(bounds)))
        self._persist()

    def _shared_refresh_flow(self, rejected: str | None, bounds: "_Bounds") -> Flow:
        """Refresh under the store's lock: what another process rotated is used, never rotated again."""
        for attempt in (1, 2):
            lease = yield LOCK_STORE
            if self._unpersisted():  # rotated here earlier, but the write failed: write it now
                yield SaveStore(self._tokens)
                self._access_token = self._tokens.access_token
                return
            self._take_stored(lease.tokens)
            if not self._stale(rejected):
                yield RELEASE_STORE
                return
            sent = self._tokens.refresh_token
            try:
                tokens = yield from self._fetch_flow(bounds)
            except ReconnectRequired:
                yield RELEASE_STORE
                if attempt == 2:
                    raise
                # Re-read once: the refresh token may have been rotated by a process that did not hold the lock.
                lease = yield LOCK_STORE
                changed = lease.tokens is not None and lease.tokens.refresh_token != sent
                yield RELEASE_STORE
                if not changed:
                    raise
                continue
            self._adopt(tokens)
            yield SaveStore(tokens)  # stored (and the row unlocked) before any request carries it
            self._access_token = tokens.access_token
            return

    def _take_stored(self, stored: TokenSet | None) -> None:
        if stored is None:
            raise AuthenticationGone("the authentication was deleted while this call was running")
        if stored != self._tokens:  # another process refreshed: its tokens are the live ones
            self._tokens = stored
            self._refresh_at = self._refresh_time(stored.expires_at)
            self._access_token = stored.access_token

    def _fetch_flow(self, bounds: "_Bounds") -> Generator[Command, Any, TokenSet]:
        while True:
            response = yield FetchToken(self._token_request(bounds.timeout))
            # Everything this call has spent so far (waiting for the lock included) counts against the budget.
            delay = self._retry_delay(response, time.monotonic() - bounds.started)
            if delay is None:
                break
            yield Sleep(delay)
        return self._parse_token_response(response)

    def _token_request(self, timeout: dict[str, Any] | None) -> httpx.Request:
        form = refresh_form(self._tokens.refresh_token, self._client_id, self._client_secret, self._redirect_uri)
        extensions = {} if timeout is None else {"timeout": timeout}
        return httpx.Request("POST", self._token_url, data=form, headers={"Accept": "application/json"},
                             extensions=extensions)

    def _retry_delay(self, response: httpx.Response, waited: float) -> float | None:
        """Seconds to wait before asking again after a 429, or None to take the response as final."""
        if response.status_code != 429:
            return None
        delay = retry_after_seconds(response.headers, time.time(), use_reset=False)
        if delay is None:  # absent or unreadable
            delay = 1.0
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
            payload = loads(response.content)
            access_token = payload["access_token"]
        except (ValueError, KeyError, TypeError):
            raise UpstreamError(response.status_code, [], None,
                                message="Outreach's token endpoint answered 200 without an access token") from None
        if not isinstance(access_token, str) or not access_token:
            raise UpstreamError(response.status_code, [], None,
                                message="Outreach's token endpoint answered 200 without an access token")
        problem = header_problem(access_token)
        if problem is not None:  # never stored nor sent: h11 would quote it in its error and its debug log
            raise UpstreamError(response.status_code, [], None, message=(
                f"Outreach's token endpoint answered 200 with an access token HTTP cannot carry (it {problem})"))
        lifetime = token_lifetime(payload.get("expires_in"))
        refresh_token = payload.get("refresh_token")
        # Outreach rotates refresh tokens; a server that does not keeps the old one valid.
        return TokenSet(access_token, refresh_token if isinstance(refresh_token, str) and refresh_token
                        else self._tokens.refresh_token,
                        None if lifetime is None else self._clock() + lifetime, _text_or_none(payload.get("scope")))

    def _adopt(self, tokens: TokenSet) -> None:
        # Outreach has already killed the old refresh token: keep the new set even if persisting fails,
        # but requests only get its access token once the host (or the store) has it.
        self._refresh_at = self._refresh_time(tokens.expires_at)
        self._tokens = tokens
        self.refresh_count += 1
        logger.info("refreshed the Outreach access token (expires_at=%s)", tokens.expires_at)

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


@dataclass(frozen=True)
class _Bounds:
    """One call's time bounds: the timeouts its token requests carry, and when it started."""

    timeout: dict[str, Any] | None
    started: float


def refresh_form(refresh_token: str, client_id: str, client_secret: str, redirect_uri: str | None) -> dict[str, str]:
    """The form of a refresh-token grant; ``redirect_uri`` is sent again when the authorisation had one."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id,
            "client_secret": client_secret}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    return form


def longest_request_seconds(timeout: httpx.Timeout | None) -> float:
    """What one request may take at most under ``timeout`` (unset parts count as a minute)."""
    if timeout is None:
        return 60.0
    parts = (timeout.connect, timeout.write, timeout.read, timeout.pool)
    return sum(60.0 if part is None else part for part in parts)


def token_lifetime(expires_in: Any) -> float | None:
    """``expires_in`` in seconds, clamped to [0, MAX_TOKEN_LIFETIME]; None when absent or unreadable."""
    if isinstance(expires_in, bool):
        return None
    if isinstance(expires_in, str):
        try:
            expires_in = float(expires_in)
        except ValueError:
            return None
    if not isinstance(expires_in, (int, float)) or math.isnan(expires_in):
        return None
    return min(max(float(expires_in), 0.0), MAX_TOKEN_LIFETIME)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _error_body(response: httpx.Response) -> dict[str, Any] | None:
    """Only the OAuth error code of a token-endpoint answer: its free text (``error_description``) is the
    endpoint's to choose, so it is never echoed to a caller."""
    try:
        payload = loads(response.content)
    except ValueError:  # not JSON, or nested too deep
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), str):
        return None
    return {"error": payload["error"][:100]}


def _refresh_error(response: httpx.Response) -> UpstreamError:
    body = _error_body(response)
    code = (body or {}).get("error")
    errors = [{"id": code}] if code else []
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


__all__ = ["AuthenticationGone", "OAuthRefreshAuth", "TokenLease", "TokenSet", "TokenStore", "longest_request_seconds",
           "refresh_form", "token_lifetime"]

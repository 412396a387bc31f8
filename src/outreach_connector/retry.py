"""When to retry, how long to wait, and how to pace before Outreach's rate limit is reached.

Pure decisions, shared by the sync and async senders. Time comes from an injectable ``clock`` (epoch
seconds), so tests can run an hour of rate-limit windows on a virtual clock in milliseconds.

- A request is repeated only when repeating it cannot apply it twice: 429 and 503 with ``Retry-After`` (Outreach
  refused without acting) and connection failures before any byte was sent, for every method; other 5xx and
  dropped connections only for idempotent methods. A create whose connection dropped is ``OutcomeUnknown``.
- Waits honour ``Retry-After`` (seconds, an HTTP date or an ISO timestamp), and on 429 ``X-RateLimit-Reset``;
  otherwise exponential backoff with jitter. One call never waits more than ``max_total_wait`` in all.
- :class:`RatePacer` reads ``X-RateLimit-Remaining`` and spreads the last requests of a window over the time
  left, so a busy host slows down instead of running into 429s.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Mapping

import httpx

# RetryPolicy lives in the bottom layer (settings reads it too); ``outreach_connector.retry`` stays its public path.
from .wire import HttpCall, RetryPolicy as RetryPolicy

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Raised before any byte of the request reached Outreach: safe to resend whatever the method.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Refused by our own HTTP stack before the request left (a header value HTTP cannot carry): the same request
# would be refused again, so it is never retried.
LOCAL_ERRORS = (httpx.LocalProtocolError,)
# X-RateLimit-Reset below this is a number of seconds from now, above it an epoch time (in ms above the next).
EPOCH_FLOOR = 1e9
EPOCH_MS_FLOOR = 1e12

Clock = Callable[[], float]


def may_retry_status(call: HttpCall, status: int, headers: dict[str, str] | None = None) -> bool:
    """429, and 503 with ``Retry-After`` (maintenance), mean Outreach refused without acting: any method may
    repeat them. Other 5xx may come after the work was done, so only requests that are safe to repeat."""
    if status == 429 or (status == 503 and headers and "retry-after" in headers):
        return True
    if call.shrinkable and status in (502, 504):
        return False
    return status in RETRY_STATUSES and call.method in IDEMPOTENT


def may_retry_exception(call: HttpCall, exc: Exception) -> bool:
    if isinstance(exc, LOCAL_ERRORS):
        return False
    return isinstance(exc, NOT_SENT) or call.method in IDEMPOTENT


def reset_time(value: str | None, now: float) -> float | None:
    """``X-RateLimit-Reset`` as an epoch time: Outreach sends epoch seconds; small values are deltas."""
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    if number is None or not math.isfinite(number):
        return None
    if number >= EPOCH_MS_FLOOR:
        return number / 1000
    return number if number >= EPOCH_FLOOR else now + max(0.0, number)


def retry_after_time(value: str | None, now: float) -> float | None:
    """``Retry-After`` as an epoch time: delta seconds, an HTTP date, or an ISO-8601 timestamp."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
        return now + max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # only for the rare HTTP-date form: keep start-up lean

    for parse in (parsedate_to_datetime, lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))):
        try:
            moment = parse(value)
        except (TypeError, ValueError, IndexError):
            continue
        if moment is not None:
            return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    return None


def retry_after_seconds(headers: Mapping[str, str], now: float, use_reset: bool = True) -> float | None:
    """Seconds Outreach asks to wait: ``Retry-After``, else (if ``use_reset``) until ``X-RateLimit-Reset``."""
    at = retry_after_time(headers.get("retry-after"), now)
    if at is None and use_reset:
        at = reset_time(headers.get("x-ratelimit-reset"), now)
    return None if at is None else max(0.0, at - now)


# The request extension carrying ``Attempts.left()`` to the auth flow, which waits no longer for a refresh lock.
BUDGET_LEFT = "outreach_connector.budget_left"


@dataclass
class Attempts:
    """The retry bookkeeping of one call: what it waited so far, and why it stopped."""

    policy: RetryPolicy
    clock: Clock = time.time
    number: int = 0
    waited: float = 0.0
    needed: float | None = None   # the wait that did not fit in the budget, when that is why it stopped
    ambiguous: bool = False       # an earlier attempt may have reached Outreach without an answer coming back
    started: float = field(init=False)  # when the call began (the clock's time)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def left(self) -> float:
        """Seconds of the budget still unused: the most this attempt may wait for another call's refresh."""
        return max(0.0, self.policy.max_total_wait - self.spent())

    def spent(self) -> float:
        """What the call has used of its budget: its waits, or the time since it began if that is more (failed
        attempts that ran into a timeout, or waited for another call's token refresh, use the budget too: no
        attempt starts once it is gone, so a call ends within the budget plus that one attempt)."""
        return max(self.waited, self.clock() - self.started)

    def next_delay(self, status: int | None, headers: dict[str, str] | None) -> float | None:
        """Seconds to wait before the next attempt, or None when the attempts or the wait budget are spent.

        ``X-RateLimit-Reset`` only speaks for 429: every answer carries it, and a 503 must not wait for the
        hourly window to roll over.
        """
        self.number += 1
        if self.number >= self.policy.max_attempts:
            return None
        hinted = retry_after_seconds(headers or {}, self.clock(), use_reset=status == 429)
        delay = hinted if hinted is not None else self.policy.backoff(self.number)
        if self.spent() + delay > self.policy.max_total_wait:
            self.needed = delay
            return None
        self.waited += delay
        return delay

    def pace(self, pacer: RatePacer) -> float | None:
        """The pacer's wait before the next attempt, counted in the budget; None when it does not fit."""
        budget = self.policy.max_total_wait - self.spent()
        wait = pacer.delay(budget)
        if wait > budget:
            self.needed = wait
            return None
        self.waited += wait
        return wait

    def describe_stop(self) -> str:
        if self.needed is not None:
            return (f"gave up after {self.number} attempt(s): the next would have needed a {self.needed:.1f} s "
                    f"wait, beyond the retry budget of {self.policy.max_total_wait:g} s")
        return f"gave up after {self.number} attempt(s)"


def already_applied(call: HttpCall, status: int, attempts: Attempts) -> bool:
    """A DELETE repeated after an ambiguous failure that finds nothing: the first attempt deleted it."""
    return call.method == "DELETE" and status == 404 and attempts.ambiguous


@dataclass
class RatePacer:
    """Slows down as ``X-RateLimit-Remaining`` approaches zero instead of running into 429s.

    With none left before the window resets, callers wait for the reset rather than send a request sure to be
    refused. With ``reserve`` or fewer left, the remaining ones get evenly spaced start slots over the time
    left (slots, so that concurrent callers are spread too, not only sequential ones): the budget is shared
    by every integration of the same Outreach user, and the last requests of a window are the ones that
    collide. The price is at the end of a finite job, which may finish up to one window later than a burst
    would; ``reserve=0`` bursts to the limit and only waits when nothing is left. Each request handed out is
    counted locally until an answer tells the server's count. ``X-RateLimit-Remaining`` may hold two
    comma-separated values (Outreach sends e.g. ``"9999, 19988"``): the smaller one binds.
    """

    reserve: int = 50
    clock: Clock = time.time
    remaining: int | None = None
    reset_at: float | None = None
    _next_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, headers: dict[str, str]) -> None:
        remaining = parse_remaining(headers.get("x-ratelimit-remaining"))
        reset_at = reset_time(headers.get("x-ratelimit-reset"), self.clock())
        if remaining is None or reset_at is None:
            return
        with self._lock:
            if reset_at == self.reset_at and self.remaining is not None:
                # answers to concurrent requests arrive out of order; within one window the lowest count is true
                remaining = min(remaining, self.remaining)
            self.remaining, self.reset_at = remaining, reset_at

    def delay(self, limit: float = math.inf) -> float:
        """Seconds to wait before sending the next request, which it counts. A wait longer than ``limit``
        (what the caller can afford) is returned without reserving anything: the caller will not send."""
        with self._lock:
            if self.remaining is None or self.reset_at is None:
                return 0.0
            now = self.clock()
            left = self.reset_at - now
            if left <= 0:  # the window has rolled over: the next answer tells the new budget
                self.remaining = self.reset_at = None
                self._next_at = 0.0
                return 0.0
            if self.remaining <= 0:  # a request now is sure to be refused: wait for the reset
                return left
            if self.remaining > self.reserve:
                self.remaining -= 1
                return 0.0
            start = max(now, self._next_at)
            if start - now > limit:
                return start - now
            self._next_at = start + (self.reset_at - start) / self.remaining
            self.remaining -= 1
            return start - now


def parse_remaining(value: str | None) -> int | None:
    """The binding value of ``X-RateLimit-Remaining`` (one number, or several comma-separated)."""
    if not value:
        return None
    try:
        numbers = [int(float(part)) for part in value.split(",") if part.strip()]
    except ValueError:
        return None
    return min(numbers) if numbers else None

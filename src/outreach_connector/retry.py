"""When to retry, how long to wait, and how to pace before Outreach's rate limit is reached.

Pure decisions, shared by the sync and async senders.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import httpx

from .handlers import HttpCall

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Raised before any byte of the request reached Outreach: safe to resend whatever the method.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    max_total_wait: float = 60.0   # seconds of waiting one call may spend before giving up
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.25

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return delay * (1 + random.uniform(-self.jitter, self.jitter))


def may_retry_status(call: HttpCall, status: int) -> bool:
    """429 means Outreach refused without acting; 5xx only for requests that are safe to repeat."""
    if status == 429:
        return True
    if call.shrinkable and status in (502, 504):
        return False
    return status in RETRY_STATUSES and call.method in IDEMPOTENT


def may_retry_exception(call: HttpCall, exc: Exception) -> bool:
    return isinstance(exc, NOT_SENT) or call.method in IDEMPOTENT


@dataclass
class RatePacer:
    """Slows down as ``X-RateLimit-Remaining`` approaches zero instead of running into 429s.

    When fewer than ``reserve`` requests remain before the window resets, requests are spread evenly over
    the time left. ``X-RateLimit-Remaining`` may hold two comma-separated values; the smaller one binds.
    """

    reserve: int = 50
    clock: callable = time.time
    remaining: int | None = None
    reset_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, headers: dict[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            values = [int(v) for v in remaining.split(",") if v.strip()]
            with self._lock:
                self.remaining, self.reset_at = min(values), float(reset)
        except ValueError:
            return

    def delay(self) -> float:
        with self._lock:
            if self.remaining is None or self.reset_at is None or self.remaining >= self.reserve:
                return 0.0
            left = self.reset_at - self.clock()
            if left <= 0:
                return 0.0
            self.remaining = max(self.remaining - 1, 0)  # count the request about to go out
            return left / max(self.remaining + 1, 1)

"""Per-token rate limiting over a fixed window, with Outreach's ``X-RateLimit-*`` headers.

Outreach documents 10,000 requests per rolling hour per user. The sandbox counts per access token in fixed
windows that open at a token's first request: simpler to reason about in tests, and a client that honours
``Retry-After`` or ``X-RateLimit-Reset`` (epoch seconds) behaves the same against either scheme.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .clock import iso
from .errors import ApiError, error_object


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds at which the window closes
    retry_after: int

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset)}

    def error(self) -> ApiError:
        detail = (f"You have exceeded your permitted rate limit of {self.limit:,}; "
                  f"please try again at {iso(self.reset)}.")
        headers = {**self.headers(), "Retry-After": str(self.retry_after)}
        return ApiError(429, [error_object("rateLimitExceeded", "Rate Limit Exceeded", detail)], headers)


class RateLimiter:
    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, requests counted)

    def reset(self) -> None:
        self._windows.clear()

    def hit(self, key: str, now: float) -> RateDecision:
        """Count one request (refused ones are not counted) and say whether it may proceed."""
        start, used = self._windows.get(key, (now, 0))
        if now >= start + self.window:
            start, used = now, 0
        allowed = used < self.limit
        used += allowed
        self._windows[key] = (start, used)
        reset = math.ceil(start + self.window)
        return RateDecision(allowed, self.limit, self.limit - used, reset, max(1, math.ceil(reset - now)))

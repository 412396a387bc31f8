"""Fault injection: scheduled or random failures that a resilient client must survive.

Each rule matches requests by method and/or path prefix (``/prospects`` or ``/api/v2/prospects``; token
requests are ``/oauth/token``), optionally only when ``page[size]`` exceeds a threshold. It fires on the
matching requests after the first ``skip`` ones, at most ``times`` times (None: forever), each time with
``probability`` drawn from a RNG seeded with the sandbox seed. Kinds:

- ``status``: answer with that status (429 and 503 carry ``Retry-After``) without running the request;
- ``delay``: wait that many seconds, then carry on (combines with the others);
- ``drop_before``: close the connection without a response; the request is not applied;
- ``drop_after``: apply the request, then close the connection without sending its response.

Usage: ``sb.faults.status(503, times=2, path="/prospects")``, ``sb.faults.large_page(100)``,
``sb.faults.slow(0.5, method="GET")``, ``sb.faults.drop_after(method="POST", path="/prospects")``.
Every helper returns the rule, whose ``fired`` counter tests can assert on.
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

API_PREFIX = "/api/v2"
Kind = Literal["status", "delay", "drop_before", "drop_after"]


@dataclass
class FaultRule:
    kind: Kind
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    body: bytes | None = None
    method: str | None = None
    path: str | None = None
    min_page_size: int | None = None  # fire only when page[size] is larger than this
    times: int | None = None
    skip: int = 0
    probability: float = 1.0
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str, page_size: int | None) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.path and not (path.startswith(self.path) or path.startswith(API_PREFIX + self.path)):
            return False
        return self.min_page_size is None or (page_size or 0) > self.min_page_size


class Faults:
    """The active fault rules of one sandbox."""

    def __init__(self, seed: int):
        self._seed = seed
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self._rng = random.Random(self._seed)

    def status(self, status: int, *, retry_after: float | None = None, body: bytes | None = None,
               **match) -> FaultRule:
        """Answer matching requests with ``status`` (e.g. 429, 500, 502, 503, 504)."""
        if retry_after is None and status in (429, 503):
            retry_after = 1
        return self.add(FaultRule("status", status=status, retry_after=retry_after, body=body, **match))

    def large_page(self, threshold: int, status: int = 502, **match) -> FaultRule:
        """Fail list requests whose ``page[size]`` exceeds ``threshold`` (a gateway timing out on big pages)."""
        return self.add(FaultRule("status", status=status, min_page_size=threshold, **match))

    def slow(self, seconds: float, **match) -> FaultRule:
        return self.add(FaultRule("delay", delay=seconds, **match))

    def drop_before(self, **match) -> FaultRule:
        """Close the connection before the request is applied."""
        return self.add(FaultRule("drop_before", **match))

    def drop_after(self, **match) -> FaultRule:
        """Apply the request (a write commits) and then close the connection without a response."""
        return self.add(FaultRule("drop_after", **match))

    def select(self, method: str, path: str, page_size: int | None) -> list[FaultRule]:
        """The rules that fire for this request (each one's counters advance)."""
        with self._lock:
            return [rule for rule in self.rules if self._fires(rule, method, path, page_size)]

    def _fires(self, rule: FaultRule, method: str, path: str, page_size: int | None) -> bool:
        if not rule.matches(method, path, page_size):
            return False
        rule.seen += 1
        if rule.seen <= rule.skip or (rule.times is not None and rule.fired >= rule.times):
            return False
        if rule.probability < 1.0 and self._rng.random() >= rule.probability:
            return False
        rule.fired += 1
        return True

"""The clock the tests move by hand: code under test takes ``clock=`` (a callable giving seconds) and reads it."""
from __future__ import annotations


class ManualClock:
    """Reads ``now`` until a test moves it (``advance``, or ``now`` set outright)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

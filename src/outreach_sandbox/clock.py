"""Time: the default deterministic clock and Outreach's timestamp format (``2021-11-10T13:06:54.000Z``)."""
from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime

# The default clock starts here; seed data is dated before it. Fixed so that a seed gives the same bytes.
SEED_EPOCH = datetime(2025, 1, 15, 9, 0, tzinfo=UTC).timestamp()

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TickingClock:
    """A deterministic clock: each reading returns the current instant and then moves on by ``step`` seconds.

    The sandbox reads its clock once per request, so the same request sequence gives the same timestamps.
    A step of one second keeps the default 10,000/hour rate limit out of reach of in-process benchmarks.
    """

    def __init__(self, start: float = SEED_EPOCH, step: float = 1.0):
        self._now = start
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            now = self._now
            self._now += self._step
            return now


def iso(ts: float) -> str:
    """Epoch seconds as Outreach writes them: UTC, millisecond precision, ``Z``."""
    seconds, millis = divmod(round(ts * 1000), 1000)
    t = time.gmtime(seconds)  # several times cheaper than datetime formatting, on a hot path of seeding
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 - %-formatting is the fastest here
        t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, millis)


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 date or date-time as an aware UTC datetime; None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        if _DATE_ONLY.match(text):
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def normalize_datetime(text: str) -> str | None:
    """Any accepted ISO-8601 spelling rewritten in Outreach's canonical form, so strings sort by time."""
    moment = parse_datetime(text)
    return None if moment is None else iso(moment.timestamp())


def is_date(text: str) -> bool:
    if not isinstance(text, str) or not _DATE_ONLY.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True

"""Case 3: auto-paginate every prospect of an in-process sandbox, timing the walk and its peak memory.

The floor follows ``links.next`` with raw httpx and ``json.loads``, keeping only the current page, exactly as
a streaming caller would; the connector walks with ``Connector.iterate`` (output validation included).
"""
from __future__ import annotations

import json
import statistics
import time
from typing import Any, Callable

from .results import Result
from .settings import TARGETS, Settings
from .timing import PeakGrowth, median_ratio, rss_peak_resettable
from .transports import raw_client

MB = 1e6


def raw_pull(client: Any, page_size: int) -> int:
    records, url = 0, f"/prospects?page[size]={page_size}"
    while url:
        page = json.loads(client.get(url).content)
        records += len(page["data"])
        url = page["links"].get("next")
    return records


def connector_pull(conn: Any, page_size: int) -> int:
    return sum(1 for _ in conn.iterate("list_prospects", {"page_size": page_size}))


def measured(pull: Callable[[], int], memory: str | None) -> tuple[float, int, int]:
    """Seconds, records and peak bytes added (0 when this pass does not measure memory)."""
    if memory is None:
        start = time.perf_counter()
        records = pull()
        return time.perf_counter() - start, records, 0
    with PeakGrowth(memory) as probe:
        start = time.perf_counter()
        records = pull()
        elapsed = time.perf_counter() - start
    return elapsed, records, probe.grown


def full_pull(settings: Settings, sandbox: Any, connector: Callable[..., Any]) -> list[Result]:
    """Timed pulls on both sides, alternately; memory from the kernel's peak RSS, or a traced extra pass."""
    memory = "rss" if rss_peak_resettable() else None
    transport = sandbox.transport()
    with raw_client(transport) as raw, connector(transport) as conn:
        floor = lambda: raw_pull(raw, settings.page_size)  # noqa: E731
        ours = lambda: connector_pull(conn, settings.page_size)  # noqa: E731
        runs = {"floor": [], "connector": []}
        for index in range(settings.pull_repeats):
            order = [("floor", floor), ("connector", ours)]
            for side, pull in (order if index % 2 == 0 else order[::-1]):
                runs[side].append(measured(pull, memory))
        if memory is None:  # tracemalloc slows allocation: trace one extra, untimed pass per side
            memory = "tracemalloc"
            runs["floor"].append((None, *measured(floor, memory)[1:]))
            runs["connector"].append((None, *measured(ours, memory)[1:]))
    return pull_results(settings, runs, memory)


def pull_results(settings: Settings, runs: dict[str, list[tuple]], memory: str) -> list[Result]:
    floors = [t for t, _, _ in runs["floor"] if t is not None]
    mine = [t for t, _, _ in runs["connector"] if t is not None]
    records = {n for side in runs.values() for _, n, _ in side}
    if records != {settings.prospects}:
        raise RuntimeError(f"a pull returned {sorted(records)} records, expected {settings.prospects}")
    note = (f"sandbox in process ({settings.prospects:,} prospects, pages of {settings.page_size}); "
            f"Connector.iterate vs a raw loop over links.next")
    grown = max(g for _, _, g in runs["connector"]) / MB
    floor_grown = max(g for _, _, g in runs["floor"]) / MB
    return [
        Result("pull", f"3. full pull: {settings.prospects:,} prospects", statistics.median(mine),
               statistics.median(floors), "s", median_ratio(mine, floors), TARGETS["pull"], len(mine), note),
        Result("pull_memory", "3. full pull: peak memory growth", grown, floor_grown, "MB", grown,
               TARGETS["pull_memory"], len(runs["connector"]),
               f"peak growth over the pull ({'peak RSS, /proc VmHWM' if memory == 'rss' else 'tracemalloc'}),"
               " whole process incl. the in-process sandbox; worst run"),
    ]

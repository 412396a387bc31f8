"""Case 3: auto-paginate every prospect of an in-process sandbox: time against a raw loop, and peak memory.

Time is measured in lockstep: the raw loop and ``Connector.iterate`` walk the same cursors side by side, page
by page, the order swapping every page, so load on the machine and the sandbox's own speed hit both sides
alike; the ratio is the connector's total over the floor's. Memory is measured in one more streaming pass per
side, alone, as the peak the pass added.
"""
from __future__ import annotations

import json
import time
from itertools import islice
from typing import Any, Callable

from .results import Result
from .settings import TARGETS, BenchOptions
from .timing import PeakGrowth, rss_peak_resettable
from .transports import raw_client

MB = 1e6


def first_page(page_size: int) -> str:
    return f"/prospects?page[size]={page_size}"


def raw_page(client: Any, url: str) -> tuple[int, str | None]:
    """One page the way a streaming caller reads it: every record visited, only this page held."""
    page = json.loads(client.get(url).content)
    return sum(1 for _ in page["data"]), page["links"].get("next")


def raw_pull(client: Any, page_size: int) -> int:
    records = 0
    url: str | None = first_page(page_size)
    while url:
        count, url = raw_page(client, url)
        records += count
    return records


def connector_pull(conn: Any, page_size: int) -> int:
    return sum(1 for _ in conn.iterate("list_prospects", {"page_size": page_size}))


def lockstep(raw: Any, conn: Any, page_size: int) -> dict[str, list[float] | int]:
    """Seconds per page for each side, fetched alternately, and the records each side saw."""
    records = conn.iterate("list_prospects", {"page_size": page_size})
    url: str | None = first_page(page_size)
    times: dict[str, list[float]] = {"floor": [], "connector": []}
    counts = {"floor": 0, "connector": 0}

    def floor_step() -> int:
        nonlocal url
        assert url is not None  # called only while the floor has a next page
        count, url = raw_page(raw, url)
        return count

    def connector_step() -> int:
        return sum(1 for _ in islice(records, page_size))

    while url:
        steps = [("floor", floor_step), ("connector", connector_step)]
        for side, step in steps if len(times["floor"]) % 2 == 0 else steps[::-1]:
            start = time.perf_counter()
            counts[side] += step()
            times[side].append(time.perf_counter() - start)
    start = time.perf_counter()
    counts["connector"] += sum(1 for _ in records)  # nothing is left: this only ends the walk
    times["connector"][-1] += time.perf_counter() - start
    return {**times, **{f"{side}_records": n for side, n in counts.items()}}


def measured(pull: Callable[[], int], memory: str) -> dict[str, float]:
    """One streaming pass alone: its seconds, records and the peak bytes it added."""
    with PeakGrowth(memory) as probe:
        start = time.perf_counter()
        records = pull()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "records": records, "grown": probe.grown}


def full_pull(settings: BenchOptions, sandbox: Any, connector: Callable[..., Any]) -> list[Result]:
    memory = "rss" if rss_peak_resettable() else "tracemalloc"  # tracemalloc: portable, ~7x slower
    size = settings.page_size
    with raw_client(sandbox.transport()) as raw, connector(sandbox.transport()) as conn:
        raw_page(raw, first_page(1)), conn.call("list_prospects", {"page_size": 1})  # warm-up: clients, validators
        passes = [lockstep(raw, conn, size) for _ in range(settings.pull_repeats)]
        alone = {"floor": measured(lambda: raw_pull(raw, size), memory),
                 "connector": measured(lambda: connector_pull(conn, size), memory)}
    return pull_results(settings, passes, alone, memory)


def pull_results(settings: BenchOptions, passes: list[dict], alone: dict[str, dict], memory: str) -> list[Result]:
    seen = {p[f"{side}_records"] for p in passes for side in ("floor", "connector")}
    seen |= {run["records"] for run in alone.values()}
    if seen != {settings.prospects}:
        raise RuntimeError(f"a pull returned {sorted(seen)} records, expected {settings.prospects}")
    floor = sum(sum(p["floor"]) for p in passes) / len(passes)
    ours = sum(sum(p["connector"]) for p in passes) / len(passes)
    pages = sum(len(p["floor"]) for p in passes)
    grown, floor_grown = alone["connector"]["grown"] / MB, alone["floor"]["grown"] / MB
    how = "peak RSS (/proc VmHWM)" if memory == "rss" else "tracemalloc peak"
    return [
        Result("pull", f"3. full pull: {settings.prospects:,} prospects", ours, floor, "s", ours / floor,
               TARGETS["pull"], len(passes),
               f"sandbox in process, pages of {settings.page_size}; Connector.iterate vs a raw loop over "
               f"links.next, in lockstep ({pages} page pairs, order swapped every page); ratio of totals",
               {"passes": passes, "alone": alone}),
        Result("pull_memory", "3. full pull: peak memory growth", grown, floor_grown, "MB", grown,
               TARGETS["pull_memory"], 1,
               f"{how} added by one streaming pass per side, run alone; whole process, in-process sandbox "
               "included"),
    ]

"""Timing and memory primitives: medians of interleaved runs, and the peak memory a block added.

Connector and floor are always timed in the same process, alternately, so drift (CPU frequency, a noisy
neighbour, the sandbox warming its caches) hits both sides alike.
"""
from __future__ import annotations

import ctypes
import gc
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

CLEAR_REFS = Path("/proc/self/clear_refs")
STATUS = Path("/proc/self/status")


def seconds_per_call(fn: Callable[[], object], calls: int) -> float:
    """Mean wall time of ``calls`` calls of ``fn``; garbage from earlier blocks is collected first."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(floor: Callable[[], float], connector: Callable[[], float],
                repeats: int) -> tuple[list[float], list[float]]:
    """Floor and connector measurements, one pair per repeat.

    The side that goes first alternates between repeats, so neither always runs on a warmer cache.
    """
    floors, ours = [], []
    for index in range(repeats):
        if index % 2:
            ours.append(connector())
            floors.append(floor())
        else:
            floors.append(floor())
            ours.append(connector())
    return floors, ours


async def ainterleaved(floor: Callable[[], Awaitable[float]], connector: Callable[[], Awaitable[float]],
                       repeats: int) -> tuple[list[float], list[float]]:
    """``interleaved`` for coroutines, on the running event loop."""
    floors, ours = [], []
    for index in range(repeats):
        if index % 2:
            ours.append(await connector())
            floors.append(await floor())
        else:
            floors.append(await floor())
            ours.append(await connector())
    return floors, ours


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of per-repeat ratios: each pair ran back to back, so drift cancels within a pair."""
    return statistics.median(n / d for n, d in zip(numerators, denominators))


def _status_kib(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def rss_peak_resettable() -> bool:
    """Linux lets a process reset its own RSS high-water mark (``VmHWM``) by writing 5 to clear_refs."""
    try:
        CLEAR_REFS.write_text("5")
        return _status_kib("VmHWM") > 0
    except (OSError, KeyError, ValueError):
        return False


def release_free_heap() -> None:
    """Hand memory freed by earlier cases back to the OS (glibc), so it cannot hide a block's growth.

    Without it, a pull could reuse tens of megabytes an earlier case freed and show no RSS growth at all.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


@dataclass
class PeakGrowth:
    """Peak memory a block added above where it started, in bytes.

    ``rss`` mode reads the kernel's high-water mark (no slowdown, so it can sit inside a timed run);
    ``tracemalloc`` mode is portable but slows allocation-heavy code, so only untimed runs use it.
    """

    mode: str
    start: int = 0
    grown: int = 0

    def __enter__(self) -> "PeakGrowth":
        gc.collect()
        if self.mode == "rss":
            release_free_heap()
            CLEAR_REFS.write_text("5")
            self.start = _status_kib("VmRSS") * 1024
        else:
            tracemalloc.start()
            self.start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.mode == "rss":
            self.grown = _status_kib("VmHWM") * 1024 - self.start
        else:
            self.grown = tracemalloc.get_traced_memory()[1] - self.start
            tracemalloc.stop()

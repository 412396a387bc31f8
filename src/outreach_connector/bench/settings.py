"""How big and how often each case runs: the full run (about two minutes) and ``--quick`` (a smoke run)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from .results import Target

CASES = ("small", "page", "pull", "concurrency", "cold", "server")

TARGETS = {
    "small": Target("<=", 1.5),
    "page": Target("<=", 1.3),
    "pull": Target("<=", 1.3),
    "pull_memory": Target("<", 100, "MB"),
    "concurrency": Target(">=", 0.8),
    "cold_operations": Target("<=", 1.5),
    "cold_call": Target("<=", 1.5),
    "server_memory": Target("<=", 100, "KB"),
    "server_throughput": Target(">=", 0.2),
}


@dataclass(frozen=True)
class Settings:
    repeats: int = 15           # timed blocks per side, cases 1 and 2 (the median ratio is reported)
    small_calls: int = 600      # calls per timed block, case 1
    page_size: int = 1000
    page_calls: int = 4         # calls per timed block, case 2
    prospects: int = 50_000     # records pulled, case 3
    pull_repeats: int = 1       # lockstep passes, case 3 (each pairs every page; memory is one more pass)
    calls: int = 200            # acalls per timed round, case 4
    concurrency: int = 20
    concurrency_repeats: int = 7
    cold_runs: int = 9          # fresh processes per command, case 5
    server_auths: int = 200     # authentications stored and used, case 6
    cases: tuple[str, ...] = CASES

    def overridden(self, **changes: object) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


QUICK = Settings(repeats=3, small_calls=200, page_calls=2, prospects=5_000, concurrency_repeats=3, cold_runs=2,
                 server_auths=50)

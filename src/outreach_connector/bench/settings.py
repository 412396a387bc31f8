"""How big and how often each case runs: the full run (about two minutes) and ``--quick`` (a smoke run)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .results import Target

CASES = ("small", "page", "pull", "concurrency", "cold", "sessions", "ddl", "server", "mcp", "triggers")

TARGETS = {
    "small": Target("<=", 1.5),
    "page": Target("<=", 1.3),
    "pull": Target("<=", 1.3),
    "pull_memory": Target("<", 100, "MB"),
    "concurrency": Target(">=", 0.8),
    "cold_operations": Target("<=", 1.5),
    "cold_call": Target("<=", 1.5),
    "sessions_memory": Target("<=", 100, "KB"),
    "sessions_time": Target("<=", 5, "ms"),
    "ddl_cold": Target("<=", 3.0, "s"),    # ours: a new editor session's first search
    "ddl_warm": Target("<=", 0.3, "s"),    # the issue's: at most 300 ms on this machine
    "server_memory": Target("<=", 100, "KB"),
    "server_throughput": Target(">=", 0.2),
    "mcp_call": Target("<=", 1.5),              # a tool call over stdio against the Python API call
    "mcp_list_seed": Target("<", 200, "KB"),    # the default preset: a list a real client can load
    "mcp_list_read": Target("<", 1000, "KB"),
    "mcp_list_all": Target("<", 1000, "KB"),
    "triggers_receiver": Target(">=", 500, "events/s"),  # verify + store, serve on one core
    "triggers_latency": Target("<", 1.0, "s"),             # a write in Outreach -> the host has the event
}


@dataclass(frozen=True)
class BenchOptions:
    """Sizes and repeats of one benchmark run (not the connector's ``Settings``)."""

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
    sessions: int = 200         # Connectors beyond the first, case 6
    session_runs: int = 3       # fresh process pairs, case 6 (the median is reported)
    ddl_accounts: int = 3_000   # the org searched, case 7
    ddl_prospects: int = 20_000
    ddl_repeats: int = 7        # cold sessions, and warm passes over the search terms, case 7
    server_auths: int = 200     # authentications stored and used, case 8
    mcp_calls: int = 100        # tool calls per timed block, case 9
    trigger_deliveries: int = 10_000  # webhook deliveries in the burst, case 10
    trigger_writes: int = 20    # writes timed to the long poll and the callback, case 10
    cases: tuple[str, ...] = CASES

    def overridden(self, **changes: Any) -> "BenchOptions":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


QUICK = BenchOptions(repeats=3, small_calls=200, page_calls=2, prospects=5_000, concurrency_repeats=3,
                     cold_runs=2, session_runs=1, ddl_accounts=300, ddl_prospects=2_000, ddl_repeats=2,
                     server_auths=50, mcp_calls=20, trigger_deliveries=1_000, trigger_writes=5)

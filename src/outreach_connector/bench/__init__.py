"""``python -m outreach_connector.bench``: what the connector costs on top of raw httpx + ``json.loads``.

Ten cases, each a ratio connector / floor on the same transport (or a per-session or absolute cost):

1. a small call (``get_prospect``, one realistic prospect) and 2. a large page (``list_prospects``, 1000
   prospects, output validation included), both on a pre-rendered transport;
3. a full pull of 50,000 prospects from the in-process sandbox, with its peak memory growth;
4. 200 ``acall``s, 20 at a time, against the sandbox behind a real uvicorn socket;
5. cold start of ``outreach-connector operations`` and of a first call, against importing the dependencies;
6. 200 ``Connector`` sessions in one process (a host's end users): memory and time each beyond the first.
7. dropdown search, cold and warm, on 3,000 accounts and 20,000 prospects (absolute times; see ``ddl``).
8. the Connectors API server: resident memory per used authentication, and call throughput over many.
9. MCP: a tool call over stdio against the Python API call it makes, and ``tools/list`` size and time per preset.
10. triggers: the webhook receiver's events/s (SQLite, PostgreSQL) over a burst that must lose and double
    nothing, and the time from a write in the sandbox to the event by long poll and at a callback.

Prints a Markdown table (medians of several runs) and exits 1 when a target is missed. ``--quick`` is a smoke
run of a few seconds; ``--json PATH`` also writes the results as JSON.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

from .results import Result, machine, notes, table, write_json
from .settings import CASES, QUICK, BenchOptions


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m outreach_connector.bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: small sizes, few repeats")
    p.add_argument("--only", help=f"comma-separated cases to run (of {', '.join(CASES)})")
    p.add_argument("--repeats", type=int, help="timed blocks per side, cases 1, 2 and 4")
    p.add_argument("--prospects", type=int, help="records of the full pull, case 3")
    p.add_argument("--pull-repeats", type=int, help="lockstep passes, case 3")
    p.add_argument("--page-size", type=int, help="records per page, cases 2 and 3 (Outreach allows 1000)")
    p.add_argument("--calls", type=int, help="acalls per round, case 4")
    p.add_argument("--cold-runs", type=int, help="fresh processes per command, case 5")
    p.add_argument("--sessions", type=int, help="Connectors beyond the first, case 6")
    p.add_argument("--server-auths", type=int, help="authentications stored and used, case 8")
    p.add_argument("--mcp-calls", type=int, help="tool calls per timed block, case 9")
    p.add_argument("--trigger-deliveries", type=int, help="webhook deliveries in the burst, case 10")
    p.add_argument("--trigger-writes", type=int, help="writes timed to the long poll and the callback, case 10")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return p


def settings_from(args: argparse.Namespace) -> BenchOptions:
    base = QUICK if args.quick else BenchOptions()
    cases = tuple(c.strip() for c in args.only.split(",")) if args.only else None
    unknown = set(cases or ()) - set(CASES)
    if unknown:
        raise SystemExit(f"unknown case(s) {', '.join(sorted(unknown))}; choose from {', '.join(CASES)}")
    return base.overridden(repeats=args.repeats, concurrency_repeats=args.repeats, prospects=args.prospects,
                           pull_repeats=args.pull_repeats, page_size=args.page_size, calls=args.calls,
                           cold_runs=args.cold_runs, sessions=args.sessions, server_auths=args.server_auths,
                           mcp_calls=args.mcp_calls, trigger_deliveries=args.trigger_deliveries,
                           trigger_writes=args.trigger_writes,
                           cases=cases)


def run(settings: BenchOptions) -> list[Result]:
    from . import cases, coldstart, ddl, pull, sessions  # after argument parsing: --help stays instant
    from .transports import capture, new_sandbox

    results: list[Result] = []
    sandbox = new_sandbox(max(settings.prospects, settings.page_size))
    small = capture(sandbox, "/prospects/1")
    wanted = settings.cases
    if "small" in wanted:
        results.append(cases.small_call(settings, small))
    if "page" in wanted:
        page = capture(sandbox, "/prospects", {"page[size]": str(settings.page_size)})
        results.append(cases.large_page(settings, page))
    if "pull" in wanted:
        results += pull.full_pull(settings, sandbox, cases.connector)
    if "concurrency" in wanted:
        results.append(cases.concurrency(settings))
    if "cold" in wanted:
        results += coldstart.cold_start(settings, small)
    if "sessions" in wanted:
        results += sessions.sessions(settings, sandbox)
    if "ddl" in wanted:
        results += ddl.ddl_search(settings)
    if "server" in wanted:
        from .server import server_case

        results += server_case(settings)
    if "mcp" in wanted:
        from .mcp import mcp_case

        results += mcp_case(settings)
    if "triggers" in wanted:
        from .triggers import triggers_case

        results += triggers_case(settings)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings_from(args)
    started = time.perf_counter()
    results = run(settings)
    seconds = time.perf_counter() - started
    info = machine()
    print(f"outreach-connector bench{' --quick' if args.quick else ''}: Python {info['python']}, "
          f"{info['cpus']} CPUs ({info['cpu_model']}), {seconds:.0f} s\n")
    print(table(results))
    print("\n" + notes(results))
    if args.json:
        write_json(args.json, results, vars(settings) | {"quick": args.quick}, seconds)
    missed = [r.label for r in results if not r.passed]
    if missed:
        print(f"\nmissed target: {'; '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0

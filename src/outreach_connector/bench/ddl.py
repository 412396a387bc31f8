"""Case 7: dropdown search as an editor uses it, on a real-size org in the in-process sandbox.

Accounts (3,000) are under the label-index bound: a cold search reads their labels (a probe and three sparse
pages of 1,000), a warm one is answered from memory. Prospects (20,000) are over it: every search is
Outreach's exact filters (first/last name, e-mail), so a warm search is one or two small requests. The floor
is raw httpx + ``json.loads`` of one exact-filter page of the same collection: the least an editor could send.
"""
from __future__ import annotations

import statistics
import time
from functools import partial
from typing import Any, Callable

from outreach_sandbox import Sandbox, SandboxConfig

from ..connector import Connector
from .results import Result
from .settings import TARGETS, BenchOptions
from .transports import SANDBOX_TOKEN, SANDBOX_URL, UNLIMITED, raw_client


def attributes(sandbox: Sandbox, kind: str, ident: int) -> dict[str, Any]:
    """A seeded record's attributes; every id from 1 to the seeded count exists."""
    return sandbox.store.require(kind, ident).attributes


def person_terms(sandbox: Sandbox, count: int, size: int) -> list[str]:
    """What a person types, a different prospect each time: a full name or a last name in lower case, or an
    e-mail address in upper case."""
    people = [attributes(sandbox, "prospect", (k * 7919) % size + 1) for k in range(count)]
    shapes = (lambda p: p["name"].lower(), lambda p: p["lastName"].lower(), lambda p: p["emails"][0].upper())
    return [shapes[k % 3](person) for k, person in enumerate(people)]


def account_terms(sandbox: Sandbox, count: int, size: int) -> list[str]:
    """A piece from inside an account's name, in lower case, a different account each time."""
    names = [attributes(sandbox, "account", (k * 797) % size + 1)["name"] for k in range(count)]
    return [name[1:-1].strip().lower() for name in names]


def seconds(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def session(sandbox: Sandbox) -> Connector:
    return Connector(base_url=SANDBOX_URL, access_token=SANDBOX_TOKEN, transport=sandbox.transport())


def cold_and_warm(sandbox: Sandbox, name: str, terms: list[str], repeats: int) -> tuple[list[float], list[float]]:
    """Cold: a new session's first search. Warm: a session that has searched this dropdown before, each time
    for a text not asked before (what typing does)."""
    cold = []
    for term in terms[:repeats]:
        with session(sandbox) as conn:
            cold.append(seconds(partial(conn.call, name, {"search": term})))
    with session(sandbox) as conn:
        conn.call(name, {"search": terms[-1]})
        warm = [seconds(partial(conn.call, name, {"search": term})) for term in terms[repeats:-1]]
    return cold, warm


def index_sandbox(sandbox: Sandbox) -> None:
    """Build the sandbox's value indexes before timing, as Outreach has its database indexes."""
    with raw_client(sandbox.transport()) as raw:
        for field, value in (("firstName", "x"), ("lastName", "x"), ("emails", "x@x")):
            raw.get("/prospects", params={f"filter[{field}]": value})


def floor_times(sandbox: Sandbox, path: str, params: dict[str, str], repeats: int) -> list[float]:
    with raw_client(sandbox.transport()) as raw:
        raw.get(path, params=params)
        return [seconds(lambda: raw.get(path, params=params).json()) for _ in range(repeats)]


def ddl_search(settings: BenchOptions) -> list[Result]:
    sandbox = Sandbox(SandboxConfig(accounts=settings.ddl_accounts, prospects=settings.ddl_prospects,
                                    rate_limit=UNLIMITED))
    index_sandbox(sandbox)
    count = settings.ddl_repeats * 4 + 1
    person = attributes(sandbox, "prospect", settings.ddl_prospects)
    cases = [("accounts", "list_accounts_ddl", settings.ddl_accounts, "/accounts",
              account_terms(sandbox, count, settings.ddl_accounts),
              {"filter[name]": attributes(sandbox, "account", settings.ddl_accounts)["name"],
               "fields[account]": "name"}),
             ("prospects", "list_prospects_ddl", settings.ddl_prospects, "/prospects",
              person_terms(sandbox, count, settings.ddl_prospects),
              {"filter[lastName]": person["lastName"], "fields[prospect]": "emails,firstName,lastName,name"})]
    results = []
    for key, name, size, path, terms, exact in cases:
        cold, warm = cold_and_warm(sandbox, name, terms, settings.ddl_repeats)
        floor = statistics.median(floor_times(sandbox, path, {"page[size]": "100", **exact}, settings.ddl_repeats))
        for when, times in (("cold", cold), ("warm", warm)):
            results.append(Result(
                f"ddl_{key}_{when}", f"7. {when} search: {name}, {size:,} {key}", statistics.median(times), floor,
                "s", statistics.median(times), TARGETS[f"ddl_{when}"], len(times),
                f"median seconds per search (absolute target; slowest {max(times) * 1e3:.1f} ms), e.g. "
                f"{terms[0]!r}; floor: one raw exact-filter page of {key} (sparse fields). " + NOTES[when]))
    return results


NOTES = {
    "cold": "A new session each run, a text not asked before: its label index is empty (accounts: a count "
            "probe and sparse pages of 1,000; prospects: a count probe, then Outreach's exact filters).",
    "warm": "One session that has searched before, each time a text not asked before: accounts answer from "
            "the label index in memory, prospects send their exact-filter pages (the sandbox's value indexes "
            "are built before timing, as Outreach has database indexes).",
}

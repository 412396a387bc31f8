"""Case 6: many end users in one host process: what each extra ``Connector`` session costs.

A host runs a session per end user. Each of ``count`` sessions (distinct tokens) makes one get and one list
call and is kept alive, as a host keeps them; the cost per session beyond the first is the resident memory
grown and the time taken, divided by ``count``. The floor does the same with one raw ``httpx.Client`` per
user. Both sides run in their own fresh process on one pre-rendered transport (no network, no sandbox).

    python -m outreach_connector.bench.sessions connector|floor COUNT PROSPECT_FILE PAGE_FILE
"""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import httpx

from .results import Result
from .settings import TARGETS, BenchOptions
from .transports import SANDBOX_URL, Captured, capture, raw_headers

JSONAPI = "application/vnd.api+json"


class Routed(httpx.BaseTransport):
    """A captured prospect for ``/prospects/1``, a captured page for anything else."""

    def __init__(self, prospect: bytes, page: bytes) -> None:
        self.prospect, self.page = prospect, page

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = self.prospect if request.url.path.endswith("/prospects/1") else self.page
        return httpx.Response(200, headers={"content-type": JSONAPI}, content=body)


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def connector_session(transport: httpx.BaseTransport, user: int) -> Callable[[], Any]:
    from .. import Connector

    conn = Connector(base_url=SANDBOX_URL, access_token=f"token-of-user-{user}", transport=transport)
    return lambda: (conn.call("get_prospect", {"prospect_id": 1}), conn.call("list_stages", {"page_size": 5}), conn)


def floor_session(transport: httpx.BaseTransport, user: int) -> Callable[[], Any]:
    headers = {**raw_headers(), "Authorization": f"Bearer token-of-user-{user}"}
    client = httpx.Client(base_url=SANDBOX_URL, transport=transport, headers=headers)
    return lambda: (json.loads(client.get("/prospects/1").content),
                    json.loads(client.get("/stages", params={"page[size]": "5"}).content), client)


def measure(side: str, count: int, prospect: bytes, page: bytes) -> dict[str, float]:
    """Bytes and seconds per session beyond the first; every session and its last answers stay alive."""
    make = connector_session if side == "connector" else floor_session
    transport = Routed(prospect, page)
    kept = [make(transport, 0)()]  # the first: imports, catalogue, validators
    gc.collect()
    before, started = resident_bytes(), time.perf_counter()
    for user in range(1, count + 1):
        kept.append(make(transport, user)())
    seconds = time.perf_counter() - started
    gc.collect()
    return {"bytes": (resident_bytes() - before) / count, "seconds": seconds / count, "kept": len(kept)}


def run_side(side: str, count: int, prospect: Captured, page: Captured) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, name) for name in ("prospect.json", "page.json")]
        for path, captured in zip(paths, (prospect, page)):
            with open(path, "wb") as handle:
                handle.write(captured.body)
        done = subprocess.run([sys.executable, "-m", "outreach_connector.bench.sessions", side, str(count), *paths],
                              capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout)


def sessions(settings: BenchOptions, sandbox: Any) -> list[Result]:
    prospect, page = capture(sandbox, "/prospects/1"), capture(sandbox, "/stages", {"page[size]": "5"})
    runs = [(run_side("connector", settings.sessions, prospect, page),
             run_side("floor", settings.sessions, prospect, page)) for _ in range(settings.session_runs)]
    mine = sorted(runs, key=lambda pair: pair[0]["bytes"])[len(runs) // 2]
    label = f"6. sessions: {settings.sessions} Connectors, get + list each"
    note = ("each session beyond the first, kept alive: resident memory grown and time, in a fresh process per "
            f"side on a pre-rendered transport; the floor is one raw httpx.Client per user; median of {len(runs)}")
    return [Result("sessions_memory", label + ", memory", mine[0]["bytes"] / 1024, mine[1]["bytes"] / 1024, "KB",
                   mine[0]["bytes"] / 1024, TARGETS["sessions_memory"], len(runs), note),
            Result("sessions_time", label + ", time", mine[0]["seconds"], mine[1]["seconds"], "s",
                   mine[0]["seconds"] * 1000, TARGETS["sessions_time"], len(runs))]


def main(argv: list[str]) -> int:
    side, count, prospect_file, page_file = argv
    with open(prospect_file, "rb") as prospect, open(page_file, "rb") as page:
        print(json.dumps(measure(side, int(count), prospect.read(), page.read())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

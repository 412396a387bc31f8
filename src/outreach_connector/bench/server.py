"""Case 6: the Connectors API server with many authentications, as a process an operator runs.

The sandbox and ``outreach-connector serve`` each run in their own process on loopback. ``server_auths`` OAuth
authentications are stored (each its own grant from the sandbox) and each is used once; the server's
resident memory (``VmRSS``) is read before and after, so the growth per used authentication is what a session
costs (its auth object, rate pacer, client and first refresh; the connection pool is shared). Then calls go
round-robin over all authentications, ``concurrency`` at a time, through the server and, as the floor,
straight to the sandbox with raw httpx and one token.
"""
from __future__ import annotations

import asyncio
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx

from .cases import limited
from .results import Result
from .settings import TARGETS, BenchOptions
from .transports import SANDBOX_TOKEN, served_sandbox

API_KEY = "bench-server-key"
CLIENT = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc: the server case needs Linux")


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_server(sandbox_url: str, database: str | None = None, extra: tuple[str, ...] = (),
                  port: int | None = None) -> Iterator[tuple[str, int]]:
    """``outreach-connector serve`` in its own process (on a fresh SQLite file unless ``database`` names one,
    ``extra``: more flags); yields its URL and pid."""
    port = port or free_port()
    database = database or f"{tempfile.mkdtemp(prefix='oc-bench-')}/bench.db"
    root = sandbox_url.removesuffix("/api/v2")
    server = subprocess.Popen([sys.executable, "-m", "outreach_connector.server", "--port", str(port),
                               "--api-key", API_KEY, "--database", database, "--log-level", "warning",
                               "--outreach-base-url", sandbox_url, "--token-url", f"{root}/oauth/token", *extra],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz").raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.05)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


async def store_authentications(client: httpx.AsyncClient, sandbox_root: str, count: int) -> list[str]:
    async def one(_: int) -> str:
        grant = await client.post(f"{sandbox_root}/oauth/token", data={
            "grant_type": "authorization_code", "code": "sandbox-auth-code", "redirect_uri": "http://localhost/cb",
            **CLIENT})
        created = await client.post("/authentications", json={"name": "bench", "credentials": {
            **CLIENT, "refresh_token": grant.json()["refresh_token"]}})
        return created.json()["id"]

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def call_body(auth_id: str) -> dict[str, Any]:
    return {"operation": "get_prospect", "authId": auth_id, "input": {"prospect_id": 1}}


async def through_server(client: httpx.AsyncClient, auth_ids: list[str], calls: int, limit: int) -> float:
    async def one(i: int) -> None:
        body = call_body(auth_ids[i % len(auth_ids)])
        answer = await client.post("/connectors/outreach/versions/1.0/call", json=body)
        if answer.json().get("outcome") != "success":
            raise RuntimeError(f"a benchmark call failed: {answer.text[:300]}")

    started = time.perf_counter()
    await limited(one, calls, limit)
    return calls / (time.perf_counter() - started)


async def straight(raw: httpx.AsyncClient, calls: int, limit: int) -> float:
    async def one(_: int) -> None:
        (await raw.get("/prospects/1")).raise_for_status()

    started = time.perf_counter()
    await limited(one, calls, limit)
    return calls / (time.perf_counter() - started)


async def measure(settings: BenchOptions, sandbox_url: str, server_url: str, pid: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=settings.concurrency)
    async with httpx.AsyncClient(base_url=server_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60,
                                 limits=limits) as client, \
            httpx.AsyncClient(base_url=sandbox_url, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
                              timeout=60, limits=limits) as raw:
        warm = await store_authentications(client, sandbox_url.removesuffix("/api/v2"), 1)
        await through_server(client, warm, 20, 1)  # first call: catalogue, validators, pool warmed
        before, fds_before = resident_kb(pid), open_files(pid)
        auth_ids = await store_authentications(client, sandbox_url.removesuffix("/api/v2"), settings.server_auths)
        await through_server(client, auth_ids, len(auth_ids), settings.concurrency)  # one call each
        after, fds_after = resident_kb(pid), open_files(pid)
        rounds = [(await through_server(client, auth_ids, settings.calls, settings.concurrency),
                   await straight(raw, settings.calls, settings.concurrency))
                  for _ in range(settings.concurrency_repeats)]
    return {"before_kb": before, "after_kb": after, "fds": (fds_before, fds_after), "rounds": rounds}


def raw_client_kb(count: int) -> float:
    """What one httpx.AsyncClient with its own pool costs in this process: the previous per-authentication design."""
    gc.collect()
    before = resident_kb(os.getpid())
    clients = [httpx.AsyncClient() for _ in range(count)]
    grown = resident_kb(os.getpid()) - before
    del clients
    return max(grown, 1) / count


def server_case(settings: BenchOptions) -> list[Result]:
    with served_sandbox(prospects=10) as sandbox_url, served_server(sandbox_url) as (server_url, pid):
        found = asyncio.run(measure(settings, sandbox_url, server_url, pid))
    count = settings.server_auths
    per_auth = max(found["after_kb"] - found["before_kb"], 0) / count
    ratios = [server / floor for server, floor in found["rounds"]]
    server_rate = statistics.median(r[0] for r in found["rounds"])
    floor_rate = statistics.median(r[1] for r in found["rounds"])
    fds = found["fds"]
    return [
        Result("server_memory", f"8. server: resident memory per used authentication ({count})", per_auth,
               raw_client_kb(count), "KB", per_auth, TARGETS["server_memory"], 1,
               f"outreach-connector serve in its own process, SQLite store; VmRSS {found['before_kb'] / 1024:.1f} "
               f"-> {found['after_kb'] / 1024:.1f} MB over {count} OAuth authentications used once each (a refresh "
               f"each), open files {fds[0]} -> {fds[1]}; the floor column is one httpx.AsyncClient with its own "
               "pool, what each authentication held before sessions shared one"),
        Result("server_throughput", f"8. server: calls/s round-robin over {count} authentications, limit "
               f"{settings.concurrency}", server_rate, floor_rate, "calls/s", statistics.median(ratios),
               TARGETS["server_throughput"], len(ratios),
               "get_prospect through the server (API key, tenant check, session cache, validation, one upstream "
               "call) against the same GET straight to the sandbox with raw httpx; both on loopback, the "
               "sandbox in its own process; median of the per-round ratios"),
    ]


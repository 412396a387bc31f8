"""Case 10, triggers: the webhook receiver's throughput, a burst that must lose and double nothing, and how
soon a write in Outreach is readable by long poll and pushed to a callback.

``outreach-connector serve`` runs in its own process (so the client's CPU is not counted against it); the
receiver case stores its subscription straight into the database first (no Outreach needed) and then sends
signed deliveries, ``TRIGGER_CONCURRENCY`` at a time, one in ten a redelivery of an earlier event (the same
event id): every answer must be 200, and the store must then hold each distinct event exactly once. It runs
on SQLite and, when one answers at 127.0.0.1:5432, on PostgreSQL. The latency cases run the sandbox in its own
process too: it delivers its webhook to the server over loopback, as Outreach would.
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import httpx

from ..server import subscription_store
from ..server.opening import open_store
from ..server.secrets_box import generate_key_text
from ..webhooks import signature
from .cases import limited
from .results import Result
from .server import API_KEY, free_port, served_server
from .settings import TARGETS, BenchOptions
from .transports import served_sandbox

TRIGGER_CONCURRENCY = 20
SECRET = "bench-webhook-secret"
POSTGRES_ADMIN = os.environ.get("OUTREACH_CONNECTOR_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def triggers_case(settings: BenchOptions) -> list[Result]:
    results = [receiver_result(settings, "sqlite", None)]
    with postgres_database() as url:
        results.append(receiver_result(settings, "postgresql", url))
    with served_sandbox(prospects=10) as sandbox_url:
        results += latency_results(settings, sandbox_url)
    return results


# ------------------------------------------------------------------------------------------------ receiver

def stored_subscription(database: str, key: str) -> str:
    """A webhook-mode subscription written straight into the store, with a known webhook secret."""
    store = open_store(database, key)
    try:
        sid, now = str(uuid.uuid4()), subscription_store.precise_time_now(store)
        row = {"id": sid, "owner": store.owner_of(API_KEY), "auth_id": str(uuid.uuid4()),
               "trigger_name": "prospect_updated", "input": "{}", "mode": "webhook", "callback_url": None,
               "status": "active", "created_at": now, "webhook_id": "1", "poll_due": time.time() + 3600}
        assert subscription_store.insert(store, row, {"webhook_secret": SECRET})
        return sid
    finally:
        store.close()


def delivery(index: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"data": {"type": "prospect", "id": index % 500 + 1,
                                "attributes": {"title": f"title {index}", "updatedAt": "2026-01-01T00:00:00.000Z"},
                                "relationships": {"owner": {"type": "owner", "id": 1}}},
                       "meta": {"eventName": "prospect.updated", "deliveredAt": "2026-01-01T00:00:01.000Z"}}).encode()
    return body, {"Content-Type": "application/vnd.api+json", "Outreach-Webhook-Signature": signature(SECRET, body),
                  "Outreach-Webhook-Event-Id": f"bench-{index}"}


def receiver_result(settings: BenchOptions, kind: str, postgres_url: str | None) -> Result:
    key = generate_key_text()
    database = postgres_url or f"{tempfile.mkdtemp(prefix='oc-bench-')}/triggers.db"
    sid = stored_subscription(database, key)
    count = settings.trigger_deliveries
    indexes = [i - i // 10 if i % 10 == 9 else i for i in range(count)]  # one in ten: a redelivery
    with served_server("http://127.0.0.1:9/api/v2", database, ("--encryption-key", key)) as (url, pid):
        floor = asyncio.run(healthz_rate(url, min(count, 1000)))
        cpu_before = cpu_seconds(pid)
        seconds, statuses = asyncio.run(send_all(url, sid, indexes))
        cpu = cpu_seconds(pid) - cpu_before
        events = stored_events(url, sid)
    distinct = len(set(indexes))
    ids = [event["id"] for event in events]
    lost, doubled = distinct - len(set(ids)), len(ids) - len(set(ids))
    rate, per_core = count / seconds, count / max(cpu, 1e-9)
    return Result(f"triggers_receiver_{kind}", f"10. receiver: verify + store, {kind}, {count:,} deliveries",
                  rate, floor, "events/s", per_core if lost == doubled == 0 and statuses == {200} else 0.0,
                  TARGETS["triggers_receiver"], 1,
                  f"serve in its own process; {TRIGGER_CONCURRENCY} deliveries at a time, one in ten a redelivery; "
                  f"answers {sorted(statuses)}; {distinct:,} distinct events, stored {len(ids):,}: lost {lost}, "
                  f"stored twice {doubled}. Checked value: deliveries per second of the server process's own CPU "
                  f"({cpu:.2f} s for {count:,}; one core fully used would take that many a second; the database "
                  "server's CPU is not in it for PostgreSQL), 0 unless nothing was lost or doubled and every answer "
                  "was 200. Connector column: wall-clock rate; floor column: GET /healthz on the same server, "
                  "same client, what this machine's HTTP round trip allows at the time")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def healthz_rate(url: str, count: int) -> float:
    async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=TRIGGER_CONCURRENCY)) as client:
        async def one(_: int) -> None:
            (await client.get("/healthz")).raise_for_status()

        await one(0)
        started = time.perf_counter()
        await limited(one, count, TRIGGER_CONCURRENCY)
        return count / (time.perf_counter() - started)


async def send_all(url: str, sid: str, indexes: list[int]) -> tuple[float, set[int]]:
    statuses: set[int] = set()
    async with httpx.AsyncClient(base_url=url, timeout=60,
                                 limits=httpx.Limits(max_connections=TRIGGER_CONCURRENCY)) as client:
        async def one(position: int) -> None:
            body, headers = delivery(indexes[position])
            answer = await client.post(f"/webhooks/outreach/{sid}", content=body, headers=headers)
            statuses.add(answer.status_code)

        await one(0)  # warm-up (stored once: its redeliveries later are duplicates like the others)
        started = time.perf_counter()
        await limited(one, len(indexes), TRIGGER_CONCURRENCY)
        return time.perf_counter() - started, statuses


def stored_events(url: str, sid: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = "0"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60) as client:
        while True:
            page = client.get(f"/subscriptions/{sid}/events", params={"after": after, "limit": 1000}).json()
            events += page["events"]
            if page["next_after"] == after:
                return events
            after = page["next_after"]


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh database on the local PostgreSQL, dropped afterwards; None when none answers."""
    try:
        import psycopg

        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except Exception:  # noqa: BLE001 - no PostgreSQL here: the row says so
        yield None
        return
    name = f"oc_bench_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN.rpartition("/")[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# ------------------------------------------------------------------------------------------------ latency

class Callback:
    """The host's endpoint: notes when each push arrived."""

    def __init__(self) -> None:
        self.arrived: list[float] = []
        self.signal = threading.Event()
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers["Content-Length"]))
                callback.arrived.append(time.perf_counter())
                callback.signal.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def latency_results(settings: BenchOptions, sandbox_url: str) -> list[Result]:
    callback, port = Callback(), free_port()
    public = f"http://127.0.0.1:{port}"
    extra = ("--public-url", public, "--allow-callback-url", callback.url)
    try:
        with served_server(sandbox_url, extra=extra, port=port) as (url, _):
            pulls, pushes, writes = measure_latency(settings, url, sandbox_url, callback)
    finally:
        callback.server.shutdown()
    note = (f"the sandbox (its own process) writes prospect 2 and delivers its webhook to serve over loopback; "
            f"median of {settings.trigger_writes} writes, each timed from the write's request; floor column: the "
            "write request's own round trip")
    floor = statistics.median(writes)
    return [Result("triggers_pull_latency", "10. write -> readable by long poll", statistics.median(pulls), floor,
                   "s", statistics.median(pulls), TARGETS["triggers_latency"], len(pulls),
                   note + f"; max {max(pulls) * 1e3:.0f} ms"),
            Result("triggers_push_latency", "10. write -> pushed to a callback", statistics.median(pushes), floor,
                   "s", statistics.median(pushes), TARGETS["triggers_latency"], len(pushes),
                   note + f"; max {max(pushes) * 1e3:.0f} ms")]


def measure_latency(settings: BenchOptions, url: str, sandbox_url: str, callback: Callback) -> tuple[list, list, list]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    outreach_headers = {"Authorization": "Bearer sandbox-access-token", "Content-Type": "application/vnd.api+json"}
    pulls: list[float] = []
    pushes: list[float] = []
    writes: list[float] = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client, \
            httpx.Client(base_url=sandbox_url, headers=outreach_headers, timeout=60) as outreach:
        auth_id = client.post("/authentications", json={"name": "bench", "credentials": {
            "access_token": "sandbox-access-token"}}).json()["id"]
        sid = client.post(f"/authentications/{auth_id}/subscriptions",
                          json={"trigger": "prospect_updated", "callback_url": callback.url}).json()["id"]
        after = "0"
        for index in range(settings.trigger_writes):
            callback.signal.clear()
            started = time.perf_counter()
            outreach.patch("/prospects/2", json={"data": {"type": "prospect", "id": 2,
                                                          "attributes": {"title": f"latency {index}"}}})
            writes.append(time.perf_counter() - started)
            page = client.get(f"/subscriptions/{sid}/events", params={"after": after, "wait": 10}).json()
            read_at = time.perf_counter()
            assert page["events"], "no event within 10 s"
            after = page["next_after"]
            callback.signal.wait(10)
            pulls.append(read_at - started)
            pushes.append(callback.arrived[-1] - started if callback.arrived else 10.0)
    return pulls, pushes, writes

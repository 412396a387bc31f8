"""Three real server processes on one store (a SQLite file, then a PostgreSQL database) against the sandbox
minting access tokens that live 3 s and rotating the refresh token on every refresh, as Outreach does.

Callers spread their calls over the replicas for 20 s; one replica is stopped and started again mid-run. A
call that reaches no replica (the one restarting) goes to the next, as a load balancer would send it: what
counts is that every call a replica answered succeeded. Runs in the default suite (about 25 s per store).
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from outreach_connector.server.secrets_box import generate_key_text

from .test_serve_process import SRC, free_port, wait_until_up

pytestmark = pytest.mark.replicas

RUN_SECONDS = 20.0
TOKEN_TTL = 3
API_KEY = "replica-test-key"
CALLERS = 4


def python(*args: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(SRC), **env}
    return subprocess.Popen([sys.executable, *args], env=environment, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


@dataclass
class Replica:
    port: int
    argv: list[str]
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = python("-m", "outreach_connector.server", "--port", str(self.port), "--log-level",
                              "warning", *self.argv)
        wait_until_up(f"{self.url}/healthz", self.process)

    def stop(self) -> str:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        _, errors = self.process.communicate(timeout=30)
        return errors


@dataclass
class Tally:
    succeeded: int = 0
    rerouted: int = 0
    failures: list[str] = field(default_factory=list)
    by_replica: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, port: int, outcome: str) -> None:
        with self.lock:
            if outcome == "success":
                self.succeeded += 1
                self.by_replica[port] = self.by_replica.get(port, 0) + 1
            else:
                self.failures.append(outcome)


def caller(replicas: list[Replica], auth_id: str, tally: Tally, until: float, offset: int) -> None:
    body = {"operation": "list_prospects", "authId": auth_id, "input": {"page_size": 1}}
    order = itertools.cycle(range(len(replicas)))
    for _ in range(offset):
        next(order)
    with httpx.Client(headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30) as client:
        while time.monotonic() < until:
            replica = replicas[next(order)]
            try:
                answer = client.post(f"{replica.url}/connectors/outreach/versions/1.0/call", json=body)
            except httpx.TransportError:
                with tally.lock:
                    tally.rerouted += 1  # that replica is restarting: the balancer sends the call elsewhere
                continue
            outcome = answer.json().get("outcome") if answer.status_code == 200 else f"HTTP {answer.status_code}"
            tally.count(replica.port, outcome if outcome == "success" else f"{outcome}: {answer.text[:300]}")


def mint_refresh_token(sandbox_url: str) -> str:
    """A new grant (authorization-code flow) for each run: the sandbox's state outlives one test."""
    answer = httpx.post(f"{sandbox_url}/oauth/token", data={
        "grant_type": "authorization_code", "code": "sandbox-auth-code", "client_id": "sandbox-client-id",
        "client_secret": "sandbox-client-secret", "redirect_uri": "http://localhost/cb"})
    answer.raise_for_status()
    return answer.json()["refresh_token"]


def run_replicas(sandbox_url: str, database: str, key: str) -> tuple[Tally, int, Replica]:
    argv = ["--database", database, "--encryption-key", key, "--api-key", API_KEY,
            "--outreach-base-url", f"{sandbox_url}/api/v2", "--token-url", f"{sandbox_url}/oauth/token",
            "--timeout", "10", "--max-retry-wait", "10"]
    replicas = [Replica(free_port(), argv) for _ in range(3)]
    for replica in replicas:
        replica.start()
    try:
        created = httpx.post(f"{replicas[0].url}/authentications", headers={"Authorization": f"Bearer {API_KEY}"},
                             json={"name": "shared", "credentials": {
                                 "client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret",
                                 "refresh_token": mint_refresh_token(sandbox_url)}})
        assert created.status_code == 201, created.text
        tally, until = Tally(), time.monotonic() + RUN_SECONDS
        threads = [threading.Thread(target=caller, args=(replicas, created.json()["id"], tally, until, n))
                   for n in range(CALLERS)]
        for thread in threads:
            thread.start()
        time.sleep(RUN_SECONDS / 3)
        restarted = replicas[1]
        restarted.stop()
        restarted.start()
        restarted_at = tally.by_replica.get(restarted.port, 0)
        for thread in threads:
            thread.join(RUN_SECONDS + 60)
        return tally, restarted_at, restarted
    finally:
        for replica in replicas:
            if replica.process is not None and replica.process.poll() is None:
                replica.stop()


@pytest.fixture(scope="module")
def sandbox_url():
    port = free_port()
    process = python("-m", "outreach_sandbox", "--port", str(port), "--access-token-ttl", str(TOKEN_TTL),
                     "--rate-limit", "1000000", "--rate-window", "60")
    try:
        wait_until_up(f"http://127.0.0.1:{port}/oauth/token", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_three_replicas_share_one_authentication_through_rotations_and_a_restart(request, tmp_path: Path,
                                                                                  sandbox_url, store):
    database = str(tmp_path / "shared.db") if store == "sqlite" else request.getfixturevalue("postgres_url")
    tally, restarted_at, restarted = run_replicas(sandbox_url, database, generate_key_text())
    assert tally.failures == []
    assert tally.succeeded >= 60  # calls kept flowing through at least six access-token lifetimes
    assert len(tally.by_replica) == 3
    assert tally.by_replica[restarted.port] > restarted_at  # the restarted replica carried on
    print(f"\n{store}: {tally.succeeded} calls succeeded, 0 failed, {tally.rerouted} rerouted during the restart")

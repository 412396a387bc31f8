"""``python -m outreach_connector.server`` as an operator runs it: a real process on a real port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:  # a loaded 2-core runner
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not come up")


def output_of_a_start(database: Path, port: int, api_keys: str = "serve-test-api-key") -> str:
    """Start the server on ``port`` with ``database``, wait until it answers, stop it: what it printed."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "OUTREACH_CONNECTOR_API_KEYS": api_keys}
    process = subprocess.Popen([sys.executable, "-m", "outreach_connector.server", "--port", str(port),
                                "--database", str(database)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    return output


def test_serve_from_the_environment_and_shut_down_cleanly(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC),
           "OUTREACH_CONNECTOR_API_KEYS": "proc-key-canary-long,other-key-at-16-chars",
           "OUTREACH_CONNECTOR_DB": str(tmp_path / "p.db")}
    process = subprocess.Popen([sys.executable, "-m", "outreach_connector.server", "--port", str(port),
                                "--log-level", "debug"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/connectors", process)
        answer = httpx.get(f"http://127.0.0.1:{port}/connectors",
                           headers={"Authorization": "Bearer other-key-at-16-chars"})
        assert answer.json()["elements"][0]["name"] == "outreach"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert f"serving the Connectors API on http://127.0.0.1:{port}" in output and "proc-key-canary" not in output
    assert (tmp_path / "p.db.key").exists()

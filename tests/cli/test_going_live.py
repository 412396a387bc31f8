"""The README's "Going live" sandbox walk-through works as written: its commands, run as processes (ports
swapped for free ones), connect an account through the sandbox's consent page, and the account runs a call."""
from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def commands() -> list[list[str]]:
    section = README.split("## Going live\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line.rstrip("& ")) for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def swapped(words: list[str], ports: dict[str, str]) -> list[str]:
    out = []
    for word in words:
        for old, new in ports.items():
            word = word.replace(old, new)
        out.append(word)
    return out


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def test_the_going_live_walkthrough_connects_an_account(tmp_path):
    sandbox_cmd, serve_cmd, curl_cmd = commands()
    assert sandbox_cmd[:2] == ["outreach-connector", "sandbox"] and serve_cmd[:2] == ["outreach-connector", "serve"]
    assert curl_cmd[0] == "curl"
    ports = {"8090": str(free_port()), "8080": str(free_port())}
    python = [sys.executable, "-m", "outreach_connector.cli"]
    processes = []
    try:
        processes.append(subprocess.Popen(python + swapped(sandbox_cmd, ports)[1:], cwd=tmp_path,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        wait_until_up(f"http://127.0.0.1:{ports['8090']}/oauth/token", processes[-1])
        processes.append(subprocess.Popen(python + swapped(serve_cmd, ports)[1:], cwd=tmp_path,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        server = f"http://127.0.0.1:{ports['8080']}"
        wait_until_up(f"{server}/healthz", processes[-1])
        started = subprocess.run(swapped(curl_cmd, ports), capture_output=True, text=True, timeout=30, cwd=tmp_path)
        authorize_url = json.loads(started.stdout)["authorize_url"]
        with httpx.Client(timeout=10) as browser:
            assert "Allow" in browser.get(authorize_url).text
            back = browser.post(authorize_url, data={"decision": "allow"}).headers["location"]
            landed = browser.get(back)
        assert landed.status_code == 303
        target = urlsplit(landed.headers["location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == f"{server}/editor"
        query = parse_qs(target.query)
        assert query["status"] == ["connected"]
        called = httpx.post(f"{server}/connectors/outreach/versions/1.0/call", timeout=30,
                            headers={"Authorization": "Bearer demo-key-for-the-sandbox"},
                            json={"operation": "get_stage", "authId": query["authentication_id"][0],
                                  "input": {"stage_id": 2}})
        assert called.json()["outcome"] == "success", called.text
    finally:
        for process in reversed(processes):
            process.terminate()
            process.communicate(timeout=30)

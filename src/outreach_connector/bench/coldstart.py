"""Case 5: cold start, each command in a fresh interpreter, against importing the dependencies alone."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .results import Result
from .settings import TARGETS, BenchOptions
from .transports import JSONAPI, SANDBOX_TOKEN, SANDBOX_URL, Captured

DEPENDENCIES = "import httpx, pydantic, jsonschema, pluggy"

# A first call as a host makes it: import, construct, call. The answer comes from a captured body, so the
# child pays for neither the sandbox nor a network.
FIRST_CALL = f"""
import sys, httpx
from outreach_connector import Connector
body = open(sys.argv[1], "rb").read()
answer = lambda request: httpx.Response(200, headers={{"content-type": "{JSONAPI}"}}, content=body)
conn = Connector(base_url="{SANDBOX_URL}", access_token="{SANDBOX_TOKEN}", transport=httpx.MockTransport(answer))
conn.call("get_prospect", {{"prospect_id": 1}})
"""


def operations_command() -> list[str]:
    """The installed console script when there is one, else the same entry point through ``-m``."""
    script = Path(sys.executable).with_name("outreach-connector")
    if script.exists():
        return [str(script), "operations"]
    return [sys.executable, "-m", "outreach_connector.cli", "operations"]


def child_environment(folder: str) -> dict[str, str]:
    """Byte-code cached as in any installed environment, in a private folder: the first (untimed) run of
    each command writes it, and neither the checkout nor the venv is touched. ``PYTHONDONTWRITEBYTECODE``
    (set in some sandboxes) would otherwise make every run compile every module from source."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache")}


def wall_time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[:3])} failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - start


def cold_start(settings: BenchOptions, captured: Captured) -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "prospect.json"
        body.write_bytes(captured.body)
        commands = {"deps": [sys.executable, "-c", DEPENDENCIES], "operations": operations_command(),
                    "call": [sys.executable, "-c", FIRST_CALL, str(body)]}
        env = child_environment(folder)
        for command in commands.values():  # once untimed: byte-code written, files in the page cache
            wall_time(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for index in range(settings.cold_runs):
            names = list(commands) if index % 2 == 0 else list(commands)[::-1]
            for name in names:
                times[name].append(wall_time(commands[name], env))
    return [cold_result("operations", "5. cold start: outreach-connector operations", times),
            cold_result("call", "5. cold start: import + first call", times)]


def cold_result(name: str, label: str, times: dict[str, list[float]]) -> Result:
    """Ratio of medians: each run is its own process, so its noise is its own and pairing runs adds none of
    the protection it gives the in-process cases; the median of each side is the steadier figure."""
    mine, deps = statistics.median(times[name]), statistics.median(times["deps"])
    return Result(f"cold_{name}", label, mine, deps, "s", mine / deps, TARGETS[f"cold_{name}"], len(times[name]),
                  f"fresh interpreter, wall time, byte-code cached; floor: python -c \"{DEPENDENCIES}\"; "
                  "ratio of medians", {"runs": times})

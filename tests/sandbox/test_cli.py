"""``python -m outreach_sandbox`` and the flags ``main`` accepts."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx

import outreach_sandbox
from outreach_sandbox.server import config_from, parser

from .conftest import AUTH


def test_flags_become_config():
    config = config_from(parser().parse_args(["--prospects", "500", "--rate-limit", "9", "--seed", "4",
                                              "--access-token", "", "--no-auth", "--fixed-clock"]))
    assert (config.prospects, config.rate_limit, config.seed) == (500, 9, 4)
    assert config.access_token is None and config.require_auth is False and config.clock is None
    assert config_from(parser().parse_args([])).clock is time.time  # served sandboxes keep wall-clock time


def test_python_dash_m_serves_and_prints_the_base_url():
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(outreach_sandbox.__file__))}
    process = subprocess.Popen([sys.executable, "-m", "outreach_sandbox", "--port", "0", "--prospects", "3",
                                "--rate-limit", "7"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    try:
        line = process.stdout.readline()
        match = re.match(r"Outreach sandbox at (http://127\.0\.0\.1:\d+/api/v2) \(token endpoint "
                         r"(http://127\.0\.0\.1:\d+/oauth/token), consent page "
                         r"http://127\.0\.0\.1:\d+/oauth/authorize\)", line)
        assert match, line + process.stderr.read() if process.poll() is not None else line
        response = httpx.get(f"{match.group(1)}/prospects", headers=AUTH, timeout=10)
        assert response.status_code == 200
        assert response.json()["meta"]["count"] == 3
        assert response.headers["x-ratelimit-limit"] == "7"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_main_reports_a_port_in_use(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert outreach_sandbox.main(["--port", str(port)]) == 1
    assert "cannot serve" in capsys.readouterr().err

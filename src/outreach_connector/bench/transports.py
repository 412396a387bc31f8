"""The "same transport" both sides run on: a pre-rendered response, the sandbox in process, or on loopback.

A pre-rendered transport answers every request with bytes captured once from the sandbox, so cases 1 and 2
time what the connector adds, not how fast the sandbox renders 5 MB of JSON.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import httpx

from ..cli import SANDBOX_BASE_URL as SANDBOX_URL, SANDBOX_TOKEN  # the in-process sandbox's

JSONAPI = "application/vnd.api+json"
UNLIMITED = 10**9  # requests per window: the bench measures speed, not the rate limiter


@dataclass(frozen=True)
class Captured:
    """One response as the sandbox sent it: status, raw headers and body bytes."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> "Captured":
        response.raise_for_status()
        return cls(response.status_code, tuple(response.headers.raw), response.content)

    @property
    def records(self) -> int:
        data = json.loads(self.body)["data"]
        return len(data) if isinstance(data, list) else 1


class Prerendered(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answers every request, sync or async, with the same captured response."""

    def __init__(self, captured: Captured) -> None:
        self.captured = captured

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(self.captured.status, headers=list(self.captured.headers),
                              content=self.captured.body)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)


def raw_client(transport: Any = None, base_url: str = SANDBOX_URL) -> httpx.Client:
    """The floor: a plain httpx client with the same headers the connector sends."""
    return httpx.Client(base_url=base_url, transport=transport, headers=raw_headers())


def raw_async_client(transport: Any = None, base_url: str = SANDBOX_URL) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, transport=transport, headers=raw_headers())


def raw_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {SANDBOX_TOKEN}", "Accept": JSONAPI}


def new_sandbox(prospects: int) -> Any:
    from outreach_sandbox import Sandbox, SandboxConfig

    return Sandbox(SandboxConfig(prospects=prospects, rate_limit=UNLIMITED))


def capture(sandbox: Any, path: str, params: dict[str, Any] | None = None) -> Captured:
    with raw_client(sandbox.transport()) as client:
        return Captured.of(client.get(path, params=params))


@contextmanager
def served_sandbox(prospects: int, timeout: float = 30.0) -> Iterator[str]:
    """The sandbox behind a real uvicorn socket, in its own process; yields its base URL."""
    command = [sys.executable, "-m", "outreach_sandbox", "--port", "0", "--prospects", str(prospects),
               "--rate-limit", str(UNLIMITED)]
    errors = tempfile.TemporaryFile()  # a file, not a pipe: nobody reads it while the server runs
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""  # "Outreach sandbox at http://…/api/v2 (...)"
        if not line:
            errors.seek(0)
            raise RuntimeError(f"the sandbox server did not start: {errors.read()[-2000:].decode(errors='replace')}")
        url = line.split(" at ", 1)[1].split()[0]
        wait_until_up(url, timeout)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        errors.close()


def wait_until_up(url: str, timeout: float) -> None:
    """The port is bound before uvicorn listens: poll until a request is answered."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with raw_client(base_url=url) as client:
                client.get("/prospects/1").raise_for_status()
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

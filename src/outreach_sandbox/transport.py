"""An httpx transport that runs the sandbox app in-process, for both ``httpx.Client`` and ``httpx.AsyncClient``.

Async requests run on the caller's event loop. Sync requests run on one shared background event loop thread,
so a sync client works anywhere, even inside a running event loop. A fault-injected connection drop reaches
the client as ``httpx.RemoteProtocolError`` (a ``TransportError``), never as an application exception, and
the client's read timeout applies as it would on a socket: a ``slow`` fault longer than it is an
``httpx.ReadTimeout`` (the request is abandoned before it is applied).
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from .gate import ConnectionDropped

_runner_lock = threading.Lock()
_runner: _LoopThread | None = None


class _LoopThread:
    """An event loop in a daemon thread, to run coroutines for synchronous callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self.loop.run_forever, name="outreach-sandbox-loop", daemon=True)
        thread.start()

    def run(self, coroutine: Coroutine[Any, Any, httpx.Response]) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()


def _shared_runner() -> _LoopThread:
    """One loop thread per process (created on first sync request): cheap, and shared by every sandbox."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = _LoopThread()
        return _runner


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Send httpx requests straight into an ASGI app."""

    def __init__(self, app: Callable, client: tuple[str, int] = ("127.0.0.1", 50000)):
        self.app = app
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return _shared_runner().run(self._call(request, body))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return await self._call(request, body)

    def _scope(self, request: httpx.Request) -> dict:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        return {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "scheme": url.scheme, "path": url.path, "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query, "root_path": "", "server": (url.host, port), "client": self.client,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
        }

    async def _call(self, request: httpx.Request, body: bytes) -> httpx.Response:
        started: dict = {}
        chunks: list[bytes] = []
        delivered = False

        async def receive() -> dict:
            nonlocal delivered
            if delivered:
                await asyncio.Event().wait()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            await asyncio.wait_for(self.app(self._scope(request), receive, send), timeout)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from None
        except TimeoutError:
            raise httpx.ReadTimeout("The sandbox did not answer within the read timeout.", request=request) from None
        if not started:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(started["status"], headers=started.get("headers", []), content=b"".join(chunks))

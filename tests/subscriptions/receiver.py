"""A host's callback endpoint on loopback: keeps every push; ``statuses`` are its answers in turn."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Callback:
    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.pushes: list[tuple[dict[str, str], bytes, float]] = []  # headers, body, when
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = callback.statuses.pop(0) if callback.statuses else 200
                callback.pushes.append((dict(self.headers.items()), body, time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while len(self.pushes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.pushes) >= count, f"{len(self.pushes)} pushes arrived, {count} expected"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

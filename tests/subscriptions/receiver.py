"""An HTTP endpoint on loopback that keeps every POST: a host's callback for pushes, or the URL the sandbox
delivers its webhooks to. ``statuses`` are its answers in turn (then ``status``); ``hold`` makes it wait
before answering. And ``wait_until`` and ``delivered``, the ways these tests wait for something to happen."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from outreach_connector.triggers import parse_event


def wait_until(condition: Callable[[], object], seconds: float = 20, what: str = "the condition") -> None:
    """Return as soon as ``condition()`` is true; fail the test naming ``what`` when it is not in time."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(0.02)


def delivered(sandbox) -> None:
    """Wait until the sandbox's webhook deliveries have all ended (answered or given up)."""
    assert sandbox.webhooks.wait_idle(30), "the sandbox's deliveries did not finish"


class Receiver:
    def __init__(self, statuses: list[int] | None = None, status: int = 200) -> None:
        self.statuses = list(statuses or [])
        self.status = status
        self.hold: threading.Event | None = None
        self.deliveries: list[tuple[dict[str, str], bytes]] = []  # headers, body
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                receiver.deliveries.append((dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, seconds: float = 20) -> None:
        wait_until(lambda: len(self.deliveries) >= count, seconds, f"{count} requests expected")

    def events(self) -> list[dict]:
        """The deliveries as the connector's events (for webhook deliveries from the sandbox)."""
        return [parse_event(body, headers) for headers, body in self.deliveries]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

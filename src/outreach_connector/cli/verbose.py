"""``call --verbose``: one stderr line per HTTP request (method, URL, status, time) and per retry wait.

Lines come from httpx event hooks on the connector's client, so the token request of an OAuth refresh shows
too. Headers and bodies are never printed (they carry the tokens), and query parameters that look like
credentials are masked.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable, TextIO

import httpx

STARTED = "outreach_connector.verbose.started"
SECRET_PARAMETERS = frozenset({"access_token", "refresh_token", "client_secret", "code", "token", "password",
                               "api_key", "key"})


def safe_url(url: httpx.URL) -> str:
    """The URL without user info and with credential-like query values masked."""
    params = [(k, "<redacted>" if k.lower() in SECRET_PARAMETERS else v) for k, v in url.params.multi_items()]
    return str(url.copy_with(username=None, password=None, params=params or None))


class RequestLog:
    """Writes the lines; ``clock`` is a seam for tests."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        self.stream = stream or sys.stderr
        self.clock = clock
        self.waits = 0  # waits since the last answer that ended a request's retries
        self.unanswered: httpx.Request | None = None  # sent, no response yet (a connection error has no hook)

    def on_request(self, request: httpx.Request) -> None:
        request.extensions[STARTED] = self.clock()
        self.unanswered = request

    def on_response(self, response: httpx.Response) -> None:
        request = response.request
        self.unanswered = None
        elapsed = (self.clock() - request.extensions.get(STARTED, self.clock())) * 1000
        retry = f" (retry {self.waits})" if self.waits else ""
        self.write(f"{request.method} {safe_url(request.url)} -> {response.status_code} "
                   f"{response.reason_phrase} in {elapsed:.0f} ms{retry}")
        if response.status_code < 400 or response.status_code == 401:  # done, or the auth flow's own step
            self.waits = 0

    def on_wait(self, seconds: float) -> None:
        self.report_unanswered()
        self.waits += 1
        self.write(f"waiting {seconds:.2f} s before retry {self.waits}")

    def report_unanswered(self) -> None:
        """The line for a request that got no response (refused, unreachable, timed out, dropped)."""
        request, self.unanswered = self.unanswered, None
        if request is not None:
            elapsed = (self.clock() - request.extensions.get(STARTED, self.clock())) * 1000
            retry = f" (retry {self.waits})" if self.waits else ""
            self.write(f"{request.method} {safe_url(request.url)} -> no response after {elapsed:.0f} ms{retry}")

    def write(self, line: str) -> None:
        print(f"[http] {line}", file=self.stream, flush=True)

    def attach(self, connector: Any) -> None:
        """Hook into the connector's sender before its first request (its client is built lazily)."""
        sender = connector.sender
        sender.config.event_hooks = {"request": [self.on_request], "response": [self.on_response]}
        sleep = sender.sleep

        def logged_sleep(seconds: float) -> None:
            self.on_wait(seconds)
            sleep(seconds)

        sender.sleep = logged_sleep

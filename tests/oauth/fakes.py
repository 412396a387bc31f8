"""A small fake of Outreach's token endpoint and one API route, for httpx.MockTransport.

It rotates the refresh token on every refresh (the old one dies, as at Outreach), issues access tokens that
the API route checks, counts refreshes, and can be told to answer the next token requests with 429s or an
``invalid_grant``. Anything else it is sent fails the test loudly.
"""
from __future__ import annotations

import asyncio
import itertools
import threading
import time
from urllib.parse import parse_qs

import httpx

TOKEN_URL = "https://api.outreach.test/oauth/token"
API_URL = "https://api.outreach.test/api/v2/prospects"
CLIENT_ID = "client-id-canary"
CLIENT_SECRET = "client-secret-canary-5f1e"


class FakeOutreach:
    def __init__(self, *, refresh_token: str = "refresh-0", expires_in: int = 7200, delay: float = 0.0) -> None:
        self.live_refresh_token = refresh_token
        self.valid_access_tokens: set[str] = set()
        self.expires_in = expires_in
        self.delay = delay  # seconds the token endpoint takes, so that concurrent callers overlap
        self.refreshes = 0
        self.token_requests: list[dict[str, str]] = []
        self.queued_token_answers: list[httpx.Response] = []
        self.api_calls = 0
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url == TOKEN_URL and request.method == "POST":
            if self.delay:
                time.sleep(self.delay)
            return self.token(request)
        if request.url == API_URL:
            return self.api(request)
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        if request.url == TOKEN_URL and self.delay:
            await asyncio.sleep(self.delay)
            return self.token(request)
        return self.handler(request)

    def token(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        with self._lock:
            self.token_requests.append(form)
            if self.queued_token_answers:
                return self.queued_token_answers.pop(0)
            if form != {"grant_type": "refresh_token", "refresh_token": self.live_refresh_token,
                        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}:
                return httpx.Response(400, json={"error": "invalid_grant",
                                                 "error_description": "The provided authorization grant is invalid"})
            n = next(self._counter)
            self.refreshes += 1
            self.live_refresh_token = f"refresh-{n}"
            access = f"access-{n}"
            self.valid_access_tokens.add(access)
            return httpx.Response(200, json={"access_token": access, "refresh_token": self.live_refresh_token,
                                             "expires_in": self.expires_in, "token_type": "bearer",
                                             "scope": "prospects.all"})

    def api(self, request: httpx.Request) -> httpx.Response:
        self.api_calls += 1
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.valid_access_tokens:
            return httpx.Response(401, json={"errors": [{"id": "unauthorized", "title": "Unauthorized"}]})
        return httpx.Response(200, json={"data": [], "token": token})

    def revoke_access_tokens(self) -> None:
        self.valid_access_tokens.clear()

"""In-process harness: the server app on httpx.ASGITransport, Outreach faked on httpx.MockTransport."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable

import httpx

from outreach_connector.server import ServerSettings, create_app

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "server-key-for-tests"
OTHER_KEY = "other-tenant-key-for-tests"
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
OUTREACH = "https://api.outreach.test/api/v2"
TOKEN_URL = "https://api.outreach.test/oauth/token"
CALL = "/connectors/outreach/versions/1.0/call"


def sample(name: str) -> Any:
    return json.loads((ROOT / "fixtures" / "samples" / f"{name}.json").read_text())


def jsonapi(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content,
                          headers={"Content-Type": "application/vnd.api+json", **(headers or {})})


class FakeOutreach:
    """Routes ``(method, path)`` to canned answers; records requests; fails loudly on anything unplanned."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.routes[(method, path)] = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get((request.method, request.url.path))
        if answer is None:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return answer(request)


def make_app(tmp_path: Path, fake: Any, **settings: Any) -> Any:
    options = dict(api_keys=(API_KEY, OTHER_KEY), database=tmp_path / "server.db", outreach_base_url=OUTREACH,
                   token_url=TOKEN_URL)
    options.update(settings)
    transport = fake if isinstance(fake, httpx.AsyncBaseTransport) else httpx.MockTransport(fake)
    return create_app(ServerSettings(**options), transport=transport)


def client_for(app: Any, key: str = API_KEY) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://server.test",
                             headers={"Authorization": f"Bearer {key}"})


def make_client(tmp_path: Path, fake: FakeOutreach, **settings: Any) -> httpx.AsyncClient:
    return client_for(make_app(tmp_path, fake, **settings))


async def store_token(client: httpx.AsyncClient, token: str = "access-token-canary") -> str:
    response = await client.post("/authentications", json={"name": "t", "credentials": {"access_token": token}})
    assert response.status_code == 201
    return response.json()["id"]


def run_call(connector: Any, name: str, data: Any, asynchronous: bool = False) -> Any:
    """``connector.call`` or, on a fresh event loop, ``connector.acall``; the connector is closed after."""
    if not asynchronous:
        with connector:
            return connector.call(name, data)

    async def go() -> Any:
        async with connector:
            return await connector.acall(name, data)
    return asyncio.run(go())

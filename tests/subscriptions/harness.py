"""The server on a real loopback socket (serve's own protocol) with the sandbox as Outreach: the server calls
the sandbox in-process, the sandbox delivers its webhooks to the server over loopback, as Outreach would."""
from __future__ import annotations

import socket
from typing import Any

import httpx

from outreach_connector.server import ServerSettings, create_app
from outreach_connector.server.secrets_box import generate_key_text
from outreach_connector.server.serving import uvicorn_config
from outreach_sandbox import Sandbox, SandboxConfig
from tests.server.live import LiveServer

from .receiver import delivered

API_KEY = "server-key-for-tests"
OTHER_KEY = "other-tenant-key-for-tests"
SANDBOX = "http://sandbox.test/api/v2"
ENCRYPTION_KEY = generate_key_text()  # one per test process: a restarted server opens what the first sealed



def outreach_client(sandbox: Sandbox) -> httpx.Client:
    """Writes as another Outreach user would make them (straight to the sandbox, which then delivers its
    webhooks)."""
    return httpx.Client(transport=sandbox.transport(), base_url=SANDBOX,
                        headers={"Authorization": "Bearer sandbox-access-token",
                                 "Content-Type": "application/vnd.api+json"})

class LiveConnector:
    """``with LiveConnector(tmp_path, database=...) as live:``: the server at ``live.url``, the sandbox at
    ``live.sandbox``; ``live.client(key)`` talks to the server."""

    def __init__(self, database: Any, sandbox: Sandbox | None = None, **settings: Any) -> None:
        self.sandbox = sandbox or Sandbox(SandboxConfig(webhook_retry_delay=0))
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        options = dict(api_keys=(API_KEY, OTHER_KEY), database=database, outreach_base_url=SANDBOX,
                       token_url="http://sandbox.test/oauth/token", public_url=self.url, log_level="warning",
                       encryption_key=ENCRYPTION_KEY)
        options.update(settings)
        self.settings = ServerSettings(**options)
        self.app = create_app(self.settings, transport=self.sandbox.transport())

    def __enter__(self) -> "LiveConnector":
        config = uvicorn_config(self.app, self.settings)  # serve's own protocol: limits, dropped connections
        config.log_config = None
        self._live = LiveServer(self.app, config, self.listener)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._live.__exit__(*exc)

    def client(self, key: str = API_KEY) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=40)

    def outreach(self) -> httpx.Client:
        return outreach_client(self.sandbox)

    def delivered(self) -> None:
        delivered(self.sandbox)


def authenticate(client: httpx.Client) -> str:
    answer = client.post("/authentications", json={"name": "sandbox",
                                                   "credentials": {"access_token": "sandbox-access-token"}})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]

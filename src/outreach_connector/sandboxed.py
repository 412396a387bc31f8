"""A connector wired to a fresh in-process Outreach sandbox: for ``call --sandbox``, ``describe`` and the demo."""
from __future__ import annotations

from typing import Any

SANDBOX_BASE_URL = "http://sandbox.test/api/v2"
SANDBOX_TOKEN = "sandbox-access-token"


def sandbox_connector(settings: Any = None):
    """A connector on a new in-process sandbox (no network, no credentials), and the sandbox itself."""
    from outreach_sandbox import Sandbox, SandboxConfig  # the [sandbox] extra: only those who ask pay for it

    from .connector import Connector

    sandbox = Sandbox(SandboxConfig())
    return Connector(base_url=SANDBOX_BASE_URL, access_token=SANDBOX_TOKEN, transport=sandbox.transport(),
                     settings=settings), sandbox

"""End-to-end fixtures: the connector against the Outreach sandbox, in-process or over a real socket."""
from __future__ import annotations

import pytest

from outreach_connector import Connector
from outreach_connector.retry import RetryPolicy
from outreach_sandbox import Sandbox, SandboxConfig

SANDBOX_URL = "http://sandbox.test/api/v2"
SANDBOX_TOKEN = "sandbox-access-token"


@pytest.fixture
def sandbox():
    return Sandbox(SandboxConfig())


@pytest.fixture
def sandbox_connector(sandbox):
    conn = Connector(base_url=SANDBOX_URL, access_token=SANDBOX_TOKEN, transport=sandbox.transport(),
                     retry=RetryPolicy(base_delay=0.0, max_total_wait=2.0))
    yield conn
    conn.close()

"""A real-size org (3,000 accounts, 20,000 prospects) in the sandbox, shared by the module's tests.

Prospects are generated lazily, so the org costs nothing until read; it is built once per module because
its first scans (the sandbox's, not the connector's) take a second or two.
"""
from __future__ import annotations

import pytest

from outreach_connector import Connector
from outreach_connector.retry import RetryPolicy
from outreach_sandbox import Sandbox, SandboxConfig

SANDBOX_URL = "http://sandbox.test/api/v2"
ACCOUNTS, PROSPECTS = 3_000, 20_000


@pytest.fixture(scope="module")
def org():
    return Sandbox(SandboxConfig(accounts=ACCOUNTS, prospects=PROSPECTS, phone_numbers=PROSPECTS))


def session(org) -> Connector:
    return Connector(base_url=SANDBOX_URL, access_token="sandbox-access-token", transport=org.transport(),
                     retry=RetryPolicy(base_delay=0.0, max_total_wait=2.0))


@pytest.fixture
def conn(org):
    with session(org) as connector:
        yield connector

"""Fixtures for the sandbox's own tests: a fresh sandbox per test, and clients bound to it in-process."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from outreach_sandbox import Sandbox, SandboxConfig
from tests.clocks import ManualClock

BASE = "http://sandbox.test/api/v2"
JSONAPI = "application/vnd.api+json"
AUTH = {"Authorization": "Bearer sandbox-access-token"}
REPO_ROOT = Path(__file__).resolve().parents[2]


def client_for(sb: Sandbox, **headers: str) -> httpx.Client:
    return httpx.Client(transport=sb.transport(), base_url=BASE, headers={**AUTH, "Content-Type": JSONAPI, **headers})


def doc(type_name: str, attributes: dict | None = None, relationships: dict | None = None, ident=None) -> dict:
    """A JSON:API write document; relationships given as {name: (type, id) | None}."""
    data: dict = {"type": type_name}
    if ident is not None:
        data["id"] = ident
    if attributes is not None:
        data["attributes"] = attributes
    if relationships is not None:
        data["relationships"] = {name: {"data": None if ref is None else {"type": ref[0], "id": ref[1]}}
                                 for name, ref in relationships.items()}
    return {"data": data}


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox()


@pytest.fixture
def client(sb: Sandbox):
    with client_for(sb) as c:
        yield c


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_736_931_600.0)


@pytest.fixture
def clocked(clock: ManualClock) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, rate_limit=5, rate_window=60, access_token_ttl=100))

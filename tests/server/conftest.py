from __future__ import annotations

import pytest

from outreach_connector.server.opening import open_store
from outreach_connector.server.secrets_box import generate_key_text
from outreach_connector.server.store import CredentialStore

from .helpers import FakeOutreach


@pytest.fixture
def fake() -> FakeOutreach:
    """Outreach on httpx.MockTransport; fails the test on any request nobody planned for."""
    return FakeOutreach()


@pytest.fixture
def encryption_key() -> str:
    return generate_key_text()


@pytest.fixture
def any_store(database: str, encryption_key: str) -> CredentialStore:
    store = open_store(database, encryption_key)
    yield store
    store.close()

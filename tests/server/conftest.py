from __future__ import annotations

from pathlib import Path

import pytest

from outreach_connector.server.opening import open_store
from outreach_connector.server.secrets_box import generate_key_text
from outreach_connector.server.store import CredentialStore

from .helpers import FakeOutreach
from .postgres import fresh_database


@pytest.fixture
def fake() -> FakeOutreach:
    """Outreach on httpx.MockTransport; fails the test on any request nobody planned for."""
    return FakeOutreach()


@pytest.fixture
def postgres_url():
    yield from fresh_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path) -> str:
    """Each store test runs on a SQLite file and on a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return str(tmp_path / "auth.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def encryption_key() -> str:
    return generate_key_text()


@pytest.fixture
def any_store(database: str, encryption_key: str) -> CredentialStore:
    store = open_store(database, encryption_key)
    yield store
    store.close()

from __future__ import annotations

import pytest

from tests.server.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """The store parts run on a SQLite file and on a PostgreSQL database of their own."""
    if request.param == "sqlite":
        yield tmp_path / "server.db"
    else:
        yield from fresh_database()

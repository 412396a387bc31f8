"""A PostgreSQL database of its own for each test that asks: created on 127.0.0.1:5432, dropped afterwards.

This project's machines (and CI's) run PostgreSQL there with trust authentication. Outside CI a test that
needs it skips with the reason when nothing answers; with ``CI=true`` it must run, so a missing server fails.
``OUTREACH_CONNECTOR_TEST_POSTGRES`` names another administrative URL.
"""
from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest

ADMIN_URL = os.environ.get("OUTREACH_CONNECTOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin():
    psycopg = pytest.importorskip("psycopg") if not os.environ.get("CI") else __import__("psycopg")
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL at {ADMIN_URL} ({type(exc).__name__}); with CI=true this test must run")


def database_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def fresh_database() -> Iterator[str]:
    """Yields the URL of a new, empty database; drops it (and its connections) afterwards."""
    name = f"oc_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

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

CANDIDATES = ([os.environ["OUTREACH_CONNECTOR_TEST_POSTGRES"]] if os.environ.get("OUTREACH_CONNECTOR_TEST_POSTGRES")
              else [f"postgresql://{user}@127.0.0.1:5432/{database}"
                    for user, database in (("postgres", "postgres"), ("root", "root"), ("root", "test"))])
_found: list[str] = []


def _admin():
    """A connection that may create databases: the first candidate that answers (remembered)."""
    psycopg = __import__("psycopg") if os.environ.get("CI") else pytest.importorskip("psycopg")
    problems = []
    for url in _found or CANDIDATES:
        try:
            connection = psycopg.connect(url, autocommit=True, connect_timeout=3)
        except psycopg.OperationalError as exc:
            problems.append(f"{url}: {type(exc).__name__}")
            continue
        _found[:] = [url]
        return connection
    if os.environ.get("CI"):
        raise RuntimeError(f"CI=true but no PostgreSQL answered: {'; '.join(problems)}")
    pytest.skip(f"no PostgreSQL reachable ({'; '.join(problems)}); with CI=true these tests must run")


def database_url(name: str) -> str:
    base, _, _ = _found[0].rpartition("/")
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

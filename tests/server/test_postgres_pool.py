"""The PostgreSQL backend's connections come from a psycopg_pool pool: bounded, reused, checked."""
from __future__ import annotations

import threading

import pytest

from outreach_connector.errors import StoreUnavailable
from outreach_connector.server.store_sql import PostgresBackend


@pytest.fixture
def backend(postgres_url):
    backend = PostgresBackend(postgres_url, lock_timeout=10, max_connections=2)
    yield backend
    backend.close()


def backend_pid(db) -> int:
    return db.execute("SELECT pg_backend_pid()").fetchone()[0]


def test_a_transaction_past_the_connection_bound_waits_for_one_to_come_back(backend):
    held, release, pids = threading.Barrier(3), threading.Event(), []

    def hold() -> None:
        with backend.transaction() as db:
            pids.append(backend_pid(db))
            held.wait()
            release.wait(10)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    held.wait()  # both connections of the bound are in use
    third: list[int] = []
    waiter = threading.Thread(target=lambda: third.append(_pid_in_transaction(backend)))
    waiter.start()
    waiting = threading.Event()
    while not waiting.wait(0.01):  # until the third transaction is queued for a connection (it gives up after 10 s)
        if backend._pool.get_stats()["requests_waiting"] >= 1 or not waiter.is_alive():
            waiting.set()
    release.set()
    for thread in [*holders, waiter]:
        thread.join(10)
    assert len(set(pids)) == 2
    assert third and third[0] in pids  # no third connection was opened: it reused one given back


def _pid_in_transaction(backend: PostgresBackend) -> int:
    with backend.transaction() as db:
        return backend_pid(db)


def test_a_connection_the_database_dropped_is_replaced_not_handed_out(backend, postgres_url):
    first = _pid_in_transaction(backend)  # now idle in the pool
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    assert _pid_in_transaction(backend) != first  # a fresh connection, and no StoreUnavailable


def test_no_connection_within_the_wait_is_store_unavailable(postgres_url):
    backend = PostgresBackend(postgres_url, lock_timeout=1, max_connections=1)
    try:
        with backend.transaction():
            with pytest.raises(StoreUnavailable, match=r"did not answer \(PoolTimeout\)"):
                with backend.transaction():
                    pass
    finally:
        backend.close()

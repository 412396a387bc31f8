"""The two databases behind the credential store: one SQLite file, or PostgreSQL (for replicas on several hosts).

Both speak the same SQL (written with ``?`` placeholders) and the same versioned schema, migrated at start
under a lock so that replicas starting together migrate once. A refresh locks one authentication's row:
SQLite takes the database's write lock (``BEGIN IMMEDIATE``), PostgreSQL the row (``SELECT ... FOR UPDATE``);
either way no other process refreshes the same authentication until the rotated tokens are committed.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from outreach_connector.errors import TransportError

Row = dict[str, Any]

# Each entry moves the schema one version up; never edit an entry once released, append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    ("CREATE TABLE IF NOT EXISTS authentications (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
     "kind TEXT NOT NULL CHECK (kind IN ('access_token', 'oauth')), created_at TEXT NOT NULL, "
     "updated_at TEXT NOT NULL, access_token_expires_at {real}, secret {blob} NOT NULL)",
     "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value {blob} NOT NULL)"),
    # 2: tenants. owner is a SHA-256 digest of the API key that stored the row, never the key.
    ("ALTER TABLE authentications ADD COLUMN owner TEXT",
     "CREATE INDEX authentications_by_owner ON authentications (owner, created_at, id)"),
    # 3: created_at to the microsecond (listing order within a second); older rows get .000000, which keeps
    # them in order and before anything created after the upgrade.
    ("UPDATE authentications SET created_at = substr(created_at, 1, 19) || '.000000Z' "
     "WHERE length(created_at) = 20",),
)
SCHEMA_VERSION = len(MIGRATIONS)
COLUMNS = "id, owner, name, kind, created_at, updated_at, access_token_expires_at, secret"


class SchemaTooNew(ValueError):
    pass


class StoreUnavailable(TransportError):
    """The database did not answer, or not in time (a row lock held too long): a call ends with an error
    envelope, an endpoint with 503. Names the failure's type only: a driver's text may quote values."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(f"the credential store did not answer ({type(exc).__name__})")


@contextmanager
def database_errors() -> Iterator[None]:
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise StoreUnavailable(exc) from None
    except Exception as exc:
        if type(exc).__module__.startswith("psycopg"):
            raise StoreUnavailable(exc) from None
        raise


class SqlBackend:
    """What both databases share; subclasses connect, lock and say how types are spelled."""

    placeholder = "?"
    types = {"real": "REAL", "blob": "BLOB"}
    lock_timeout: float = 30.0

    @contextmanager
    def transaction(self, *, lock: bool = False) -> Iterator[Any]:
        """One transaction (``lock``: the database-wide write/migration lock); driver errors become
        :class:`StoreUnavailable`."""
        with database_errors(), self._transaction(lock=lock) as db:
            yield db

    def _transaction(self, *, lock: bool = False) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def execute(self, db: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        return db.execute(self._sql(statement), tuple(params))

    def rows(self, db: Any, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self.execute(db, statement, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, _plain(values))) for values in cursor.fetchall()]

    # --- schema ---------------------------------------------------------------------------------------------

    def schema_version(self, db: Any) -> int:
        if not self.table_exists(db, "meta"):
            return 1 if self.table_exists(db, "authentications") else 0
        found = self.rows(db, "SELECT value FROM meta WHERE key = 'schema_version'")
        return int(bytes(found[0]["value"]).decode()) if found else 1

    def migrate(self) -> int:
        """Bring the schema to this code's version; returns the version found before."""
        with self.transaction(lock=True) as db:
            found = self.schema_version(db)
            if found > SCHEMA_VERSION:
                raise SchemaTooNew(f"{self.describe()} has schema version {found}; this server knows up to "
                                   f"{SCHEMA_VERSION}: upgrade the server")
            for statements in MIGRATIONS[found:]:
                for statement in statements:
                    self.execute(db, statement.format(**self.types))
            if found < SCHEMA_VERSION:
                self.put_meta(db, "schema_version", str(SCHEMA_VERSION).encode())
            return found

    def table_exists(self, db: Any, name: str) -> bool:
        raise NotImplementedError

    def put_meta(self, db: Any, key: str, value: bytes) -> None:
        self.execute(db, "DELETE FROM meta WHERE key = ?", (key,))
        self.execute(db, "INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> bytes | None:
        with self.transaction() as db:
            found = self.rows(db, "SELECT value FROM meta WHERE key = ?", (key,))
        return bytes(found[0]["value"]) if found else None

    def meta_setdefault(self, key: str, value: bytes) -> bytes:
        with self.transaction(lock=True) as db:
            found = self.rows(db, "SELECT value FROM meta WHERE key = ?", (key,))
            if found:
                return bytes(found[0]["value"])
            self.execute(db, "INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            return value

    # --- rows -----------------------------------------------------------------------------------------------

    def insert(self, row: Row) -> None:
        with self.transaction() as db:
            self.execute(db, f"INSERT INTO authentications ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [row[name] for name in COLUMNS.split(", ")])

    def insert_within(self, row: Row, max_per_owner: int) -> bool:
        """Adds the row unless its owner already holds ``max_per_owner`` rows (then False, nothing written).

        Count and insert are one transaction holding the owner's lock: two replicas creating at once cannot
        both see room for one more."""
        with self.owner_transaction(row["owner"]) as db:
            held = self.rows(db, "SELECT count(*) AS held FROM authentications WHERE owner = ?", (row["owner"],))
            if held[0]["held"] >= max_per_owner:
                return False
            self.execute(db, f"INSERT INTO authentications ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [row[name] for name in COLUMNS.split(", ")])
            return True

    def owner_transaction(self, owner: str) -> Any:
        """A transaction no other writer for ``owner`` runs beside (SQLite: the database's write lock)."""
        return self.transaction(lock=True)

    def fetch(self, auth_id: str) -> Row | None:
        with self.transaction() as db:
            found = self.rows(db, f"SELECT {COLUMNS} FROM authentications WHERE id = ?", (auth_id,))
        return found[0] if found else None

    def page(self, owner: str, after: tuple[str, str] | None, limit: int) -> list[Row]:
        """The owner's rows in creation order, from just after ``after`` (created_at, id)."""
        created, last_id = after or ("", "")
        with self.transaction() as db:
            return self.rows(db, f"SELECT {COLUMNS} FROM authentications WHERE owner = ? AND "
                                 "(created_at > ? OR (created_at = ? AND id > ?)) ORDER BY created_at, id LIMIT ?",
                             (owner, created, created, last_id, limit))

    def delete(self, auth_id: str, owner: str | None) -> bool:
        with self.transaction() as db:
            if owner is None:
                cursor = self.execute(db, "DELETE FROM authentications WHERE id = ?", (auth_id,))
            else:
                cursor = self.execute(db, "DELETE FROM authentications WHERE id = ? AND owner = ?", (auth_id, owner))
            return cursor.rowcount == 1

    def adopt_unowned(self, owner: str) -> int:
        with self.transaction() as db:
            return self.execute(db, "UPDATE authentications SET owner = ? WHERE owner IS NULL", (owner,)).rowcount

    def ping(self) -> None:
        with self.transaction() as db:
            self.execute(db, "SELECT 1 FROM meta WHERE key = 'schema_version'")

    def lock_row(self, auth_id: str, max_wait: float | None = None) -> "RowLease":
        """The authentication's row, locked against every other process's refresh until commit or rollback.

        Waiting for another process's lock takes at most ``max_wait`` seconds (what the call's budget has
        left), never more than ``lock_timeout``."""
        wait = self.lock_timeout if max_wait is None else max(0.0, min(self.lock_timeout, max_wait))
        with database_errors():
            return self._lock_row(auth_id, wait)

    def _lock_row(self, auth_id: str, wait: float) -> "RowLease":
        raise NotImplementedError


class RowLease:
    """One open transaction holding an authentication's row lock; ``row`` is its content when locked."""

    def __init__(self, backend: SqlBackend, db: Any, row: Row | None, close: Any) -> None:
        self._backend, self._db, self.row, self._close = backend, db, row, close

    def update(self, secret: bytes, expires_at: float | None, updated_at: str) -> None:
        auth_id = self.row["id"] if self.row else ""
        with database_errors():
            self._backend.execute(self._db, "UPDATE authentications SET secret = ?, access_token_expires_at = ?, "
                                            "updated_at = ? WHERE id = ?", (secret, expires_at, updated_at, auth_id))

    def commit(self) -> None:
        self._finish("COMMIT")

    def rollback(self) -> None:
        self._finish("ROLLBACK")

    def _finish(self, statement: str) -> None:
        if self._db is None:
            return
        db, self._db = self._db, None
        try:
            with database_errors():
                db.execute(statement)
        finally:
            self._close(db)


class SqliteBackend(SqlBackend):
    """One SQLite file (WAL mode); short-lived connections, so any thread (or process) may use it."""

    def __init__(self, path: Path, lock_timeout: float = 30.0) -> None:
        self.path = path
        self.lock_timeout = lock_timeout

    def describe(self) -> str:
        return str(self.path)

    def connect(self, busy_timeout: float | None = None) -> sqlite3.Connection:
        # Autocommit mode: every statement commits unless a transaction is opened explicitly.
        timeout = self.lock_timeout if busy_timeout is None else busy_timeout
        db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    @contextmanager
    def _transaction(self, *, lock: bool = False) -> Iterator[sqlite3.Connection]:
        db = self.connect()
        try:
            db.execute("BEGIN IMMEDIATE" if lock else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def table_exists(self, db: Any, name: str) -> bool:
        return bool(self.rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def _lock_row(self, auth_id: str, wait: float) -> RowLease:
        db = self.connect(busy_timeout=wait)
        try:
            db.execute("BEGIN IMMEDIATE")  # the write lock, taken before reading: no lost rotation
            found = self.rows(db, f"SELECT {COLUMNS} FROM authentications WHERE id = ?", (auth_id,))
        except BaseException:
            db.close()
            raise
        return RowLease(self, db, found[0] if found else None, sqlite3.Connection.close)


class PostgresBackend(SqlBackend):
    """A PostgreSQL database through psycopg 3; a few idle connections are kept for reuse."""

    placeholder = "%s"
    types = {"real": "DOUBLE PRECISION", "blob": "BYTEA"}
    _MIGRATION_LOCK = 0x6F75747265616368  # pg_advisory_xact_lock key: "outreach"
    _IDLE_CONNECTIONS = 4

    def __init__(self, url: str, lock_timeout: float = 30.0) -> None:
        import psycopg  # only replicas on PostgreSQL need it

        self._psycopg = psycopg
        self.url = url
        self.lock_timeout = lock_timeout
        self._idle: list[Any] = []
        self._idle_guard = threading.Lock()

    def describe(self) -> str:
        return redact_url(self.url)

    def connect(self) -> Any:
        with self._idle_guard:
            if self._idle:
                return self._idle.pop()
        return self._psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.lock_timeout)))

    def give_back(self, db: Any) -> None:
        if db.closed or db.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
            db.close()
            return
        with self._idle_guard:
            if len(self._idle) < self._IDLE_CONNECTIONS:
                self._idle.append(db)
                return
        db.close()

    @contextmanager
    def _transaction(self, *, lock: bool = False) -> Iterator[Any]:
        db = self.connect()
        try:
            with db.transaction():
                self._set_lock_timeout(db)
                if lock:
                    db.execute("SELECT pg_advisory_xact_lock(%s)", (self._MIGRATION_LOCK,))
                yield db
        except self._psycopg.OperationalError:
            db.close()
            raise
        finally:
            self.give_back(db)

    @contextmanager
    def owner_transaction(self, owner: str) -> Iterator[Any]:
        """A transaction holding a lock on the owner alone (not the migration lock): other tenants go on."""
        with self.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (owner,))
            yield db

    def _set_lock_timeout(self, db: Any, seconds: float | None = None) -> None:
        milliseconds = max(1, int((self.lock_timeout if seconds is None else seconds) * 1000))  # 0 would be none
        db.execute(f"SET LOCAL lock_timeout = {milliseconds}")

    def table_exists(self, db: Any, name: str) -> bool:
        return bool(self.rows(db, "SELECT to_regclass(?) AS found", (name,))[0]["found"])

    def _lock_row(self, auth_id: str, wait: float) -> RowLease:
        db = self.connect()
        try:
            db.execute("BEGIN")
            self._set_lock_timeout(db, wait)
            found = self.rows(db, f"SELECT {COLUMNS} FROM authentications WHERE id = ? FOR UPDATE", (auth_id,))
        except BaseException:
            db.close()
            raise
        return RowLease(self, db, found[0] if found else None, self.give_back)

    def close(self) -> None:
        with self._idle_guard:
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()


def redact_url(url: str) -> str:
    """A database URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}@{host}"


def _plain(values: Sequence[Any]) -> list[Any]:
    return [bytes(v) if isinstance(v, memoryview) else v for v in values]

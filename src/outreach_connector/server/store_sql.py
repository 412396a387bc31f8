"""The two databases behind the credential store: one SQLite file, or PostgreSQL (for replicas on several hosts).

Both speak the same SQL (written with ``?`` placeholders) and the same versioned schema, migrated at start
under a lock so that replicas starting together migrate once.

A refresh takes a *lease* on one authentication's row, not a database lock: one short transaction marks the
row leased until a time (the database's own clock) and commits, the token request runs with no transaction
open, and one more short transaction stores the rotated tokens and clears the lease. No other process
refreshes the same authentication while the lease holds, and nothing else (another tenant's writes, another
authentication's refresh) waits for a token endpoint. The lease outlasts the longest token exchange a call
may make (its retry budget plus one request's timeout, see ``lease_seconds``); a process that dies holding
one delays that authentication's next refresh until the lease expires.
"""
from __future__ import annotations

import re
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import SchemaTooNew as SchemaTooNew, StoreUnavailable as StoreUnavailable

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
    # 4: owner becomes an HMAC of the API key (see store.owner_of); the SHA-256 digests stored so far are
    # marked 'sha256:' and re-owned at start-up for each configured key. Refreshes take a lease on the row
    # (lease_until: the database's clock, Unix seconds) instead of holding a lock across the token request.
    ("UPDATE authentications SET owner = 'sha256:' || owner WHERE owner IS NOT NULL",
     "ALTER TABLE authentications ADD COLUMN lease_until {real}",
     "ALTER TABLE authentications ADD COLUMN lease_holder TEXT"),
    # 5: staying connected (status, why, since when; existing rows are connected since they were made) and
    # the pending states of the OAuth consent flow (a digest of the state, never the state; any replica
    # completes a flow another started).
    ("ALTER TABLE authentications ADD COLUMN status TEXT NOT NULL DEFAULT 'connected'",
     "ALTER TABLE authentications ADD COLUMN status_reason TEXT",
     "ALTER TABLE authentications ADD COLUMN status_since TEXT",
     "UPDATE authentications SET status_since = created_at",
     "CREATE TABLE IF NOT EXISTS oauth_states (state_digest TEXT PRIMARY KEY, owner TEXT NOT NULL, "
     "expires_at {real} NOT NULL, request TEXT NOT NULL)",
     "CREATE INDEX oauth_states_by_owner ON oauth_states (owner, expires_at)"),
    # 6: triggers (server/subscription_store.py): subscriptions per authentication (secrets sealed in
    # ``secret``), and the events they received, numbered in the order they were stored (``seq``: the long
    # poll's cursor), once per Outreach event (unique on subscription and event id).
    ("CREATE TABLE IF NOT EXISTS subscriptions (id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
     "auth_id TEXT NOT NULL, trigger_name TEXT NOT NULL, input TEXT NOT NULL, mode TEXT NOT NULL, "
     "callback_url TEXT, secret {blob} NOT NULL, webhook_id TEXT, status TEXT NOT NULL, last_error TEXT, "
     "last_event_at TEXT, created_at TEXT NOT NULL, bookmark TEXT, poll_due {real}, "
     "purged_through BIGINT NOT NULL DEFAULT 0, delivered_through BIGINT NOT NULL DEFAULT 0, "
     "delivery_due {real}, delivery_lease {real}, failing_since {real})",
     "CREATE INDEX IF NOT EXISTS subscriptions_by_owner ON subscriptions (owner, created_at, id)",
     "CREATE INDEX IF NOT EXISTS subscriptions_by_auth ON subscriptions (auth_id)",
     "CREATE TABLE IF NOT EXISTS subscription_events (seq {serial}, subscription_id TEXT NOT NULL, "
     "event_id TEXT NOT NULL, received_at {real} NOT NULL, body TEXT NOT NULL, "
     "UNIQUE (subscription_id, event_id))",
     "CREATE INDEX IF NOT EXISTS subscription_events_by_seq ON subscription_events (subscription_id, seq)",
     "CREATE INDEX IF NOT EXISTS subscription_events_by_age ON subscription_events (received_at)"),
)
SCHEMA_VERSION = len(MIGRATIONS)
COLUMNS = ("id, owner, name, kind, created_at, updated_at, access_token_expires_at, secret, "
           "status, status_reason, status_since")
# Ends the lease of the holder bound to its two parameters, and never another holder's: a lease that expired
# and was taken by another process meanwhile stays theirs.
END_OWN_LEASE = ("lease_until = CASE WHEN lease_holder = ? THEN NULL ELSE lease_until END, "
                 "lease_holder = CASE WHEN lease_holder = ? THEN NULL ELSE lease_holder END")
LEASE_MARGIN = 10.0  # seconds a lease outlasts the longest token exchange it covers
_LEASE_POLL = (0.02, 0.25)  # first and longest pause between two tries for a leased row


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
    types = {"real": "REAL", "blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"}
    lock_timeout: float = 30.0
    now_sql = "0"  # the database's clock in Unix seconds: one clock for every replica's leases
    row_lock_sql = ""  # what makes a SELECT lock its row until commit (SQLite locks the database instead)
    row_lock_database = False

    @property
    def lease_seconds(self) -> float:
        """How long a refresh lease holds: longer than any token exchange a call may make (``lock_timeout``
        is its retry budget plus one request's timeout), so a live holder never loses it."""
        return self.lock_timeout + LEASE_MARGIN

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
            self._insert(db, row)

    def _insert(self, db: Any, row: Row) -> None:
        names = COLUMNS.split(", ")
        self.execute(db, f"INSERT INTO authentications ({COLUMNS}) VALUES ({', '.join('?' * len(names))})",
                     [row[name] for name in names])

    def insert_within(self, row: Row, max_per_owner: int) -> bool:
        """Adds the row unless its owner already holds ``max_per_owner`` rows (then False, nothing written).

        Count and insert are one transaction holding the owner's lock: two replicas creating at once cannot
        both see room for one more."""
        with self.owner_transaction(row["owner"]) as db:
            held = self.rows(db, "SELECT count(*) AS held FROM authentications WHERE owner = ?", (row["owner"],))
            if held[0]["held"] >= max_per_owner:
                return False
            self._insert(db, row)
            return True

    def owner_transaction(self, owner: str) -> Any:
        """A transaction no other writer for ``owner`` runs beside (SQLite: the database's write lock)."""
        return self.transaction(lock=True)

    def lock_key(self, db: Any, key: str) -> None:
        """Hold a lock named ``key`` until the transaction ends. SQLite has nothing finer than the database's
        write lock, which a writing transaction (``lock=True``) already holds."""

    def fetch(self, auth_id: str) -> Row | None:
        with self.transaction() as db:
            found = self.rows(db, f"SELECT {COLUMNS} FROM authentications WHERE id = ?", (auth_id,))
        return found[0] if found else None

    def page(self, owner: str, after: tuple[str, str] | None, limit: int, status: str | None = None,
             changed_since: str | None = None) -> list[Row]:
        """The owner's rows in creation order, from just after ``after`` (created_at, id); ``status`` and
        ``changed_since`` (status_since at or after it) filter."""
        created, last_id = after or ("", "")
        filters, params = "", list[Any]()
        if status is not None:
            filters, params = filters + " AND status = ?", [*params, status]
        if changed_since is not None:
            filters, params = filters + " AND status_since >= ?", [*params, changed_since]
        with self.transaction() as db:
            return self.rows(db, f"SELECT {COLUMNS} FROM authentications WHERE owner = ? AND "
                                 f"(created_at > ? OR (created_at = ? AND id > ?)){filters} "
                                 "ORDER BY created_at, id LIMIT ?",
                             (owner, created, created, last_id, *params, limit))

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

    def lease_row(self, auth_id: str, max_wait: float | None = None) -> "RowLease":
        """A lease on the authentication's row: no other process refreshes it until the lease is released
        or expires. The row's content comes with it (``row`` None: the authentication is gone).

        Waiting for another process's lease takes at most ``max_wait`` seconds (what the call's budget has
        left), never more than ``lock_timeout``; then :class:`StoreUnavailable`."""
        wait = self.lock_timeout if max_wait is None else max(0.0, min(self.lock_timeout, max_wait))
        deadline, pause, holder = time.monotonic() + wait, _LEASE_POLL[0], uuid.uuid4().hex
        while True:
            taken, row = self._try_lease(auth_id, holder)
            if taken or row is None:
                return RowLease(self, holder if taken else None, row)
            if time.monotonic() + pause > deadline:
                raise StoreUnavailable(TimeoutError())
            time.sleep(pause)
            pause = min(pause * 2, _LEASE_POLL[1])

    def _try_lease(self, auth_id: str, holder: str) -> tuple[bool, Row | None]:
        """One short transaction: lease the row if nobody holds it (or a lease expired)."""
        with self.transaction() as db:
            taken = self.execute(db, f"UPDATE authentications SET lease_until = {self.now_sql} + ?, lease_holder = ? "
                                     f"WHERE id = ? AND (lease_until IS NULL OR lease_until <= {self.now_sql})",
                                 (self.lease_seconds, holder, auth_id)).rowcount == 1
            found = self.rows(db, f"SELECT {COLUMNS} FROM authentications WHERE id = ?", (auth_id,))
        return taken, found[0] if found else None

    @contextmanager
    def locked_row(self, auth_id: str) -> Iterator[tuple[Any, Row | None]]:
        """A short transaction holding the row (SQLite: the write lock) for a compare-and-write."""
        with self.transaction(lock=self.row_lock_database) as db:
            found = self.rows(db, f"SELECT {COLUMNS}, lease_holder FROM authentications WHERE id = ?"
                                  f"{self.row_lock_sql}", (auth_id,))
            yield db, found[0] if found else None

    def write_tokens(self, db: Any, auth_id: str, secret: bytes, expires_at: float | None, updated_at: str,
                     holder: str | None) -> None:
        """Store a token set; clears the lease when ``holder`` still holds it (never another's lease)."""
        self.execute(db, "UPDATE authentications SET secret = ?, access_token_expires_at = ?, updated_at = ?, "
                         f"{END_OWN_LEASE} WHERE id = ?", (secret, expires_at, updated_at, holder, holder, auth_id))

    def mark_reconnect(self, db: Any, auth_id: str, reason: str, since: str, *, holder: str | None = None,
                       seen_since: str | None = None) -> bool:
        """Mark the row ``reconnect_required``, clearing the lease when ``holder`` still holds it; with
        ``seen_since`` (its status_since as shown, to the second), only if it is still connected since then.
        True when this marked it."""
        unchanged, params = "", [reason, since, holder, holder, auth_id]
        if seen_since is not None:
            unchanged = " AND status = 'connected' AND substr(status_since, 1, 19) = ?"
            params.append(seen_since[:19])
        return self.execute(db, "UPDATE authentications SET status = 'reconnect_required', status_reason = ?, "
                                f"status_since = ?, {END_OWN_LEASE} WHERE id = ?{unchanged}", params).rowcount == 1

    def end_lease(self, auth_id: str, holder: str) -> None:
        with self.transaction() as db:
            self.execute(db, "UPDATE authentications SET lease_until = NULL, lease_holder = NULL "
                             "WHERE id = ? AND lease_holder = ?", (auth_id, holder))

    def reown(self, old: str, new: str) -> int:
        with self.transaction() as db:
            return self.execute(db, "UPDATE authentications SET owner = ? WHERE owner = ?", (new, old)).rowcount

    def count_owned_like(self, prefix: str) -> int:
        with self.transaction() as db:
            return int(self.rows(db, "SELECT COUNT(*) AS n FROM authentications WHERE owner LIKE ?",
                                 (prefix + "%",))[0]["n"])

    def rewrite_secrets(self, rewrite: Any, sealed_meta: dict[str, str]) -> int:
        """Pass every sealed blob through ``rewrite(context, blob) -> new blob | None`` in one locked
        transaction (a key rotation): each row's secret, and the meta values named in ``sealed_meta`` (key ->
        context). How many rows changed."""
        changed = 0
        with self.transaction(lock=True) as db:
            for row in self.rows(db, "SELECT id, secret FROM authentications"):
                new = rewrite(f"authentication:{row['id']}", row["secret"])
                if new is not None:
                    self.execute(db, "UPDATE authentications SET secret = ? WHERE id = ?", (new, row["id"]))
                    changed += 1
            for row in self.rows(db, "SELECT id, secret FROM subscriptions"):  # their webhook/delivery secrets
                new = rewrite(f"subscription:{row['id']}", row["secret"])
                if new is not None:
                    self.execute(db, "UPDATE subscriptions SET secret = ? WHERE id = ?", (new, row["id"]))
            for row in self.rows(db, "SELECT key, value FROM meta"):
                context = sealed_meta.get(row["key"])
                new = None if context is None else rewrite(context, row["value"])
                if new is not None:
                    self.put_meta(db, row["key"], new)
        return changed


class RowLease:
    """A refresh lease on one row (``holder`` None: not taken, the row is gone); ``row`` as it was leased."""

    def __init__(self, backend: SqlBackend, holder: str | None, row: Row | None) -> None:
        self.backend, self.holder, self.row = backend, holder, row

    def release(self) -> None:
        holder, self.holder = self.holder, None
        if holder is not None and self.row is not None:
            self.backend.end_lease(self.row["id"], holder)


class SqliteBackend(SqlBackend):
    """One SQLite file (WAL mode); short-lived connections, so any thread (or process) may use it."""

    now_sql = "((julianday('now') - 2440587.5) * 86400.0)"
    row_lock_database = True

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


class PostgresBackend(SqlBackend):
    """A PostgreSQL database through psycopg 3 and a psycopg_pool connection pool.

    The pool opens connections as they are needed, up to ``max_connections`` (a call past that waits for one
    to come back, at most ``lock_timeout``, then :class:`StoreUnavailable`), checks each before handing it
    out (a connection the database dropped, e.g. on a restart, is replaced, not reused), and closes those
    idle for 10 minutes."""

    placeholder = "%s"
    types = {"real": "DOUBLE PRECISION", "blob": "BYTEA", "serial": "BIGSERIAL PRIMARY KEY"}
    now_sql = "extract(epoch from clock_timestamp())::double precision"
    row_lock_sql = " FOR UPDATE"
    _MIGRATION_LOCK = 0x6F75747265616368  # pg_advisory_xact_lock key: "outreach"
    MAX_CONNECTIONS = 10  # per replica: the server's store calls are short; PostgreSQL allows 100 in all

    def __init__(self, url: str, lock_timeout: float = 30.0, max_connections: int = MAX_CONNECTIONS) -> None:
        from psycopg_pool import ConnectionPool  # only replicas on PostgreSQL need it

        self.url = url
        self.lock_timeout = lock_timeout
        self._pool = ConnectionPool(url, min_size=0, max_size=max_connections, open=True,
                                    timeout=lock_timeout, check=ConnectionPool.check_connection,
                                    kwargs={"autocommit": True, "connect_timeout": max(1, int(lock_timeout))},
                                    name="outreach-connector-store")

    def describe(self) -> str:
        return redact_url(self.url)

    @contextmanager
    def _transaction(self, *, lock: bool = False) -> Iterator[Any]:
        with self._pool.connection() as db, db.transaction():
            self._set_lock_timeout(db)
            if lock:
                db.execute("SELECT pg_advisory_xact_lock(%s)", (self._MIGRATION_LOCK,))
            yield db

    @contextmanager
    def owner_transaction(self, owner: str) -> Iterator[Any]:
        """A transaction holding a lock on the owner alone (not the migration lock): other tenants go on."""
        with self.transaction() as db:
            self.lock_key(db, owner)
            yield db

    def lock_key(self, db: Any, key: str) -> None:
        db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))

    def _set_lock_timeout(self, db: Any, seconds: float | None = None) -> None:
        milliseconds = max(1, int((self.lock_timeout if seconds is None else seconds) * 1000))  # 0 would be none
        db.execute(f"SET LOCAL lock_timeout = {milliseconds}")

    def table_exists(self, db: Any, name: str) -> bool:
        return bool(self.rows(db, "SELECT to_regclass(?) AS found", (name,))[0]["found"])

    def close(self) -> None:
        self._pool.close()


_PASSWORD_IN_USERINFO = re.compile(r"(://[^/@\s:]*):[^@\s]*@")
_PASSWORD_PARAMETER = re.compile(r"(\bpassword\s*=\s*)('[^']*'|[^&\s]*)", re.IGNORECASE)


def redact_url(text: str) -> str:
    """``text`` (a database URL, or a message quoting one) with every password masked: ``user:***@`` and
    ``password=***`` (a query parameter or a libpq ``key=value`` pair)."""
    return _PASSWORD_PARAMETER.sub(r"\1***", _PASSWORD_IN_USERINFO.sub(r"\1:***@", text))


def _plain(values: Sequence[Any]) -> list[Any]:
    return [bytes(v) if isinstance(v, memoryview) else v for v in values]

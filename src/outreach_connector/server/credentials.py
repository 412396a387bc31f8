"""Stored Outreach authentications: SQLite, secrets encrypted at rest, rotation-safe token updates.

One row per authentication. Its public columns (id, name, kind, timestamps, access-token expiry) are
readable by anyone holding the database; everything secret (access token, client id and secret, refresh
token, token URL) is one AES-GCM blob bound to the row id (see :mod:`secrets_box`).

Outreach kills the old refresh token the moment it issues a new one, so :meth:`CredentialStore.save_tokens`
writes the rotated set in one ``BEGIN IMMEDIATE`` transaction (WAL mode, busy timeout): safe across threads
and processes, and never a half-written secret.
"""
from __future__ import annotations

import json
import os
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Literal, Union
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from outreach_connector.oauth import TokenSet
from outreach_connector.server.secrets_box import (EncryptionKeyError, SecretBox, key_file_for,
                                            load_or_create_key_file)

DEFAULT_DATABASE = Path("outreach-connector.db")
Kind = Literal["access_token", "oauth"]
_KEY_CHECK = b"outreach-connector key check"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS authentications (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('access_token', 'oauth')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    access_token_expires_at REAL,
    secret BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


class AccessTokenCredentials(BaseModel):
    """A ready access token (no refresh: it stops working when Outreach expires it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    access_token: SecretStr

    @field_validator("access_token")
    @classmethod
    def _present(cls, value: SecretStr) -> SecretStr:
        return _not_empty(value)


class OAuthCredentials(BaseModel):
    """An OAuth app and a user's refresh token; ``token_url`` defaults to the server's configured one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    token_url: str | None = None

    @field_validator("client_secret", "refresh_token")
    @classmethod
    def _present(cls, value: SecretStr) -> SecretStr:
        return _not_empty(value)

    @field_validator("token_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            raise ValueError("must be an absolute http(s) URL without user info")
        return value


def _not_empty(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise ValueError("must not be empty")
    return value


Credentials = Union[AccessTokenCredentials, OAuthCredentials]


def parse_credentials(raw: Any) -> Credentials:
    """The credentials model a request body means: an access token, or OAuth refresh credentials.

    Raises pydantic's ``ValidationError``; report it by ``loc`` and ``msg`` only (its ``input`` holds secrets).
    """
    if isinstance(raw, dict) and "access_token" in raw:
        return AccessTokenCredentials.model_validate(raw)
    return OAuthCredentials.model_validate(raw)


@dataclass(frozen=True)
class Authentication:
    """The public view of a stored authentication: never a secret."""

    id: str
    name: str
    kind: Kind
    created_at: str
    access_token_expires_at: float | None

    def to_public_dict(self) -> dict[str, Any]:
        view: dict[str, Any] = {"id": self.id, "name": self.name, "kind": self.kind, "created_at": self.created_at}
        if self.kind == "oauth":
            view["access_token_expires_at"] = _iso(self.access_token_expires_at)
        return view


@dataclass(frozen=True)
class StoredAuthentication:
    """An authentication with its decrypted secrets, for building a connector; repr shows no secret."""

    info: Authentication
    credentials: Credentials = field(repr=False)
    tokens: TokenSet | None = None  # OAuth only: the latest access token and rotated refresh token


class AuthenticationNotFound(LookupError):
    pass


class CredentialStore:
    """Authentications in one SQLite file; connections are short-lived, so any thread may use the store."""

    def __init__(self, path: Path | str = DEFAULT_DATABASE, *, encryption_key: str | None = None) -> None:
        self.path = Path(path)
        self._box = SecretBox.from_text(encryption_key or load_or_create_key_file(key_file_for(self.path)))
        _create_private_file(self.path)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        self._check_key()

    def __repr__(self) -> str:
        return f"CredentialStore(path={str(self.path)!r})"

    def create(self, name: str, credentials: Credentials) -> Authentication:
        auth_id, now = str(uuid.uuid4()), _now_iso()
        kind: Kind = "access_token" if isinstance(credentials, AccessTokenCredentials) else "oauth"
        blob = self._seal(auth_id, _reveal(credentials))
        with self._connect() as db:
            db.execute("INSERT INTO authentications (id, name, kind, created_at, updated_at, secret) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (auth_id, name, kind, now, now, blob))
        return Authentication(auth_id, name, kind, now, None)

    def get(self, auth_id: str) -> Authentication | None:
        row = self._row(auth_id)
        return None if row is None else _public(row)

    def list(self) -> list[Authentication]:
        with self._connect() as db:
            return [_public(row) for row in db.execute("SELECT * FROM authentications ORDER BY created_at, name")]

    def load(self, auth_id: str) -> StoredAuthentication:
        """The authentication with its secrets; raises :class:`AuthenticationNotFound`."""
        row = self._row(auth_id)
        if row is None:
            raise AuthenticationNotFound(auth_id)
        secret = self._open(auth_id, row["secret"])
        if row["kind"] == "access_token":
            return StoredAuthentication(_public(row), AccessTokenCredentials(access_token=secret["access_token"]))
        credentials = OAuthCredentials(**{k: secret[k] for k in
                                          ("client_id", "client_secret", "refresh_token", "token_url")})
        tokens = TokenSet(secret.get("access_token") or "", secret["refresh_token"],
                          secret.get("expires_at"), secret.get("scope"))
        return StoredAuthentication(_public(row), credentials, tokens)

    def delete(self, auth_id: str) -> bool:
        with self._connect() as db:
            return db.execute("DELETE FROM authentications WHERE id = ?", (auth_id,)).rowcount == 1

    def save_tokens(self, auth_id: str, tokens: TokenSet) -> None:
        """Persist a refreshed token set (rotated refresh token included) in one immediate transaction."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # take the write lock before reading: no lost update
            try:
                self._replace_tokens(db, auth_id, tokens)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _replace_tokens(self, db: sqlite3.Connection, auth_id: str, tokens: TokenSet) -> None:
        row = db.execute("SELECT kind, secret FROM authentications WHERE id = ?", (auth_id,)).fetchone()
        if row is None or row["kind"] != "oauth":
            raise AuthenticationNotFound(auth_id)
        secret = self._open(auth_id, row["secret"])
        secret.update(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                      expires_at=tokens.expires_at, scope=tokens.scope)
        db.execute("UPDATE authentications SET secret = ?, access_token_expires_at = ?, updated_at = ? "
                   "WHERE id = ?", (self._seal(auth_id, secret), tokens.expires_at, _now_iso(), auth_id))

    def _row(self, auth_id: str) -> sqlite3.Row | None:
        with self._connect() as db:
            return db.execute("SELECT * FROM authentications WHERE id = ?", (auth_id,)).fetchone()

    def _seal(self, auth_id: str, secret: dict[str, Any]) -> bytes:
        return self._box.seal(json.dumps(secret).encode(), context=f"authentication:{auth_id}")

    def _open(self, auth_id: str, blob: bytes) -> dict[str, Any]:
        return json.loads(self._box.open(blob, context=f"authentication:{auth_id}"))

    def _check_key(self) -> None:
        """Fail at start-up, not at the first call, when the key is not the one the database was sealed with."""
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('key_check', ?)",
                       (self._box.seal(_KEY_CHECK, context="key-check"),))
            stored = db.execute("SELECT value FROM meta WHERE key = 'key_check'").fetchone()["value"]
        try:
            self._box.open(stored, context="key-check")
        except EncryptionKeyError:
            raise EncryptionKeyError(f"the encryption key does not match the one {self.path} was created with") \
                from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit mode: every statement commits unless a transaction is opened explicitly.
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()


def _reveal(credentials: Credentials) -> dict[str, Any]:
    values = credentials.model_dump()
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in values.items()}


def _public(row: sqlite3.Row) -> Authentication:
    return Authentication(row["id"], row["name"], row["kind"], row["created_at"], row["access_token_expires_at"])


def _create_private_file(path: Path) -> None:
    """Create the database file owner-only (SQLite gives its -wal/-shm files the same mode)."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

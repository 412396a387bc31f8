"""Stored Outreach authentications: secrets sealed at rest, each row owned by the API key that stored it.

One row per authentication. Its public columns (id, name, kind, timestamps, access-token expiry, owner) are
readable by anyone holding the database; everything secret (access token, client id and secret, refresh
token, token URL) is one AES-GCM blob bound to the row id (see :mod:`secrets_box`). ``owner`` is a digest of
the API key, never the key.

Outreach kills the old refresh token the moment it issues a new one, so a refresh goes through a
:class:`StoredTokens` lease: the row is locked across processes, re-read, and the rotated set is committed
before the lock is released (see :mod:`store_sql`).
"""
from __future__ import annotations

import functools
import hashlib
import json
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from outreach_connector import cursors
from outreach_connector.oauth import TokenSet
from outreach_connector.server.credentials import (AccessTokenCredentials, Authentication,
                                                   AuthenticationNotFound, Credentials, OAuthCredentials,
                                                   StoredAuthentication, reveal)
from outreach_connector.server.secrets_box import EncryptionKeyError, SecretBox
from outreach_connector.server.store_sql import Row, RowLease, SqlBackend

_KEY_CHECK = b"outreach-connector key check"
MAX_PAGE = 100


def owner_of(api_key: str) -> str:
    """The digest a row's ``owner`` holds for an API key (keys are high-entropy: a plain hash suffices)."""
    return hashlib.sha256(b"outreach-connector api key\x00" + api_key.encode()).hexdigest()


class StoredTokens:
    """A held lock on one authentication's row (the ``TokenLease`` the refresh flow uses)."""

    def __init__(self, store: "CredentialStore", lease: RowLease) -> None:
        self._store, self._lease = store, lease
        self.tokens = None if lease.row is None or lease.row["kind"] != "oauth" else store.tokens_of(lease.row)

    def save(self, tokens: TokenSet) -> None:
        row = self._lease.row
        if row is None:
            self._lease.rollback()
            raise AuthenticationNotFound("deleted while refreshing")
        try:
            secret = self._store.open_secret(row)
            secret.update(access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                          expires_at=tokens.expires_at, scope=tokens.scope)
            self._lease.update(self._store.seal(row["id"], secret), tokens.expires_at, now_iso())
        except BaseException:
            self._lease.rollback()
            raise
        self._lease.commit()

    def release(self) -> None:
        self._lease.rollback()


class TooManyAuthentications(Exception):
    """The tenant already holds as many authentications as the server allows one API key."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"This API key already holds {limit} authentications, as many as the server allows "
                         "(--max-authentications-per-key); delete one you no longer use first")
        self.limit = limit


class CredentialStore:
    """Authentications in SQLite or PostgreSQL; any thread may use the store (connections are per operation)."""

    def __init__(self, backend: SqlBackend, box: SecretBox, clock: Callable[[], datetime] | None = None) -> None:
        self.backend = backend
        self._box = box
        self._clock = clock or utc_now

    def __repr__(self) -> str:
        return f"CredentialStore({self.backend.describe()!r})"

    def check_key(self) -> None:
        """Fail at start-up, not at the first call, when the key is not the one the database was sealed with."""
        stored = self.backend.get_meta("key_check")
        if stored is None:
            stored = self.backend.meta_setdefault("key_check", self._box.seal(_KEY_CHECK, context="key-check"))
        try:
            self._box.open(stored, context="key-check")
        except EncryptionKeyError:
            raise EncryptionKeyError(f"the encryption key does not match the one {self.backend.describe()} "
                                     "was created with") from None

    def create(self, name: str, credentials: Credentials, *, owner: str,
               max_per_owner: int | None = None) -> Authentication:
        """Stores a new authentication; raises :class:`TooManyAuthentications` when ``owner`` already holds
        ``max_per_owner``."""
        auth_id, now = str(uuid.uuid4()), precise_time(self._clock())
        kind = "access_token" if isinstance(credentials, AccessTokenCredentials) else "oauth"
        row = {"id": auth_id, "owner": owner, "name": name, "kind": kind, "created_at": now,
               "updated_at": now, "access_token_expires_at": None,
               "secret": self.seal(auth_id, reveal(credentials))}
        if max_per_owner is None:
            self.backend.insert(row)
        elif not self.backend.insert_within(row, max_per_owner):
            raise TooManyAuthentications(max_per_owner)
        return Authentication(auth_id, name, kind, shown_time(now), None)

    def get(self, auth_id: str, owner: str | None = None) -> Authentication | None:
        row = self._owned_row(auth_id, owner)
        return None if row is None else public(row)

    def page(self, owner: str, after: str | None = None, limit: int = 50) -> tuple[list[Authentication], str | None]:
        """Up to ``limit`` of the owner's authentications, oldest first, and the cursor of the next page."""
        rows = self.backend.page(owner, decode_cursor(after), min(max(limit, 1), MAX_PAGE) + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = encode_cursor(rows[-1]) if more and rows else None
        return [public(row) for row in rows], cursor

    def load(self, auth_id: str, owner: str | None = None) -> StoredAuthentication:
        """The authentication with its secrets; raises :class:`AuthenticationNotFound`."""
        row = self._owned_row(auth_id, owner)
        if row is None:
            raise AuthenticationNotFound(auth_id)
        secret = self.open_secret(row)
        if row["kind"] == "access_token":
            return StoredAuthentication(public(row), AccessTokenCredentials(access_token=secret["access_token"]),
                                        owner=row["owner"])
        credentials = OAuthCredentials(**{k: secret[k] for k in
                                          ("client_id", "client_secret", "refresh_token", "token_url")})
        return StoredAuthentication(public(row), credentials, self.tokens_of(row, secret), owner=row["owner"])

    def delete(self, auth_id: str, owner: str | None = None) -> bool:
        return self.backend.delete(auth_id, owner)

    def lock(self, auth_id: str, max_wait: float | None = None) -> StoredTokens:
        """Lock the authentication's row across processes until the lease is saved or released, waiting at
        most ``max_wait`` seconds (and never beyond the backend's own lock timeout)."""
        return StoredTokens(self, self.backend.lock_row(auth_id, max_wait))

    def token_store(self, auth_id: str) -> Any:
        """The ``TokenStore`` of one authentication, for ``OAuthRefreshAuth(token_store=...)``."""
        return _OneAuthentication(functools.partial(self.lock, auth_id))

    def save_tokens(self, auth_id: str, tokens: TokenSet) -> None:
        """Persist a token set (rotated refresh token included) under the row lock."""
        lease = self.lock(auth_id)
        if lease.tokens is None:
            lease.release()
            raise AuthenticationNotFound(auth_id)
        lease.save(tokens)

    def adopt_unowned(self, owner: str) -> int:
        return self.backend.adopt_unowned(owner)

    def ping(self) -> None:
        self.backend.ping()

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()

    # --- sealing --------------------------------------------------------------------------------------------

    def seal(self, auth_id: str, secret: dict[str, Any]) -> bytes:
        return self._box.seal(json.dumps(secret).encode(), context=f"authentication:{auth_id}")

    def open_secret(self, row: Row) -> dict[str, Any]:
        return json.loads(self._box.open(row["secret"], context=f"authentication:{row['id']}"))

    def tokens_of(self, row: Row, secret: dict[str, Any] | None = None) -> TokenSet:
        secret = secret or self.open_secret(row)
        return TokenSet(secret.get("access_token") or "", secret["refresh_token"], secret.get("expires_at"),
                        secret.get("scope"))

    def _owned_row(self, auth_id: str, owner: str | None) -> Row | None:
        row = self.backend.fetch(auth_id)
        if row is None or (owner is not None and row["owner"] != owner):
            return None  # another tenant's authentication does not exist for this caller
        return row


class _OneAuthentication:
    def __init__(self, lock: Any) -> None:
        self.lock = lock


def public(row: Row) -> Authentication:
    return Authentication(row["id"], row["name"], row["kind"], shown_time(row["created_at"]),
                          row["access_token_expires_at"])


def encode_cursor(row: Row) -> str:
    return cursors.pack([row["created_at"], row["id"]])


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    """The (created_at, id) a cursor names; raises ValueError for anything this server did not hand out."""
    if not cursor:
        return None
    try:
        created, auth_id = cursors.unpack(cursor)
    except (ValueError, TypeError):
        raise ValueError("not a cursor this server handed out") from None
    if not isinstance(created, str) or not isinstance(auth_id, str):
        raise ValueError("not a cursor this server handed out")
    if len(created) == len("2026-01-01T00:00:00Z"):  # handed out before schema 3 kept microseconds
        created = created[:-1] + ".000000Z"
    return created, auth_id


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def now_iso() -> str:
    return utc_now().isoformat(timespec="seconds").replace("+00:00", "Z")


def precise_time(moment: datetime) -> str:
    """``created_at`` as stored: to the microsecond, fixed width, so text order is creation order (two
    authentications made in the same second list in the order they were made, not by id)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def shown_time(stored: str) -> str:
    """``created_at`` as the API shows it: to the second, as it always has."""
    return stored[:19] + "Z"

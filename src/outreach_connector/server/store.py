"""Stored Outreach authentications: secrets sealed at rest, each row owned by the API key that stored it.

One row per authentication. Its public columns (id, name, kind, timestamps, access-token expiry, owner) are
readable by anyone holding the database; everything secret (access token, client id and secret, refresh
token, token URL) is one AES-GCM blob bound to the row id (see :mod:`secrets_box`). ``owner`` is an HMAC of the
API key under a secret only the encryption key opens (:meth:`CredentialStore.owner_of`): whoever holds the
database alone cannot test guesses of a key against it.

Outreach kills the old refresh token the moment it issues a new one, so a refresh goes through a
:class:`StoredTokens` lease (see :mod:`store_sql`): the row is leased across processes and read, the token
request runs with no transaction open, and the rotated set is stored in one short transaction that compares
the refresh token it replaced. If that compare fails (the lease expired and another process refreshed
meanwhile), the rotation just made still wins: Outreach issued it in exchange for the refresh token this
lease read, so that token is dead and this set is the newest Outreach issued; discarding it could leave
the row holding nothing alive. The mismatch is logged.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from ..errors import AuthenticationGone
# Re-exported for the old import path: errors.py holds every error class.
from ..errors import TooManyAuthentications as TooManyAuthentications
from .credentials import (AccessTokenCredentials, Authentication,
                                                   AuthenticationNotFound, Credentials, StoredAuthentication,
                                                   reveal, stored_credentials)
from .secrets_box import EncryptionKeyError, SecretBox
from .store_sql import Row, RowLease, SqlBackend
from ..wire import TokenSet, pack_cursor, unpack_cursor

_KEY_CHECK = b"outreach-connector key check"
_OWNER_KEY = "owner_key"  # meta: the HMAC key of owners, sealed like every secret
_OWNER_LABEL = "outreach-connector api-key owner"
LEGACY_OWNER = "sha256:"  # what schema 4 put before the digests older servers stored
MAX_PAGE = 100
logger = logging.getLogger("outreach_connector.server")


def legacy_owner_of(api_key: str) -> str:
    """The owner a server before schema 4 stored for an API key (an unsalted digest), as migration 4 marked it."""
    return LEGACY_OWNER + hashlib.sha256(b"outreach-connector api key\x00" + api_key.encode()).hexdigest()


class StoredTokens:
    """A lease on one authentication's row (the ``TokenLease`` the refresh flow uses), with the row as it was
    leased, read once: ``stored`` (None: the authentication is gone) and its ``tokens`` (None as well for an
    access-token authentication)."""

    def __init__(self, store: "CredentialStore", lease: RowLease) -> None:
        self._store, self._lease = store, lease
        self.stored = None if lease.row is None else store.unsealed(lease.row)
        self.tokens = None if self.stored is None else self.stored.tokens

    def save(self, tokens: TokenSet) -> None:
        """Store ``tokens`` in one short transaction and end the lease (see the module's docstring)."""
        auth_id, replaced = (self._lease.row or {}).get("id", ""), self.tokens
        if replaced is None:
            raise AuthenticationGone("the authentication was deleted while its token was refreshed")
        with self._store.backend.locked_row(auth_id) as (db, row):
            if row is None:
                raise AuthenticationGone("the authentication was deleted while its token was refreshed")
            secret = self._store.open_secret(row)
            if secret.get("refresh_token") != replaced.refresh_token or row["lease_holder"] != self._lease.holder:
                logger.warning("authentication %s changed while its token was refreshed (the refresh lease "
                               "expired); keeping the rotation just made", auth_id)
            secret.update(token_fields(tokens))
            self._store.backend.write_tokens(db, auth_id, self._store.seal(auth_id, secret), tokens.expires_at,
                                             now_iso(), self._lease.holder)
        self._lease.holder = None

    def mark_reconnect_required(self, reason: str) -> None:
        """Mark the row ``reconnect_required`` and end the lease (one short transaction), so a process waiting
        for the lease sees the mark and never sends the refused refresh token again."""
        auth_id = (self._lease.row or {}).get("id", "")
        with self._store.backend.locked_row(auth_id) as (db, row):
            if row is not None:
                self._store.backend.mark_reconnect(db, auth_id, reason, precise_time(self._store.now()),
                                                   holder=self._lease.holder)
        self._lease.holder = None

    def release(self) -> None:
        self._lease.release()


class CredentialStore:
    """Authentications in SQLite or PostgreSQL; any thread may use the store (connections are per operation)."""

    def __init__(self, backend: SqlBackend, box: SecretBox, clock: Callable[[], datetime] | None = None) -> None:
        self.backend = backend
        self._box = box
        self._clock = clock or utc_now

    def __repr__(self) -> str:
        return f"CredentialStore({self.backend.describe()!r})"

    def now(self) -> datetime:
        """The store's clock (timestamps it writes)."""
        return self._clock()

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

    @functools.cached_property
    def _owner_key(self) -> bytes:
        """The HMAC key of owners: derived from the encryption key the first time, then kept sealed in the
        database, so that a key rotation re-seals it and every owner stays what it was."""
        stored = self.backend.get_meta(_OWNER_KEY)
        if stored is None:
            stored = self.backend.meta_setdefault(_OWNER_KEY, self._box.seal(self._box.derive(_OWNER_LABEL),
                                                                             context=_OWNER_KEY))
        return self._box.open(stored, context=_OWNER_KEY)

    def owner_of(self, api_key: str) -> str:
        """What a row's ``owner`` holds for an API key: HMAC-SHA256 under the owners' key."""
        return hmac.new(self._owner_key, api_key.encode(), hashlib.sha256).hexdigest()

    def reown_legacy(self, api_keys: tuple[str, ...]) -> int:
        """Give rows stored under an older server's digest of a configured key to that key's owner now."""
        moved = sum(self.backend.reown(legacy_owner_of(key), self.owner_of(key)) for key in api_keys)
        if moved:
            logger.info("re-owned %d authentication(s) stored before owners were keyed", moved)
        left = self.backend.count_owned_like(LEGACY_OWNER)
        if left:
            logger.warning("%d authentication(s) belong to an API key this server is not configured with; they "
                           "are re-owned at the first start with that key", left)
        return moved

    def rotate_key(self) -> int:
        """Re-seal every secret a previous key sealed with the current key; how many rows changed."""
        sealed_meta = {"key_check": "key-check", _OWNER_KEY: _OWNER_KEY}
        changed = self.backend.rewrite_secrets(lambda context, blob: self._box.reseal(blob, context), sealed_meta)
        logger.info("re-encrypted %d authentication(s) with the new encryption key", changed)
        return changed

    def create(self, name: str, credentials: Credentials, *, owner: str, tokens: TokenSet | None = None,
               max_per_owner: int | None = None) -> Authentication:
        """Store a new authentication; ``tokens``: the set a code exchange just issued (OAuth only). Raises
        :class:`TooManyAuthentications` when ``owner`` already holds ``max_per_owner``."""
        auth_id, now = str(uuid.uuid4()), precise_time(self._clock())
        kind = "access_token" if isinstance(credentials, AccessTokenCredentials) else "oauth"
        secret = {**reveal(credentials), **(token_fields(tokens) if tokens else {})}
        expires_at = tokens.expires_at if tokens else None
        row = {"id": auth_id, "owner": owner, "name": name, "kind": kind, "created_at": now, "updated_at": now,
               "access_token_expires_at": expires_at, "secret": self.seal(auth_id, secret),
               "status": "connected", "status_reason": None, "status_since": now}
        if max_per_owner is None:
            self.backend.insert(row)
        elif not self.backend.insert_within(row, max_per_owner):
            raise TooManyAuthentications(max_per_owner)
        return public(row)

    def get(self, auth_id: str, owner: str | None = None) -> Authentication | None:
        row = self._owned_row(auth_id, owner)
        return None if row is None else public(row)

    def page(self, owner: str, after: str | None = None, limit: int = 50, *, status: str | None = None,
             changed_since: str | None = None) -> tuple[list[Authentication], str | None]:
        """Up to ``limit`` of the owner's authentications, oldest first, and the cursor of the next page;
        ``status`` and ``changed_since`` (a stored timestamp) filter."""
        rows = self.backend.page(owner, decode_cursor(after), min(max(limit, 1), MAX_PAGE) + 1, status, changed_since)
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = encode_cursor(rows[-1]) if more and rows else None
        return [public(row) for row in rows], cursor

    def load(self, auth_id: str, owner: str | None = None) -> StoredAuthentication:
        """The authentication with its secrets; raises :class:`AuthenticationNotFound`."""
        row = self._owned_row(auth_id, owner)
        if row is None:
            raise AuthenticationNotFound(auth_id)
        return self.unsealed(row)

    def unsealed(self, row: Row) -> StoredAuthentication:
        """A row with its secrets opened."""
        secret = self.open_secret(row)
        tokens = token_set(secret) if row["kind"] == "oauth" else None
        return StoredAuthentication(public(row), stored_credentials(row["kind"], secret), tokens, owner=row["owner"])

    def delete(self, auth_id: str, owner: str | None = None) -> bool:
        return self.backend.delete(auth_id, owner)

    def lock(self, auth_id: str, max_wait: float | None = None) -> StoredTokens:
        """Lease the authentication's row across processes until the lease is saved or released, waiting at
        most ``max_wait`` seconds (and never beyond the backend's own lock timeout)."""
        return StoredTokens(self, self.backend.lease_row(auth_id, max_wait))

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

    def seal_values(self, context: str, values: dict[str, Any]) -> bytes:
        """Seal other secrets (a subscription's) bound to ``context``, as authentications' are."""
        return self._box.seal(json.dumps(values).encode(), context=context)

    def open_values(self, context: str, blob: bytes) -> dict[str, Any]:
        return json.loads(self._box.open(blob, context=context))

    def open_secret(self, row: Row) -> dict[str, Any]:
        return json.loads(self._box.open(row["secret"], context=f"authentication:{row['id']}"))

    def _owned_row(self, auth_id: str, owner: str | None) -> Row | None:
        row = self.backend.fetch(auth_id)
        if row is None or (owner is not None and row["owner"] != owner):
            return None  # another tenant's authentication does not exist for this caller
        return row


class _OneAuthentication:
    def __init__(self, lock: Any) -> None:
        self.lock = lock


def token_fields(tokens: TokenSet) -> dict[str, Any]:
    """A token set as the sealed secret keeps it."""
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at, "scope": tokens.scope}


def token_set(secret: dict[str, Any]) -> TokenSet:
    """The token set a sealed secret keeps (what :func:`token_fields` wrote)."""
    return TokenSet(secret.get("access_token") or "", secret["refresh_token"], secret.get("expires_at"),
                    secret.get("scope"))


def public(row: Row) -> Authentication:
    oauth = row["kind"] == "oauth"
    return Authentication(row["id"], row["name"], row["kind"], shown_time(row["created_at"]),
                          row["access_token_expires_at"], row["status"], row["status_reason"],
                          shown_time(row["status_since"]), shown_time(row["updated_at"]) if oauth else None)


def encode_cursor(row: Row) -> str:
    return pack_cursor([row["created_at"], row["id"]])


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    """The (created_at, id) a cursor names; raises ValueError for anything this server did not hand out."""
    if not cursor:
        return None
    try:
        created, auth_id = unpack_cursor(cursor)
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

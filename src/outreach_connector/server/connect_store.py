"""What the consent flow and the status of authentications keep in the database (schema 4).

* Pending states of the consent flow: one row per state, keyed by a SHA-256 digest of the state (whoever reads
  the database cannot complete a flow), with its tenant, expiry and request. Taking a state deletes it in the
  same statement, so exactly one callback (on any replica) gets it.
* Marking an authentication ``reconnect_required`` is conditional on the status it had when the failing call
  loaded it: a reconnect that landed in between is never overwritten by a failure of the old tokens.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import TooManyPendingStates as TooManyPendingStates
from .credentials import Credentials, reveal
from .store import CredentialStore, precise_time, token_fields
from ..wire import TokenSet

MAX_PENDING_STATES = 1000  # per tenant: unfinished flows kept at most (each lives 10 minutes)


def state_digest(state: str) -> str:
    return hashlib.sha256(b"outreach-connector oauth state\x00" + state.encode()).hexdigest()


def add_state(store: CredentialStore, state: str, owner: str, expires_at: float, request: dict[str, Any],
              now: float) -> None:
    """Keep a new pending state; expired ones go first. Raises TooManyPendingStates past the bound."""
    backend = store.backend
    with backend.transaction() as db:
        backend.execute(db, "DELETE FROM oauth_states WHERE expires_at <= ?", (now,))
        pending = backend.rows(db, "SELECT COUNT(*) AS n FROM oauth_states WHERE owner = ?", (owner,))[0]["n"]
        if pending >= MAX_PENDING_STATES:
            raise TooManyPendingStates()
        backend.execute(db, "INSERT INTO oauth_states (state_digest, owner, expires_at, request) VALUES (?, ?, ?, ?)",
                        (state_digest(state), owner, expires_at, json.dumps(request)))


def take_state(store: CredentialStore, state: str, now: float) -> tuple[str, dict[str, Any]] | None:
    """The state's (owner, request), spending it; None when unknown, already used or expired."""
    backend = store.backend
    with backend.transaction() as db:
        taken = backend.rows(db, "DELETE FROM oauth_states WHERE state_digest = ? RETURNING owner, expires_at, request",
                             (state_digest(state),))
    if not taken or taken[0]["expires_at"] <= now:
        return None
    return taken[0]["owner"], json.loads(taken[0]["request"])


def reconnect(store: CredentialStore, auth_id: str, owner: str, credentials: Credentials, tokens: TokenSet) -> bool:
    """Give an existing authentication (same id) new credentials and tokens, connected from now.
    False when it no longer exists for this owner."""
    now = precise_time(store.now())
    secret = store.seal(auth_id, {**reveal(credentials), **token_fields(tokens)})
    backend = store.backend
    with backend.transaction() as db:
        cursor = backend.execute(
            db, "UPDATE authentications SET kind = 'oauth', secret = ?, access_token_expires_at = ?, updated_at = ?, "
                "status = 'connected', status_reason = NULL, status_since = ? WHERE id = ? AND owner = ?",
            (secret, tokens.expires_at, now, now, auth_id, owner))
        return cursor.rowcount == 1


def mark_reconnect_required(store: CredentialStore, auth_id: str, reason: str, seen_since: str) -> bool:
    """Mark the authentication, unless its status changed since ``seen_since`` (its status_since as shown when
    the failing call loaded it). True when this call marked it."""
    with store.backend.transaction() as db:
        return store.backend.mark_reconnect(db, auth_id, reason, precise_time(store.now()), seen_since=seen_since)


def stale_oauth_ids(store: CredentialStore, refreshed_before: str, limit: int) -> list[str]:
    """Connected OAuth authentications whose tokens were last issued before ``refreshed_before``, oldest first."""
    backend = store.backend
    with backend.transaction() as db:
        rows = backend.rows(db, "SELECT id FROM authentications WHERE kind = 'oauth' AND status = 'connected' "
                                "AND updated_at < ? ORDER BY updated_at, id LIMIT ?", (refreshed_before, limit))
    return [row["id"] for row in rows]

"""Opening the credential store at start-up: checks first, and nothing written unless everything is usable.

* ``--database postgresql://...``: replicas share it; the encryption key must be given explicitly (there is
  no file beside a PostgreSQL database for a generated key to live in).
* a SQLite path: must not be a directory and its folder must exist. A new database gets a generated key
  file beside it (mode 0600) unless a key is given; an existing database whose key file is missing is a
  start-up error, never a new key (a new key would make every stored secret unreadable).
* previous encryption keys (a rotation): every secret they sealed is re-sealed with the current key before
  the server answers, and they stay accepted for reading while given.
* rows an older server stored under a plain digest of a configured API key are re-owned to that key's HMAC.

``serve`` announces a key file it generated (``key_file_to_generate`` before the store opens,
``announce_key_file`` after): losing it makes every stored credential unreadable.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import StartupError as StartupError
from .secrets_box import SecretBox, key_file_for, load_or_create_key_file
from .store import CredentialStore
from .store_sql import PostgresBackend, SqlBackend, SqliteBackend, redact_url

logger = logging.getLogger("outreach_connector.server")
DEFAULT_DATABASE = "outreach-connector.db"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(database: str | Path) -> bool:
    return str(database).startswith(POSTGRES_SCHEMES)


def key_file_to_generate(database: str | Path, encryption_key: object) -> Path | None:
    """The key file opening ``database`` will create (no explicit key, SQLite, no key file yet), else None."""
    if encryption_key or is_postgres(database):
        return None
    key_file = key_file_for(Path(database))
    return None if key_file.exists() else key_file


def announce_key_file(path: Path | None) -> None:
    """One line on stderr naming a key file this start generated."""
    if path is not None and path.exists():
        print(f"outreach-connector serve: generated the encryption key file {path.resolve()} (mode 0600); back "
              "it up with the database: without it the stored credentials cannot be decrypted", file=sys.stderr)


def open_store(database: str | Path, encryption_key: str | None = None, *, lock_timeout: float = 30.0,
               api_keys: tuple[str, ...] = (), previous_keys: tuple[str, ...] = ()) -> CredentialStore:
    """The migrated, key-checked store; raises :class:`StartupError` (or ``EncryptionKeyError``).

    ``previous_keys``: keys being rotated out; what they sealed is re-sealed with ``encryption_key``."""
    if previous_keys and not encryption_key:
        raise StartupError("rotating the encryption key needs the new key given explicitly (--encryption-key-file "
                           "or OUTREACH_CONNECTOR_SECRET_KEY) besides the previous one")
    if is_postgres(database):
        backend: SqlBackend = _postgres(str(database), encryption_key, lock_timeout)
        key_text = encryption_key or ""
    else:
        path = Path(database)
        key_text = _sqlite_key(path, encryption_key)
        _create_private_file(path)
        backend = SqliteBackend(path, lock_timeout)
    store = CredentialStore(backend, SecretBox.from_text(key_text, previous_keys))
    try:
        found = backend.migrate()
        store.check_key()
        if previous_keys:
            store.rotate_key()
        if found and found < 2:
            _adopt_legacy_rows(store, api_keys)
        store.reown_legacy(api_keys)
    except Exception as exc:
        store.close()
        if isinstance(exc, ValueError):
            raise
        raise StartupError(f"the database {backend.describe()} is not usable: {type(exc).__name__}: "
                           f"{redact_url(_first_line(exc))}") from None
    return store


def _postgres(url: str, encryption_key: str | None, lock_timeout: float) -> PostgresBackend:
    if not encryption_key:
        raise StartupError(f"a PostgreSQL database ({redact_url(url)}) needs the encryption key given "
                           "explicitly: --encryption-key or OUTREACH_CONNECTOR_SECRET_KEY (the same on every replica)")
    try:
        return PostgresBackend(url, lock_timeout)
    except ImportError:
        raise StartupError("a PostgreSQL database needs psycopg: pip install 'outreach-connector[server]'") from None


def _sqlite_key(path: Path, encryption_key: str | None) -> str:
    if path.is_dir():
        raise StartupError(f"--database {path} is a directory; give a file path such as {path / DEFAULT_DATABASE}")
    if not path.parent.is_dir():
        raise StartupError(f"--database {path}: the folder {path.parent} does not exist")
    if encryption_key:
        SecretBox.from_text(encryption_key)  # a malformed key fails before anything is written
        return encryption_key
    key_file = key_file_for(path)
    if path.exists() and path.stat().st_size > 0 and not key_file.exists():
        raise StartupError(f"the key file {key_file} of the existing database {path} is missing: restore it or "
                           "give the key with --encryption-key; a new key would make every stored secret unreadable")
    if not os.access(path.parent, os.W_OK) and not key_file.exists():
        raise StartupError(f"--database {path}: the folder {path.parent} is not writable")
    return load_or_create_key_file(key_file)


def _create_private_file(path: Path) -> None:
    """Create the database file owner-only (SQLite gives its -wal/-shm files the same mode)."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _adopt_legacy_rows(store: CredentialStore, api_keys: tuple[str, ...]) -> None:
    """Rows stored before tenants existed: one configured key takes them; with several, nobody guesses."""
    if len(api_keys) == 1:
        adopted = store.adopt_unowned(store.owner_of(api_keys[0]))
        logger.info("gave %d authentication(s) stored before tenants existed to the only API key", adopted)
    else:
        logger.warning("authentications stored before tenants existed belong to no API key; start once with "
                       "exactly one --api-key to give them to it")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]

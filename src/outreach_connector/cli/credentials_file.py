"""Stored OAuth tokens for the CLI, so consecutive runs survive Outreach's refresh-token rotation.

Outreach kills a refresh token the moment it issues the next one. A CLI run that refreshes must therefore
keep the new one somewhere the next run finds it: ``credentials.json`` under ``OUTREACH_CONNECTOR_CONFIG_DIR``
(default ``~/.config/outreach-connector``), mode 0600 in a 0700 directory, written atomically (a temporary
file renamed over the old one, under a lock, so two runs never interleave a read-modify-write).

Another local user must not be able to redirect or read what is written here: the temporary file gets a random
name and is created exclusively without following links, the file and its lock are never opened through a
symbolic link, and a folder that others can write is refused (made 0700 when it is ours).

One entry per (profile, client id, token URL). An entry remembers a fingerprint (SHA-256) of the refresh
token it grew from: the environment's ``OUTREACH_REFRESH_TOKEN`` keeps meaning "the authorisation I gave",
and a *different* value there (the user authorised again) starts a new chain instead of being overridden.
Nothing here prints or logs a token.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import secrets
import stat
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import CredentialsFileError as CredentialsFileError

CONFIG_DIR_VARIABLE = "OUTREACH_CONNECTOR_CONFIG_DIR"
FILE_NAME = "credentials.json"
FORMAT_VERSION = 1


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(CONFIG_DIR_VARIABLE) or Path.home() / ".config" / "outreach-connector")


def fingerprint(secret: str) -> str:
    """Identifies a refresh token without storing it twice or showing it."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Entry:
    """One stored authorisation. Secrets are excluded from the repr."""

    profile: str
    client_id: str
    token_url: str
    refresh_token: str = field(repr=False)
    seeded_from: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    client_secret: str | None = field(default=None, repr=False)  # only for a profile saved by `auth login`
    base_url: str | None = None
    updated_at: float = 0.0

    @property
    def key(self) -> str:
        return entry_key(self.profile, self.client_id, self.token_url)

    def public(self) -> dict[str, Any]:
        """What ``auth status`` shows: never a token or a secret."""
        return {"profile": self.profile, "client_id": self.client_id, "token_url": self.token_url,
                "base_url": self.base_url, "client_secret_stored": self.client_secret is not None,
                "access_token_expires_at": _iso(self.expires_at), "updated_at": _iso(self.updated_at)}


def entry_key(profile: str, client_id: str, token_url: str) -> str:
    return f"{profile} {client_id} {token_url}"


def _iso(moment: float | None) -> str | None:
    return None if moment is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


class CredentialsFile:
    """The file of stored entries; every change is one locked, atomic read-modify-write."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / FILE_NAME

    def entries(self) -> list[Entry]:
        return list(self._read().values())

    def find(self, profile: str, client_id: str | None = None, token_url: str | None = None) -> Entry | None:
        for entry in self.entries():
            if entry.profile == profile and client_id in (None, entry.client_id) \
                    and token_url in (None, entry.token_url):
                return entry
        return None

    def newest(self, client_id: str, token_url: str, seeded_from: str) -> Entry | None:
        """The most recently stored entry of one chain of rotated tokens, whichever profile holds it."""
        chain = [e for e in self.entries() if (e.client_id, e.token_url, e.seeded_from) == (client_id, token_url,
                                                                                         seeded_from)]
        return max(chain, key=lambda e: e.updated_at, default=None)

    def continued(self, entry: Entry) -> Entry:
        """``entry`` with the newest tokens of its chain: the environment and a profile stored from the same
        refresh token share one chain, and only the most recently rotated refresh token is still alive."""
        head = self.newest(entry.client_id, entry.token_url, entry.seeded_from)
        if head is None or head.updated_at <= entry.updated_at:
            return entry
        return replace(entry, refresh_token=head.refresh_token, access_token=head.access_token,
                       expires_at=head.expires_at)

    def save(self, entry: Entry, replace_profile: bool = False) -> None:
        """Store ``entry``; ``replace_profile`` first drops the profile's other entries (a new login)."""
        entry.updated_at = time.time()
        with self._locked():
            entries = self._read()
            if replace_profile:
                entries = {k: e for k, e in entries.items() if e.profile != entry.profile}
            entries[entry.key] = entry
            self._write(entries)

    def remove(self, profile: str | None) -> int:
        """Forget a profile's entries (every entry when ``profile`` is None); how many were removed."""
        with self._locked():
            entries = self._read()
            kept = {k: e for k, e in entries.items() if profile is not None and e.profile != profile}
            if len(kept) != len(entries):
                self._write(kept)
            return len(entries) - len(kept)

    def _read(self) -> dict[str, Entry]:
        if not self.directory.exists():
            return {}
        self._check_directory()
        try:
            with os.fdopen(_open_no_link(self.path, os.O_RDONLY), encoding="utf-8") as handle:
                raw = json.load(handle)
            return {key: Entry(**value) for key, value in raw["entries"].items()}
        except FileNotFoundError:
            return {}
        except _LinkRefused:
            raise CredentialsFileError(f"the credentials file {self.path} is a symbolic link; refusing to follow "
                                       "it (delete it, then log in again)") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CredentialsFileError(f"the credentials file {self.path} is unreadable ({type(exc).__name__}); "
                                       "fix or delete it (outreach-connector auth logout --all)") from None

    def _write(self, entries: dict[str, Entry]) -> None:
        document = {"version": FORMAT_VERSION, "entries": {k: asdict(e) for k, e in entries.items()}}
        # A random name created exclusively, never through a link: nothing planted in advance is written to.
        temporary = self.path.with_name(f".{FILE_NAME}.{secrets.token_hex(8)}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)  # readers see the old file or the new one, never half of one
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise CredentialsFileError(f"cannot write {self.path}: {exc.strerror or type(exc).__name__}") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._check_directory()
            lock = _open_no_link(self.directory / f".{FILE_NAME}.lock", os.O_RDWR | os.O_CREAT)
        except _LinkRefused:
            raise CredentialsFileError(f"the lock file in {self.directory} is a symbolic link; refusing to follow "
                                       "it (delete it)") from None
        except OSError as exc:
            raise CredentialsFileError(f"cannot use {self.directory}: {exc.strerror or type(exc).__name__}") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    def _check_directory(self) -> None:
        """Refuse a folder others can write (they could swap the file); ours is made 0700 instead."""
        try:
            info = os.stat(self.directory)
        except OSError as exc:
            raise CredentialsFileError(f"cannot use {self.directory}: {exc.strerror or type(exc).__name__}") from None
        if not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return
        if info.st_uid != os.geteuid():
            raise CredentialsFileError(f"the folder {self.directory} can be written by other users and is not "
                                       f"yours (mode {stat.S_IMODE(info.st_mode):o}); choose another with "
                                       f"{CONFIG_DIR_VARIABLE}")
        try:
            os.chmod(self.directory, 0o700)
        except OSError as exc:
            raise CredentialsFileError(f"cannot make {self.directory} private: "
                                       f"{exc.strerror or type(exc).__name__}") from None


class _LinkRefused(OSError):
    """The path is a symbolic link (O_NOFOLLOW refused it)."""


def _open_no_link(path: Path, flags: int) -> int:
    """``os.open`` that never follows a symbolic link at ``path`` itself (new files are created 0600)."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _LinkRefused(exc.errno, exc.strerror) from None
        raise

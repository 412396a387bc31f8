"""What ``serve`` tells the operator once it has started: a generated encryption key file must be announced,
since losing it makes every stored credential unreadable. (A busy port is refused before anything is written
by ``serving.bind``.)"""
from __future__ import annotations

import sys
from pathlib import Path

from outreach_connector.server.opening import is_postgres
from outreach_connector.server.secrets_box import key_file_for
from outreach_connector.server.settings import ServerSettings


def key_file_to_generate(settings: ServerSettings) -> Path | None:
    """The key file this start will create (no explicit key, a SQLite database, no key file yet), else None."""
    if settings.encryption_key or is_postgres(settings.database):
        return None
    key_file = key_file_for(Path(settings.database))
    return None if key_file.exists() else key_file


def announce_key_file(path: Path | None) -> None:
    """One line on stderr naming a key file this start generated."""
    if path is not None and path.exists():
        print(f"outreach-connector serve: generated the encryption key file {path.resolve()} (mode 0600); back "
              "it up with the database: without it the stored credentials cannot be decrypted", file=sys.stderr)

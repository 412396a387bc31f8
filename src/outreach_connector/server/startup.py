"""Checks ``serve`` makes before it writes anything, and what it tells the operator once it has.

A busy port must fail in one line before the database or a key file is created; a generated encryption key
file must be announced, since losing it makes every stored credential unreadable.
"""
from __future__ import annotations

import socket
import sys
from pathlib import Path

from outreach_connector.errors import ConnectorError
from outreach_connector.server.secrets_box import key_file_for
from outreach_connector.server.settings import ServerSettings


class PortBusy(ConnectorError):
    exit_code = 2


def preflight(settings: ServerSettings) -> Path | None:
    """Raise PortBusy if the port cannot be bound; else the key file the app will generate (None if none)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            raise PortBusy(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}; "
                           "choose another with --port (nothing was written)") from None
    key_file = key_file_for(Path(settings.database))
    return None if settings.encryption_key or key_file.exists() else key_file


def announce_key_file(path: Path | None) -> None:
    """One line on stderr naming a key file this start generated."""
    if path is not None and path.exists():
        print(f"outreach-connector serve: generated the encryption key file {path.resolve()} (mode 0600); back "
              "it up with the database: without it the stored credentials cannot be decrypted", file=sys.stderr)

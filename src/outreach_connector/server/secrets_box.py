"""Encryption at rest for stored credentials: AES-256-GCM, one key, one context string per secret.

The key comes from the operator (``OUTREACH_CONNECTOR_SECRET_KEY`` / ``--encryption-key-file``: 32 bytes in
URL-safe base64, e.g. the output of ``Fernet.generate_key()``), or else from a key file generated next to
the database with mode 0600. Each secret is sealed with its row id as associated data, so a blob copied
onto another row does not decrypt. Neither the key nor any plaintext ever appears in an exception message.

During a key rotation the box also holds the previous keys: it opens what they sealed, and seals with the
current key only (see :meth:`SecretBox.reseal`).
"""
from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import EncryptionKeyError as EncryptionKeyError

logger = logging.getLogger(__name__)

_VERSION = b"\x01"  # lets a later format (or key rotation) coexist with blobs sealed today
_NONCE_BYTES = 12
KEY_HINT = ("an encryption key is 32 random bytes in URL-safe base64; generate one with: python -c "
            "\"from outreach_connector.server.secrets_box import generate_key_text; print(generate_key_text())\"")


class SecretBox:
    """Seals and opens small secrets; its repr never shows the key."""

    def __init__(self, key: bytes, previous: tuple[bytes, ...] = ()) -> None:
        for one in (key, *previous):
            if len(one) != 32:
                raise EncryptionKeyError(f"the encryption key must be 32 bytes; {KEY_HINT}")
        self._key = key
        self._aead = AESGCM(key)
        self._previous = tuple(AESGCM(one) for one in previous)

    @classmethod
    def from_text(cls, text: str, previous: tuple[str, ...] = ()) -> "SecretBox":
        """A box from a key given as URL-safe (or standard) base64 text (and the keys it replaces)."""
        return cls(_decode_key(text), tuple(_decode_key(one) for one in previous))

    @property
    def rotating(self) -> bool:
        return bool(self._previous)

    def derive(self, label: str) -> bytes:
        """32 bytes for one purpose (``label``), derived from the current key with HKDF-SHA256."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(self._key)

    def __repr__(self) -> str:
        return "SecretBox(key=<redacted>)"

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        return self._open(blob, context)[0]

    def reseal(self, blob: bytes, context: str) -> bytes | None:
        """``blob`` sealed with the current key when a previous key sealed it; None when it needs nothing."""
        plaintext, current = self._open(blob, context)
        return None if current else self.seal(plaintext, context)

    def _open(self, blob: bytes, context: str) -> tuple[bytes, bool]:
        """The plaintext, and whether the current key (rather than a previous one) opened it."""
        if blob[:1] != _VERSION:
            raise EncryptionKeyError("a stored secret has an unknown format version")
        nonce, sealed = blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:]
        for aead in (self._aead, *self._previous):
            try:
                return aead.decrypt(nonce, sealed, context.encode()), aead is self._aead
            except InvalidTag:
                continue
        raise EncryptionKeyError(
            "a stored secret does not decrypt: the encryption key is not the one it was sealed with")


def _decode_key(text: str) -> bytes:
    cleaned = text.strip()
    try:
        return base64.urlsafe_b64decode(cleaned.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        raise EncryptionKeyError(f"the encryption key is not base64; {KEY_HINT}") from None


def generate_key_text() -> str:
    """A new key; never one starting with ``-`` (``--encryption-key -x...`` would read as another option).
    Keys issued before this rule still work everywhere."""
    while True:
        text = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        if not text.startswith("-"):
            return text


def key_file_for(database: Path) -> Path:
    return database.with_name(database.name + ".key")


def load_or_create_key_file(path: Path) -> str:
    """The key text in ``path``, creating the file (mode 0600, atomically) when it does not exist yet."""
    if not path.exists():
        _publish_new_key(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("key file %s is readable by others (mode %o); it should be 0600", path, mode)
    return path.read_text().strip()


def _publish_new_key(path: Path) -> None:
    # Written under a temporary name then hard-linked into place: a concurrent process either wins the
    # link or reads the complete file, never a half-written one.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(generate_key_text() + "\n")
        os.link(temporary, path)
        logger.info("generated a new encryption key file %s (mode 0600)", path)
    except FileExistsError:
        pass  # another process published its key first: use that one
    finally:
        temporary.unlink(missing_ok=True)

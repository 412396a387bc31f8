"""Checking that a webhook delivery comes from Outreach: ``verify(secret, body, headers)``.

Outreach signs a delivery of a webhook created with a ``secret``: ``Outreach-Webhook-Signature`` is the
lowercase hex HMAC-SHA256 of the raw body with that secret. Verify the bytes exactly as received (before any
JSON parsing: re-encoding changes them) and only then trust, store or parse the event.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from .errors import WebhookSignatureInvalid

SIGNATURE_HEADER = "Outreach-Webhook-Signature"
WEBHOOK_ID_HEADER = "Outreach-Webhook-Id"
EVENT_ID_HEADER = "Outreach-Webhook-Event-Id"
# A mapping, (name, value) pairs, or a server's raw pairs of bytes (Starlette's ``request.headers.raw``).
Headers = Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]


def header_values(headers: Headers, name: str) -> list[str]:
    """Every value of header ``name`` (matched case-insensitively) in a mapping or a list of (name, value),
    text or bytes."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    found = []
    for key, value in pairs:
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key.lower() == wanted:
            found.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return found


def header(headers: Headers, name: str) -> str | None:
    """The one value of header ``name``, None when absent (the first, when a sender repeated it)."""
    values = header_values(headers, name)
    return values[0] if values else None


def signature(secret: str, body: bytes) -> str:
    """What Outreach puts in ``Outreach-Webhook-Signature`` for ``body`` (the sandbox computes it on its own)."""
    return hmac.new(secret.encode(), bytes(body), hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, headers: Headers) -> None:
    """Raise ``WebhookSignatureInvalid`` unless ``headers`` carry the signature of ``body`` with ``secret``.

    The comparison takes the same time wherever the signatures differ. A header repeated with different
    values is refused (which one would be trusted?). Nothing secret appears in the error.
    """
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"verify() needs the raw body as bytes, not {type(body).__name__}: the signature "
                        "covers the exact bytes Outreach sent")
    if not secret:
        raise WebhookSignatureInvalid("no webhook secret to verify with: a delivery can only be trusted when "
                                      "its webhook was created with a secret")
    values = set(header_values(headers, SIGNATURE_HEADER))
    if not values:
        raise WebhookSignatureInvalid(f"the delivery has no {SIGNATURE_HEADER} header")
    if len(values) > 1:
        raise WebhookSignatureInvalid(f"the delivery has {len(values)} different {SIGNATURE_HEADER} headers")
    given = values.pop().strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(signature(secret, body).encode(), given):
        raise WebhookSignatureInvalid(f"the {SIGNATURE_HEADER} header does not match the body")


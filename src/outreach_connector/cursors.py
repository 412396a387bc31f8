"""Opaque cursors: JSON in URL-safe base64 without padding, for the editor's DDL pages and the server's
authentication list (each module checks what it unpacks)."""
from __future__ import annotations

import base64
import json
from typing import Any


def pack(value: Any, separators: tuple[str, str] | None = None) -> str:
    """``value`` as cursor text; ``separators`` as ``json.dumps`` takes them (None: its defaults)."""
    return base64.urlsafe_b64encode(json.dumps(value, separators=separators).encode()).decode().rstrip("=")


def unpack(text: str) -> Any:
    """What :func:`pack` packed; raises ValueError for text that is not base64 of JSON (or nests too deep for
    Python's parser: a client writes cursors, and a RecursionError would otherwise escape as a 500)."""
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except RecursionError:
        raise ValueError("the cursor nests too deep") from None

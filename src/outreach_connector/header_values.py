"""What an HTTP header can carry, checked for credentials where they are given, stored and sent.

A credential with a space or line break around it (pasted with one) or a control character cannot go in a
header: h11 refuses it, and its error quotes the whole header, token included. So such a value is refused
where it enters (settings, the server's ``POST /authentications``, ``auth login``), and a bearer header is
checked again before it is sent (rows stored before the check, tokens from a token endpoint). Messages say
what is wrong, never the value.
"""
from __future__ import annotations

import re

from .errors import CredentialUnsendable

# Header-safe: printable Latin-1, no control characters (CR, LF, NUL, DEL, C1) at all.
_NOT_HTTP_SAFE = re.compile(r"[^\x20-\x7e\xa0-\xff]")
HTTP_UNSAFE = "must be printable Latin-1 text that HTTP can carry (no CR, LF, NUL or other control characters)"
SURROUNDED = "must not start or end with whitespace (a space or line break copied with it)"


def header_problem(text: str) -> str | None:
    """Why ``text`` cannot be sent as (part of) a header value, or None when it can."""
    if text != text.strip():
        return SURROUNDED
    if _NOT_HTTP_SAFE.search(text):
        return HTTP_UNSAFE
    return None


def bearer(token: str) -> str:
    """The ``Authorization`` value for ``token``; raises CredentialUnsendable (no value in it) when HTTP
    cannot carry it, so the request is never tried."""
    problem = header_problem(token)
    if problem is not None:
        raise CredentialUnsendable(f"the access token {problem}; nothing was sent (give or store it again)")
    return f"Bearer {token}"

"""Where the Outreach token may go: only to the configured API origin (scheme, host and port exactly); and the
one check for every URL a host configures or a caller names as a place to return to."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from .errors import UnsafeURL

DEFAULT_PORTS = {"http": 80, "https": 443}
# Whitespace, control characters, backslashes and percent-escapes in the authority are how parsers are
# made to disagree about the host; none has a place in a link Outreach returns.
SUSPICIOUS = re.compile(r"[\x00-\x20\x7f\\]")


def plain_http_url(url: object) -> bool:
    """An absolute http(s) URL with a host, and no user info, fragment, whitespace, control characters or
    backslashes: what the API base, the token endpoint and every redirect or return URL must be."""
    if not isinstance(url, str) or SUSPICIOUS.search(url) or "#" in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "@" not in parts.netloc


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port if parts.port is not None else DEFAULT_PORTS.get(scheme, -1)
    return scheme, (parts.hostname or "").lower(), port


def require_api_origin(url: str, base_url: str, path: str = "input") -> str:
    """Return ``url`` if it is on the API origin; raise UnsafeURL (and send nothing) otherwise."""
    if SUSPICIOUS.search(url):
        raise UnsafeURL("refusing a URL with whitespace, control characters or backslashes", path)
    try:
        parts = urlsplit(url)
        origin = origin_of(url)
    except ValueError as exc:
        raise UnsafeURL(f"refusing a malformed URL ({exc})", path) from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL("refusing a URL with user information: the token only goes to the Outreach API", path)
    if "%" in parts.netloc:
        raise UnsafeURL("refusing a URL with an encoded host", path)
    expected = origin_of(base_url)
    if origin != expected:
        raise UnsafeURL(f"refusing {origin[0]}://{origin[1]}:{origin[2]}: only {expected[0]}://{expected[1]}:"
                        f"{expected[2]} (the configured Outreach API origin) receives the token", path)
    if client_origin(url) != expected:  # the HTTP client must read the same origin as the check did
        raise UnsafeURL("refusing a URL the HTTP client would read differently", path)
    return url


def client_origin(url: str) -> tuple[str, str, int] | None:
    """The origin as httpx (which sends the request) parses it; None when it cannot."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return None
    scheme = parsed.scheme.lower()
    return scheme, parsed.host.lower(), parsed.port if parsed.port is not None else DEFAULT_PORTS.get(scheme, -1)


def join_endpoint(base_url: str, endpoint: str) -> str:
    """An endpoint relative to the base URL; a leading slash is added when missing."""
    if not endpoint.startswith("/"):
        endpoint = "/" + endpoint
    return base_url.rstrip("/") + endpoint

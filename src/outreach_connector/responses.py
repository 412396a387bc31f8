"""Turn httpx responses into ``Reply`` values and error statuses into the connector's errors."""
from __future__ import annotations

import gc
import json
import threading
from typing import Any, AsyncIterator, Callable, Iterator
from urllib.parse import urlsplit

import httpx

from .errors import (AuthError, ConnectorError, NotFound, PermissionDenied, RateLimited, UpstreamError,
                     ValidationFailed)
from .wire import Reply
from .retry import retry_after_seconds

ERROR_CLASSES: dict[int, type[UpstreamError]] = {
    401: AuthError, 403: PermissionDenied, 404: NotFound, 422: ValidationFailed, 429: RateLimited,
}


# Bodies from this size up may be decoded with the cyclic garbage collector paused (see CollectorPause).
LARGE_BODY = 256 * 1024


class CollectorPause:
    """Pauses CPython's cyclic GC while large JSON bodies are decoded, then restores it. Opt-in only
    (``Settings.pause_gc_on_large_bodies``): the collector is process-wide, and a plugin must not change its
    host's process state unless the host asks.

    Decoding a 1000-record page creates ~100,000 dicts and lists, which trips a generation-0 collection every
    700 of them and, as they survive, full collections over the whole heap: a third of the decode time on a
    5 MB page, and more in a host with a large heap. ``json.loads`` cannot create cycles, so those
    collections find nothing. Reentrant across threads: the GC comes back on when the last decode ends, and
    only if it was on when the first began (a host that disabled it keeps it disabled).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._restore = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._restore:
                gc.enable()


COLLECTOR_PAUSE = CollectorPause()


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # Python's parser takes NaN and Infinity; no JSON answer has them


_DECODER = json.JSONDecoder(parse_constant=_not_json)  # one, built once: json.loads(**kw) builds one per call


# Deep JSON from Outreach: Python's parser bounds its own recursion (about 990 levels), and what handles the
# parsed value later (the schema validator, the JSON encoder) fails by raising, which the dispatcher and the
# server turn into this same error. A walk measuring every answer's depth cost a third of json.loads on a
# 1000-record page, on every page, for answers Outreach never sends (its documents nest about 7 levels).
TOO_DEEP = "JSON nested deeper than the connector reads"


class NestedTooDeep(ValueError):
    """The body is JSON nested deeper than Python's parser (or the validator after it) can go."""

    def __init__(self) -> None:
        super().__init__(TOO_DEEP)


def too_deep(exc: BaseException) -> bool:
    """A failure of recursion: Python's, or the schema validator's own limit (jsonschema-rs's ValueError)."""
    return isinstance(exc, (RecursionError, NestedTooDeep)) or \
        (isinstance(exc, ValueError) and "recursion limit" in str(exc).lower())


def deep_answer(status_code: int, method: str, path: str) -> UpstreamError:
    return UpstreamError(status_code, [], None, message=f"{method} {path}: Outreach's answer is {TOO_DEEP}")


def nested_too_deep(reply: Reply, method: str) -> UpstreamError:
    """The error for an answer that parsed but nests deeper than the validator or the handlers can follow."""
    return deep_answer(reply.status_code, method, urlsplit(reply.url).path)


def _parse(content: bytes) -> Any:
    """``json.loads(content)`` (same encoding detection), refusing NaN, Infinity and nesting the parser cannot
    take."""
    try:
        return _DECODER.decode(content.decode(json.detect_encoding(content), "surrogatepass"))
    except RecursionError:
        raise NestedTooDeep() from None


def loads(content: bytes, pause_gc: bool = False) -> Any:
    """The JSON in an upstream body; raises ValueError (NestedTooDeep when it nests too deep)."""
    if not pause_gc or len(content) < LARGE_BODY:
        return _parse(content)
    with COLLECTOR_PAUSE:
        return _parse(content)


def decode_body(response: httpx.Response, body: bytes, pause_gc: bool = False) -> Any:
    """JSON when ``body`` (the response's, decompressed) is JSON (whatever the declared type), text otherwise
    (decoded as ``response.text`` would), None when empty; a JSON body nested too deep is an UpstreamError, not
    text that would then pass for the answer."""
    if not body:
        return None
    try:
        return loads(body, pause_gc)
    except NestedTooDeep:
        raise deep_answer(response.status_code, response.request.method, response.request.url.path) from None
    except ValueError:
        return body.decode(response.encoding or "utf-8", errors="replace")


# The most content codings the connector undoes on one answer. Each gzip or deflate layer can expand a
# thousandfold, and httpx undoes all layers of a chunk at once, before any byte count can stop it: two layers
# turned 1,830 bytes into gigabytes. No server compresses twice on purpose.
MAX_CONTENT_CODINGS = 1

Refusal = Callable[[], ConnectorError]


def content_codings(response: httpx.Response) -> list[str]:
    """The codings of ``Content-Encoding`` (every header line, in order), ``identity`` left out."""
    found = [c.strip().lower() for c in response.headers.get("Content-Encoding", "").split(",")]
    return [c for c in found if c and c != "identity"]


def stacked_codings(response: httpx.Response, codings: list[str]) -> UpstreamError:
    return UpstreamError(response.status_code, [], None, message=(
        f"Outreach's answer is compressed {len(codings)} times (Content-Encoding: {', '.join(codings)[:100]}); "
        f"the connector undoes at most {MAX_CONTENT_CODINGS} content coding"))


def read_capped(response: httpx.Response, limit: int, too_large: Refusal) -> bytes:
    """The body, decompressed, raising ``too_large()`` past ``limit`` bytes (and before reading at all when it
    is compressed more than once). The response is closed either way; its ``content`` is left unread: the
    caller holds the body (an answer httpx itself reads later goes through :func:`read_kept` instead)."""
    chunks, size = [], 0
    try:
        _check_codings(response)
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large()
            chunks.append(chunk)
    finally:
        response.close()  # gives the connection back to the pool, read or not
    return b"".join(chunks)


async def aread_capped(response: httpx.Response, limit: int, too_large: Refusal) -> bytes:
    chunks, size = [], 0
    try:
        _check_codings(response)
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large()
            chunks.append(chunk)
    finally:
        await response.aclose()
    return b"".join(chunks)


class CappedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An answer's bytes as they arrive (before decompression), refusing past ``limit`` with ``too_large()``."""

    def __init__(self, inner: Any, limit: int, too_large: Refusal) -> None:
        self.inner, self.limit, self.too_large, self.size = inner, limit, too_large, 0

    def _count(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self.limit:
            raise self.too_large()
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            yield self._count(chunk)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            yield self._count(chunk)

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()


# The most bytes of a compressed answer ``read_kept`` takes off the wire: about what one read from the connection
# brings, so what it inflates to overshoots the limit no more than a count made chunk by chunk would.
MAX_COMPRESSED_KEPT = 64 * 1024


def read_kept(response: httpx.Response, limit: int, too_large: Refusal) -> None:
    """``response.read()`` within ``limit`` bytes, for an answer httpx keeps and reads again itself (a token
    endpoint's, or the 401 an OAuth refresh goes past), so it must be read the way httpx reads. The bytes off the
    wire are capped as they come (at ``limit``, or MAX_COMPRESSED_KEPT when compressed: one content coding at
    most, so that bounds what they inflate to), and the body, decompressed, must fit in ``limit``."""
    _check_codings(response)
    _cap_wire_bytes(response, limit, too_large)
    try:
        body = response.read()
    finally:
        response.close()
    if len(body) > limit:
        raise too_large()


async def aread_kept(response: httpx.Response, limit: int, too_large: Refusal) -> None:
    _check_codings(response)
    _cap_wire_bytes(response, limit, too_large)
    try:
        body = await response.aread()
    finally:
        await response.aclose()
    if len(body) > limit:
        raise too_large()


def _cap_wire_bytes(response: httpx.Response, limit: int, too_large: Refusal) -> None:
    wire_limit = min(limit, MAX_COMPRESSED_KEPT) if content_codings(response) else limit
    response.stream = CappedStream(response.stream, wire_limit, too_large)


def _check_codings(response: httpx.Response) -> None:
    codings = content_codings(response)
    if len(codings) > MAX_CONTENT_CODINGS:
        raise stacked_codings(response, codings)


def header_dict(headers: httpx.Headers) -> dict[str, str]:
    """Lower-case names; a repeated header's values joined with ", " in order (RFC 9110 5.3).

    Reads the raw pairs and decodes them once with the encoding httpx chose: ``multi_items``/``get_list``
    re-derive names and encoding per item and cost more than decoding a small JSON body.
    """
    encoding = headers.encoding
    found: dict[str, str] = {}
    for raw_name, raw_value in headers.raw:
        name, value = raw_name.decode(encoding).lower(), raw_value.decode(encoding)
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


def to_reply(response: httpx.Response, body: bytes, pause_gc: bool = False) -> Reply:
    return Reply(response.status_code, header_dict(response.headers), decode_body(response, body, pause_gc),
                 str(response.url))


def outreach_errors(body: Any) -> list[dict[str, Any]]:
    """Outreach's ``errors[]``, or one synthetic entry for the gateway's non-JSON:API answers."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [e if isinstance(e, dict) else {"detail": str(e)} for e in body["errors"]]
    if isinstance(body, dict) and body.get("error"):
        return [{"id": str(body["error"]), "detail": str(body.get("description", body.get("error_description", "")))}]
    if isinstance(body, str) and body.strip():
        return [{"detail": body.strip()[:500]}]
    return []


def error_for(reply: Reply, now: float) -> UpstreamError:
    errors = outreach_errors(reply.body)
    cls = ERROR_CLASSES.get(reply.status_code, UpstreamError)
    if cls is RateLimited:
        return RateLimited(reply.status_code, errors, reply.body, retry_after_seconds(reply.headers, now))
    error = cls(reply.status_code, errors, reply.body)
    if isinstance(error, PermissionDenied) and error.missing_scope:
        error.message = f"{error.message} (the authorization lacks the OAuth scope {error.missing_scope!r})"
        error.args = (error.message,)
    return error

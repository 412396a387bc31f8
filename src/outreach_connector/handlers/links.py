"""Handlers that take a URL from the caller: execute link and the raw HTTP request.

Both refuse any URL off the configured Outreach API origin before a request is built, so the token never
leaves for another host.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ..errors import InputInvalid
from ..spec import OperationSpec
from ..urls import join_endpoint, require_api_origin
from ..wire import Context, HttpCall, Reply
from .resources import OneStep, ReturnsBody

BODYLESS = {"GET", "HEAD", "OPTIONS"}
# What HTTP lets through (RFC 9110 token names; visible ASCII, space and tab in values): anything else would
# fail inside the HTTP client, or split a header.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
# Headers that say where a request goes, who forwarded it, or how its body is framed belong to the HTTP
# client and the proxies in between, never to a caller: set by hand they redirect or smuggle requests.
RESERVED_HEADERS = frozenset({"host", "forwarded", "content-length", "transfer-encoding", "connection"})
# The connector authenticates every request itself (a stored credential, a refreshed token); a caller's own
# Authorization would be dropped or, worse, silently replace it, so it is refused like the headers above.
CREDENTIAL_HEADERS = frozenset({"authorization"})


def reserved_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in RESERVED_HEADERS or lowered.startswith("x-forwarded-")


class ExecuteLinkHandler(ReturnsBody[OperationSpec]):
    def build(self, spec: OperationSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        return HttpCall("GET", require_api_origin(data["link"], ctx.base_url, "link"), absolute=True)


def raw_url(data: dict[str, Any], ctx: Context) -> str:
    url = data["url"]
    if "full_url" in url:
        return require_api_origin(url["full_url"], ctx.base_url, "url.full_url")
    return require_api_origin(join_endpoint(ctx.base_url, url["endpoint"]), ctx.base_url, "url.endpoint")


def body_arguments(spec: OperationSpec, body: dict[str, Any] | None) -> dict[str, Any]:
    """The one body variant of the input as httpx request arguments."""
    if not body or "none" in body:
        return {}
    if "raw" in body:
        raw = body["raw"]
        return {"content": raw.encode()} if isinstance(raw, str) else {"json": raw}
    if "form_urlencoded" in body:
        return {"data": body["form_urlencoded"]}
    if "form_data" in body:
        return {"files": {k: (None, v) for k, v in body["form_data"].items()}}
    try:
        return {"content": base64.b64decode(body["binary"], validate=True)}
    except (binascii.Error, ValueError):
        raise InputInvalid(spec.name, [{"path": "body.binary", "message": "not valid base64"}]) from None


def header_pairs(spec: OperationSpec, headers: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    """The caller's headers, refused when HTTP cannot carry them or when the connector sets them itself."""
    problems = []
    for i, header in enumerate(headers):
        if not HEADER_NAME.fullmatch(header["key"]):
            problems.append({"path": f"headers[{i}].key", "message": "not a valid HTTP header name"})
        elif reserved_header(header["key"]):
            problems.append({"path": f"headers[{i}].key", "message": f"{header['key']} is set by the connector's "
                             "HTTP client; a request may not set it"})
        elif header["key"].lower() in CREDENTIAL_HEADERS:
            problems.append({"path": f"headers[{i}].key", "message": f"{header['key']} is set by the connector, "
                             "which authenticates every request itself; a request may not set it"})
        if not HEADER_VALUE.fullmatch(header["value"]):
            problems.append({"path": f"headers[{i}].value",
                             "message": "not a valid HTTP header value (visible ASCII, space and tab only)"})
        elif header["value"] != header["value"].strip(" \t"):  # HTTP trims them; h11 refuses, quoting the value
            problems.append({"path": f"headers[{i}].value", "message": "must not start or end with a space or tab"})
    if problems:
        raise InputInvalid(spec.name, problems)
    return tuple((h["key"], h["value"]) for h in headers)


class RawHttpHandler(OneStep[OperationSpec]):
    def build(self, spec: OperationSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        method = data["method"]
        extra = {} if method in BODYLESS else body_arguments(spec, data.get("body"))
        params = tuple((p["key"], p["value"]) for p in data.get("query_parameters", []))
        headers = header_pairs(spec, data.get("headers", []))
        return HttpCall(method, raw_url(data, ctx), params=params, headers=headers, absolute=True,
                        creates=method == "POST", any_status=True, **extra)

    def parse(self, spec: OperationSpec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        return {"response": {"status_code": reply.status_code, "headers": dict(reply.headers),
                             "body": reply.body}}


"""Handlers that take a URL from the caller: execute link and the raw HTTP request.

Both refuse any URL off the configured Outreach API origin before a request is built, so the token never
leaves for another host.
"""
from __future__ import annotations

import base64
from typing import Any

from ..spec import OperationSpec
from ..urls import join_endpoint, require_api_origin
from .base import Context, HttpCall, Reply

BODYLESS = {"GET", "HEAD", "OPTIONS"}


class ExecuteLinkHandler:
    def build(self, spec: OperationSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        return HttpCall("GET", require_api_origin(data["link"], ctx.base_url, "link"), absolute=True)

    def parse(self, spec: OperationSpec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        return reply.body


def raw_url(data: dict[str, Any], ctx: Context) -> str:
    url = data["url"]
    if "full_url" in url:
        return require_api_origin(url["full_url"], ctx.base_url, "url.full_url")
    return require_api_origin(join_endpoint(ctx.base_url, url["endpoint"]), ctx.base_url, "url.endpoint")


def body_arguments(body: dict[str, Any] | None) -> dict[str, Any]:
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
    return {"content": base64.b64decode(body["binary"], validate=True)}


class RawHttpHandler:
    def build(self, spec: OperationSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        method = data["method"]
        extra = {} if method in BODYLESS else body_arguments(data.get("body"))
        params = tuple((p["key"], p["value"]) for p in data.get("query_parameters", []))
        headers = tuple((h["key"], h["value"]) for h in data.get("headers", [])
                        if h["key"].lower() != "authorization")  # the connector's own auth applies
        return HttpCall(method, raw_url(data, ctx), params=params, headers=headers, absolute=True,
                        creates=method == "POST", any_status=True, **extra)

    def parse(self, spec: OperationSpec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        return {"response": {"status_code": reply.status_code, "headers": dict(reply.headers),
                             "body": reply.body}}


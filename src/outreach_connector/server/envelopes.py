"""The Connectors API's response envelopes, and which connector error becomes which.

* success: HTTP 200 ``{"outcome": "success", "output": …}``;
* Outreach-side failure (Outreach answered an error, the token endpoint refused, the answer had the wrong
  shape, the network failed): HTTP 200 ``{"outcome": "error", "output": {"message", "response":
  {"statusCode", "body"}}}``; ``statusCode`` and ``body`` are ``null`` when no answer arrived;
* a problem with the call itself: HTTP 4xx/5xx ``{"message", "code": null}``.

Messages come from the connector's errors, which never carry tokens or secrets; a stack trace never
reaches a response.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

from starlette.responses import JSONResponse as StarletteJSONResponse

from ..validation import problems_in
from ..errors import (AuthenticationUnusable, ConnectorError, InputInvalid, OutputInvalid,
                                       PaginationError, TenantBusy, TransportError, UnknownOperation, UnsafeURL,
                                       UpstreamError)

INPUT_INVALID_PREFIX = "Connector input validation failed."
MAX_DETAIL = 300  # characters of one error's message: a validator may quote the (huge) value it refused
MAX_ERRORS = 50


class JSONResponse(StarletteJSONResponse):
    """Starlette's, except that text UTF-8 cannot hold (a lone surrogate Outreach sent as the JSON escape
    ``"\\ud800"``) goes back out as that same escape instead of failing the response."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def shown(value: str, limit: int = 80) -> str:
    """A caller's value as an error message may echo it: at most ``limit`` characters, marked when cut."""
    return value if len(value) <= limit else f"{value[:limit]}... ({len(value)} characters)"


def problem(status: int, message: str, headers: Mapping[str, str] | None = None,
            errors: list[dict[str, str]] | None = None) -> JSONResponse:
    """``errors``: the members at fault as data (``[{"path", "message"}]``), for a client to show by field."""
    body: dict[str, Any] = {"message": message, "code": None}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


def success(output: Any) -> JSONResponse:
    return JSONResponse({"outcome": "success", "output": output})


def outreach_failure(message: str, status_code: int | None, body: Any, partial: Any = None) -> JSONResponse:
    """``partial``: what a paginated call had fetched before it failed, and the cursor to resume from."""
    output: dict[str, Any] = {"message": message, "response": {"statusCode": status_code, "body": body}}
    if partial is not None:
        output["partial"] = {"records": partial.records, "resume_from": partial.resume_from, "pages": partial.pages}
    return JSONResponse({"outcome": "error", "output": output})


def input_invalid(errors: list[dict[str, str]]) -> JSONResponse:
    """400 naming every offending field, as ``path: message`` pairs in ``message`` and as data in ``errors``."""
    details = "; ".join(f"{shown(e['path'], 200)}: {shown(e['message'], MAX_DETAIL)}" for e in errors[:MAX_ERRORS])
    if len(errors) > MAX_ERRORS:
        details += f"; and {problems_in(errors) - MAX_ERRORS} more"
    return JSONResponse({"message": f"{INPUT_INVALID_PREFIX} {details}", "code": None,
                         "errors": field_errors(errors)}, status_code=400)


# ``errors`` of a 400: the editor places each by its field. Up to MAX_FIELD_ERRORS entries, then one counting
# the rest. A list already cut that way (MAX_FIELD_ERRORS + its count entry) passes through as it is.
MAX_FIELD_ERRORS = 100


def field_errors(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """The connector's errors with dotted input paths, as the editor's ``data-field`` (``filters[0].field`` ->
    ``filters.0.field``; the input itself -> ``""``), each bounded like the message."""
    listed = [{"path": shown(dotted_path(e["path"]), 200), "message": shown(e["message"], MAX_DETAIL)}
              for e in errors[:MAX_FIELD_ERRORS + 1]]
    if len(errors) > MAX_FIELD_ERRORS + 1:
        listed[MAX_FIELD_ERRORS:] = [{"path": "", "message": f"and {len(errors) - MAX_FIELD_ERRORS} more"}]
    return listed


def dotted_path(path: str) -> str:
    return "" if path == "input" else re.sub(r"\[(\d+)\]", r".\1", path)


def for_error(exc: ConnectorError) -> JSONResponse | None:
    """The envelope for a connector error, or None when it is a fault of ours (the caller answers 500)."""
    if isinstance(exc, TenantBusy):  # the server's own limit, not Outreach's: a problem answer
        return problem(429, exc.message, headers={"Retry-After": str(math.ceil(exc.retry_after))})
    if isinstance(exc, InputInvalid):
        return input_invalid(exc.errors)
    if isinstance(exc, UnsafeURL):
        path = getattr(exc, "path", None)  # the field, when the core names it
        return input_invalid([{"path": path or "input", "message": exc.message}])
    if isinstance(exc, UnknownOperation):
        return problem(404, f"The connector operation {shown(exc.name)!r} was not found")
    if isinstance(exc, UpstreamError):
        return outreach_failure(exc.message, exc.status_code, _upstream_body(exc), exc.partial)
    if isinstance(exc, OutputInvalid):
        return outreach_failure(exc.message, exc.status_code, exc.raw, exc.partial)
    if isinstance(exc, (TransportError, PaginationError, AuthenticationUnusable)):  # Outreach gave no answer
        return outreach_failure(exc.message, None, None, exc.partial)
    return None


def _upstream_body(exc: UpstreamError) -> Any:
    if exc.body is not None:
        return exc.body
    return {"errors": exc.errors} if exc.errors else None

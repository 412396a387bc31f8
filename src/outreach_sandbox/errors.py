"""Errors in Outreach's shape: ``{"errors": [{"id", "title", "detail", "source"?}]}``.

Handlers raise :class:`ApiError`; the app turns it into a response. The builders below fix the ids and titles
the reference documents (``resourceNotFound``, ``validationError``, ``unsupportedMediaType``,
``rateLimitExceeded``) and the ones the sandbox had to choose (``badRequest``, ``conflict``,
``methodNotAllowed``, ``unauthorized``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """An error response: HTTP status, the ``errors`` list and any extra headers."""

    def __init__(self, status: int, errors: list[dict], headers: dict[str, str] | None = None):
        super().__init__(errors[0].get("detail") if errors else str(status))
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    def document(self) -> dict:
        return {"errors": self.errors}


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation problem, located by a JSON pointer into the request document."""

    pointer: str
    detail: str


def error_object(code: str, title: str, detail: str, source: dict | None = None) -> dict:
    obj: dict[str, Any] = {"id": code, "title": title, "detail": detail}
    if source:
        obj["source"] = source
    return obj


def not_found(type_name: str, ident: object) -> ApiError:
    detail = f"Could not find '{type_name}' with ID '{ident}'."
    return ApiError(404, [error_object("resourceNotFound", "Resource Not Found", detail)])


def route_not_found(path: str) -> ApiError:
    detail = f"No route matches '{path}'."
    return ApiError(404, [error_object("resourceNotFound", "Resource Not Found", detail)])


def bad_request(detail: str, parameter: str | None = None, pointer: str | None = None) -> ApiError:
    source = {"parameter": parameter} if parameter else ({"pointer": pointer} if pointer else None)
    return ApiError(400, [error_object("badRequest", "Bad Request", detail, source)])


def validation_failed(issues: list[Issue]) -> ApiError:
    errors = [error_object("validationError", "Validation Error", i.detail, {"pointer": i.pointer})
              for i in issues]
    return ApiError(422, errors)


def conflict(detail: str, pointer: str) -> ApiError:
    return ApiError(409, [error_object("conflict", "Conflict", detail, {"pointer": pointer})])


def unsupported_media_type(got: str | None) -> ApiError:
    detail = (f"Expected Content-Type 'application/vnd.api+json', got '{got}'." if got
              else "Expected Content-Type 'application/vnd.api+json'.")
    return ApiError(415, [error_object("unsupportedMediaType", "Unsupported Media Type", detail)])


def method_not_allowed(method: str, path: str, allowed: list[str]) -> ApiError:
    detail = f"{method} is not supported on '{path}'."
    error = error_object("methodNotAllowed", "Method Not Allowed", detail)
    return ApiError(405, [error], {"Allow": ", ".join(allowed)})


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, [error_object("unauthorized", "Unauthorized", detail)],
                    {"WWW-Authenticate": 'Bearer realm="outreach-sandbox", error="invalid_token"'})


def action_not_allowed(detail: str) -> ApiError:
    """A member action that the resource's current state does not allow (422, as Outreach documents)."""
    return ApiError(422, [error_object("validationError", "Validation Error", detail)])


def forbidden(detail: str, pointer: str) -> ApiError:
    return ApiError(403, [error_object("forbidden", "Forbidden", detail, {"pointer": pointer})])

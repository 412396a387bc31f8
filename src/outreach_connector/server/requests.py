"""Request bodies of the Connectors API, parsed strictly; their errors name fields, never echo values."""
from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request

from outreach_connector.server.envelopes import shown

Model = TypeVar("Model", bound=BaseModel)


class BadRequest(Exception):
    """The request body itself is malformed (not the connector input)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _storable(value: str) -> str:
    """Text every database and log can hold: no lone surrogates, no NUL."""
    if "\x00" in value:
        raise ValueError("must not contain NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


class CallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operation: str = Field(min_length=1, max_length=200)
    authId: str = Field(min_length=1, max_length=200)
    input: Any = Field(default_factory=dict)
    returnOutputSchema: bool = False

    _text = field_validator("operation", "authId")(_storable)


class AuthenticationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    credentials: dict[str, Any]

    _text = field_validator("name")(_storable)


async def parse_body(request: Request, model: type[Model], what: str, max_depth: int = 64) -> Model:
    payload = parse_json(await request.body(), what, max_depth)
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise BadRequest(f"Invalid {what}: {describe(exc)}") from None


def parse_json(body: bytes, what: str, max_depth: int) -> Any:
    """The body as JSON, refusing nesting deeper than ``max_depth`` before any parser recursion can run deep."""
    depth = nesting_depth(body)
    if depth > max_depth:
        raise BadRequest(f"Invalid {what}: JSON nested {depth} levels deep; at most {max_depth} are accepted")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest(f"Invalid {what}: the body is not JSON") from None


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(body: bytes) -> int:
    """The deepest bracket nesting of a JSON text (brackets inside strings do not count); no recursion."""
    deepest = depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", body)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def describe(exc: ValidationError, prefix: str = "") -> str:
    """``loc: msg`` for every error; pydantic's ``input`` is left out (it may be a secret)."""
    return "; ".join(f"{prefix}{shown('.'.join(map(str, e['loc'])) or 'body', 100)}: {e['msg']}"
                     for e in exc.errors()[:20])

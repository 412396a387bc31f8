"""Request bodies of the Connectors API, parsed strictly; their errors name fields, never echo values."""
from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

Model = TypeVar("Model", bound=BaseModel)


class BadRequest(Exception):
    """The request body itself is malformed (not the connector input)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operation: str = Field(min_length=1)
    authId: str = Field(min_length=1)
    input: Any = Field(default_factory=dict)
    returnOutputSchema: bool = False


class AuthenticationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    credentials: dict[str, Any]


async def parse_body(request: Request, model: type[Model], what: str) -> Model:
    try:
        payload = json.loads(await request.body())
    except ValueError:
        raise BadRequest(f"Invalid {what}: the body is not JSON") from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise BadRequest(f"Invalid {what}: {describe(exc)}") from None


def describe(exc: ValidationError, prefix: str = "") -> str:
    """``loc: msg`` for every error; pydantic's ``input`` is left out (it may be a secret)."""
    return "; ".join(f"{prefix}{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())

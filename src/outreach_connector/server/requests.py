"""Request bodies of the Connectors API, parsed strictly; their errors name fields, never echo values."""
from __future__ import annotations

import json
from itertools import accumulate
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import BadRequest as BadRequest
from .envelopes import shown

Model = TypeVar("Model", bound=BaseModel)


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


async def parse_body(request: Request, model: type[Model], what: str, max_depth: int = 64,
                     max_items: int = 20_000) -> Model:
    payload = parse_json(await request.body(), what, max_depth, max_items)
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise BadRequest(f"Invalid {what}: {describe(exc)}") from None


def parse_json(body: bytes, what: str, max_depth: int, max_items: int = 20_000) -> Any:
    """The body as strict JSON nested at most ``max_depth`` deep with at most ``max_items`` array items and
    object members. Linear in the body, at C speed, and the shape is measured before the parser runs: a hostile
    body must not hold the event loop (the parse and the validation after it cost time per item)."""
    outside = outside_strings(body)
    items = item_bound(outside)  # counted first: the depth's pass costs per bracket, this bound caps them
    if items > max_items:
        raise BadRequest(f"Invalid {what}: JSON with {items} array items and object members; at most "
                         f"{max_items} are accepted")
    depth = deepest(outside)
    if depth > max_depth:
        raise BadRequest(f"Invalid {what}: JSON nested {depth} levels deep; at most {max_depth} are accepted")
    constants: list[str] = []

    def refuse_constant(name: str) -> _NonFinite:  # NaN, Infinity, -Infinity: not JSON, though Python reads them
        constants.append(name)
        return _NonFinite()

    try:
        payload = json.loads(body, parse_constant=refuse_constant)
    except (ValueError, RecursionError):
        raise BadRequest(f"Invalid {what}: the body is not JSON") from None
    if constants:
        path = _first_non_finite(payload)
        raise BadRequest(f"Invalid {what}: {shown(path, 200)}: {constants[0]} is not JSON "
                         "(numbers must be finite)")
    return payload


class _NonFinite(float):
    """Where the body said NaN or Infinity: kept as a marker so the error can name the field."""

    def __new__(cls) -> "_NonFinite":
        return super().__new__(cls, "nan")


_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def outside_strings(body: bytes) -> bytes:
    """What of a JSON text lies outside its strings. Every step is one C pass over the bytes (no regex that
    can backtrack, no Python loop per character): drop escaped backslashes, then escaped quotes, so that every
    quote left opens or closes a string; keep every other piece."""
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(unescaped.split(b'"')[::2])


def item_bound(outside: bytes) -> int:
    """At least the number of array items and object members: commas, plus one per container."""
    return outside.count(b",") + (outside.count(b"[") + outside.count(b"{"))


def deepest(outside: bytes) -> int:
    """The deepest running sum of +1 per opening and -1 per closing bracket."""
    brackets = outside.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _first_non_finite(payload: Any) -> str:
    """The dotted path of the first NaN/Infinity in document order (``input.duties.x``), ``body`` at the top."""
    pending: list[tuple[list[str], Any]] = [([], payload)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, _NonFinite):
            return ".".join(path) or "body"
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        pending.extend(reversed([([*path, str(key)], item) for key, item in items]))
    return "body"


def describe(exc: ValidationError, prefix: str = "") -> str:
    """``loc: msg`` for every error; pydantic's ``input`` is left out (it may be a secret)."""
    return "; ".join(f"{prefix}{shown('.'.join(map(str, e['loc'])) or 'body', 100)}: {e['msg']}"
                     for e in exc.errors()[:20])

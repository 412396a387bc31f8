"""The credentials a client stores (access token, or OAuth refresh credentials) and the public view of them.

Every credential must be something HTTP can carry: a value with whitespace around it, CR, LF, NUL or another
control character, or a character outside Latin-1, could never be sent in a header or would split one, so it
is refused when stored (400) rather than failing every later call. Errors name the field, never the value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import AuthenticationNotFound as AuthenticationNotFound
from ..header_values import header_problem
from .envelopes import shown
from ..suggest import close_names, did_you_mean
from ..urls import plain_http_url
from ..wire import TokenSet

Kind = Literal["access_token", "oauth"]
MAX_CREDENTIAL_LENGTH = 8192


class AccessTokenCredentials(BaseModel):
    """A ready access token (no refresh: it stops working when Outreach expires it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    access_token: SecretStr

    @field_validator("access_token")
    @classmethod
    def _present(cls, value: SecretStr) -> SecretStr:
        return _http_safe(_not_empty(value))


class OAuthCredentials(BaseModel):
    """An OAuth app and a user's refresh token; ``token_url`` defaults to the server's configured one.
    ``redirect_uri``, when the authorisation had one, is sent again on every refresh, as Outreach's form has it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    client_id: str = Field(min_length=1, max_length=MAX_CREDENTIAL_LENGTH)
    client_secret: SecretStr
    refresh_token: SecretStr
    token_url: str | None = Field(None, max_length=2048)
    redirect_uri: str | None = Field(None, max_length=2048)

    @field_validator("client_secret", "refresh_token")
    @classmethod
    def _present(cls, value: SecretStr) -> SecretStr:
        return _http_safe(_not_empty(value))

    @field_validator("client_id")
    @classmethod
    def _printable(cls, value: str) -> str:
        return _checked(value)

    @field_validator("token_url", "redirect_uri")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not plain_http_url(_checked(value)):
            raise ValueError("must be an absolute http(s) URL without user info or fragment")
        return value


def _not_empty(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise ValueError("must not be empty")
    return value


def _http_safe(value: SecretStr) -> SecretStr:
    text = value.get_secret_value()
    if len(text) > MAX_CREDENTIAL_LENGTH:
        raise ValueError(f"must be at most {MAX_CREDENTIAL_LENGTH} characters")
    _checked(text)
    return value


def _checked(text: str) -> str:
    """``text`` when HTTP can carry it (see header_values.py); the error never holds the value."""
    problem = header_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


Credentials = Union[AccessTokenCredentials, OAuthCredentials]


def parse_credentials(raw: Any) -> Credentials:
    """The credentials model a request body means: an access token, or OAuth refresh credentials.

    Raises pydantic's ``ValidationError``; report it with :func:`credentials_problems` (its ``input`` holds
    secrets).
    """
    if isinstance(raw, dict) and means_access_token(raw):
        return AccessTokenCredentials.model_validate(raw)
    return OAuthCredentials.model_validate(raw)


def means_access_token(raw: dict) -> bool:
    """``access_token`` is there, or a misspelling of it (``acess_token``) is with nothing of OAuth's: judged
    as an access token, the error is one field to fix, not three OAuth fields missing."""
    if "access_token" in raw:
        return True
    return not set(raw) & set(OAuthCredentials.model_fields) and \
        any(close_names(str(key), ["access_token"]) for key in raw)


KNOWN_FIELDS = [*AccessTokenCredentials.model_fields, *OAuthCredentials.model_fields]


def credentials_problems(exc: ValidationError, prefix: str = "credentials.") -> str:
    """``credentials.<field>: <problem>`` for each error, an unknown field with a did-you-mean over both kinds'
    fields. Names and pydantic's messages only: never a value (pydantic's ``input`` may be a secret)."""
    problems = []
    for error in exc.errors()[:20]:
        field = shown(".".join(map(str, error["loc"])), 100) or "body"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "not a credentials field" + (did_you_mean(field, KNOWN_FIELDS) or
                                                   " (fields: access_token; or client_id, client_secret, "
                                                   "refresh_token and token_url)")
        problems.append(f"{prefix}{field}: {message}")
    return "; ".join(problems)


def stored_credentials(kind: str, secret: dict[str, Any]) -> Credentials:
    """Credentials as stored, not checked again: a row stored before a check was added must still load (its
    calls then fail one by one with an error, see header_values.bearer), never the store with a 500."""
    if kind == "access_token":
        return AccessTokenCredentials.model_construct(access_token=SecretStr(secret["access_token"]))
    return OAuthCredentials.model_construct(
        client_id=secret["client_id"], client_secret=SecretStr(secret["client_secret"]),
        refresh_token=SecretStr(secret["refresh_token"]), token_url=secret.get("token_url"),
        redirect_uri=secret.get("redirect_uri"))


Status = Literal["connected", "reconnect_required"]


@dataclass(frozen=True)
class Authentication:
    """The public view of a stored authentication: never a secret.

    ``status`` is ``reconnect_required`` once Outreach refused the authentication for good (``status_reason``
    ``invalid_grant``: a dead refresh token; ``access_token_rejected``: a 401 on a stored access token);
    ``status_since`` is when the status last changed (creation, marking, reconnecting); ``last_refreshed_at``
    is when an OAuth authentication's tokens were last issued or stored (None for an access token)."""

    id: str
    name: str
    kind: Kind
    created_at: str
    access_token_expires_at: float | None
    status: Status = "connected"
    status_reason: str | None = None
    status_since: str | None = None
    last_refreshed_at: str | None = None

    def to_public_dict(self) -> dict[str, Any]:
        view: dict[str, Any] = {"id": self.id, "name": self.name, "kind": self.kind, "created_at": self.created_at}
        if self.kind == "oauth":
            view["access_token_expires_at"] = iso_time(self.access_token_expires_at)
        view.update(status=self.status, status_reason=self.status_reason, status_since=self.status_since,
                    last_refreshed_at=self.last_refreshed_at)
        return view


@dataclass(frozen=True)
class StoredAuthentication:
    """An authentication with its decrypted secrets, for building a connector; repr shows no secret."""

    info: Authentication
    credentials: Credentials = field(repr=False)
    tokens: TokenSet | None = None  # OAuth only: the latest access token and rotated refresh token
    owner: str | None = None  # the digest of the API key that stored it


def reveal(credentials: Credentials) -> dict[str, Any]:
    """The credentials as plain values, for sealing."""
    values = credentials.model_dump()
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in values.items()}


def iso_time(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

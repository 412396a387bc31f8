"""OAuth 2.0 as Outreach runs it: ``POST /oauth/token`` and the bearer tokens the API accepts.

Grants: ``authorization_code`` and ``refresh_token``. A code comes either from the consent page (see
``consent.py``: single use, 10 minutes, bound to the ``client_id`` and ``redirect_uri`` it was issued for, as
Outreach's are) or is the configured fixed one (``sandbox-auth-code`` by default), which tests may reuse with
any ``redirect_uri``. Every grant mints a new access token that
expires after ``access_token_ttl`` and a new refresh token; the refresh token used dies, so presenting it
again is ``invalid_grant``. Client credentials come in the form (or JSON) body or as HTTP Basic; wrong ones
are 401 ``invalid_client``. The configured long-lived access token never expires.
"""
from __future__ import annotations

import base64
import binascii
import json
import random
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .config import SandboxConfig


CODE_TTL = 600.0  # seconds an authorization code from the consent page lives
MAX_PENDING_CODES = 1000  # issued, unspent codes kept; the oldest goes first, so a busy page cannot grow memory


@dataclass(frozen=True)
class IssuedCode:
    redirect_uri: str
    expires_at: float


class TokenRegistry:
    """Live access tokens (with expiry) and refresh tokens, and how many refreshes happened."""

    def __init__(self, config: SandboxConfig, rng: random.Random):
        self._config = config
        self._rng = rng
        self.reset()

    def reset(self) -> None:
        self._access: dict[str, float | None] = {}
        if self._config.access_token:
            self._access[self._config.access_token] = None
        self._refresh = {self._config.refresh_token}
        self._codes: dict[str, IssuedCode] = {}
        self.refreshes = 0
        self.code_exchanges = 0

    def issue_code(self, redirect_uri: str, now: float) -> str:
        """A new authorization code for the sandbox's client and one redirect URI, alive ``CODE_TTL`` seconds."""
        while len(self._codes) >= MAX_PENDING_CODES:
            del self._codes[next(iter(self._codes))]
        code = f"sbx_code_{self._rng.getrandbits(160):040x}"
        self._codes[code] = IssuedCode(redirect_uri, now + CODE_TTL)
        return code

    def redeem_code(self, code: str, redirect_uri: str | None, now: float) -> str | None:
        """Why a code is refused, or None when it is good. The configured fixed code is reusable; an issued
        one is spent by its first presentation, good or bad, so a replay never works. The sandbox has one
        client and the token endpoint authenticates it first, so a code only ever reaches its own client."""
        if code == self._config.authorization_code:
            return None
        issued = self._codes.pop(code, None)
        if issued is None:
            return "The authorization code is invalid or has already been used."
        if now >= issued.expires_at:
            return "The authorization code has expired."
        if issued.redirect_uri != redirect_uri:
            return "The redirect_uri does not match the one the authorization code was issued for."
        return None

    def check(self, token: str, now: float) -> str | None:
        """Why a token is refused, or None when it is valid."""
        if token not in self._access:
            return "The access token is unknown or has been revoked."
        expires = self._access[token]
        return "The access token has expired." if expires is not None and now >= expires else None

    def revoke(self, token: str) -> None:
        self._access.pop(token, None)
        self._refresh.discard(token)

    def issue(self, now: float) -> dict:
        access, refresh = (f"sbx_{kind}_{self._rng.getrandbits(160):040x}" for kind in ("at", "rt"))
        self._access[access] = now + self._config.access_token_ttl
        self._refresh.add(refresh)
        return {"access_token": access, "token_type": "bearer", "expires_in": int(self._config.access_token_ttl),
                "refresh_token": refresh, "scope": self._config.scope, "created_at": int(now)}

    def redeem_refresh_token(self, token: str) -> bool:
        """Spend a refresh token: True once, False ever after."""
        if token not in self._refresh:
            return False
        self._refresh.discard(token)
        self.refreshes += 1
        return True


def oauth_error(status: int, code: str, description: str) -> tuple[int, dict, dict]:
    headers = {"WWW-Authenticate": 'Basic realm="outreach-sandbox"'} if status == 401 else {}
    return status, {"error": code, "error_description": description}, headers


def _form(content_type: str, body: bytes) -> dict[str, str] | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        return {k: str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else None
    return None


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    if not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _client_ok(config: SandboxConfig, form: dict[str, str], authorization: str) -> bool:
    given = _basic_credentials(authorization) or (form.get("client_id"), form.get("client_secret"))
    return given == (config.client_id, config.client_secret)


def token_request(registry: TokenRegistry, config: SandboxConfig, headers: dict[str, str], body: bytes,
                  now: float) -> tuple[int, dict, dict]:
    """Answer one token request: (status, JSON body, extra headers)."""
    form = _form(headers.get("content-type", ""), body)
    if form is None:
        return oauth_error(400, "invalid_request", "Send the token request form-encoded.")
    if not _client_ok(config, form, headers.get("authorization", "")):
        return oauth_error(401, "invalid_client", "Client authentication failed.")
    grant = form.get("grant_type")
    if grant == "authorization_code":
        if not form.get("code"):
            return oauth_error(400, "invalid_request", "code is required.")
        refused = registry.redeem_code(form["code"], form.get("redirect_uri"), now)
        if refused:
            return oauth_error(400, "invalid_grant", refused)
        registry.code_exchanges += 1
    elif grant == "refresh_token":
        if not form.get("refresh_token"):
            return oauth_error(400, "invalid_request", "refresh_token is required.")
        if not registry.redeem_refresh_token(form["refresh_token"]):
            return oauth_error(400, "invalid_grant", "The refresh token is invalid, expired or already used.")
    elif not grant:
        return oauth_error(400, "invalid_request", "grant_type is required.")
    else:
        return oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type '{grant}'.")
    return 200, registry.issue(now), {"Cache-Control": "no-store", "Pragma": "no-cache"}

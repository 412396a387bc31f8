"""OAuth 2.0 as Outreach runs it: ``POST /oauth/token`` and the bearer tokens the API accepts.

Grants: ``authorization_code`` (the sandbox's code is fixed, ``sandbox-auth-code`` by default, and may be
reused; any ``redirect_uri`` is accepted) and ``refresh_token``. Every grant mints a new access token that
expires after ``access_token_ttl`` and a new refresh token; the refresh token used dies, so presenting it
again is ``invalid_grant``. Client credentials come in the form (or JSON) body or as HTTP Basic; wrong ones
are 401 ``invalid_client``. The configured long-lived access token never expires.
"""
from __future__ import annotations

import base64
import binascii
import json
import random
from urllib.parse import parse_qsl

from .config import SandboxConfig


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
        self.refreshes = 0
        self.code_exchanges = 0

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
        if form.get("code") != config.authorization_code:
            return oauth_error(400, "invalid_grant", "The authorization code is invalid.")
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

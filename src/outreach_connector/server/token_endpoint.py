"""One POST to Outreach's token endpoint on the server's own behalf: the consent flow's code exchange and the
keep-alive's refresh. (Calls refresh inside ``OAuthRefreshAuth``; these two run outside any call.)

The answer is read up to ``MAX_TOKEN_REPLY`` bytes; a refusal becomes :class:`TokenEndpointRefused` with an
OAuth error code only (``invalid_grant``…), never the endpoint's free text, so nothing secret can leak
through it.
"""
from __future__ import annotations

import re
import time
from typing import Any

import httpx

from ..errors import ConnectorError
# Re-exported for the old import path: errors.py holds every error class.
from ..errors import TokenEndpointRefused as TokenEndpointRefused
from ..oauth import TokenSet, token_lifetime
from ..oauth_drivers import aread_token_reply
from .settings import ServerSettings

_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def safe_error_code(value: Any, fallback: str) -> str:
    """An error code fit to echo in a URL or page: a short word, or ``fallback``."""
    return value if isinstance(value, str) and _ERROR_CODE.fullmatch(value) else fallback


async def request_tokens(transport: httpx.AsyncBaseTransport, settings: ServerSettings, form: dict[str, str],
                         keep_refresh_token: str | None = None, token_url: str | None = None) -> TokenSet:
    """POST ``form`` to ``token_url`` (default: the server's); the issued set (a refresh that returns no new
    refresh token keeps ``keep_refresh_token``). Raises :class:`TokenEndpointRefused`."""
    async with httpx.AsyncClient(transport=transport, timeout=settings.connector.timeout) as client:
        request = client.build_request("POST", token_url or settings.token_url, data=form,
                                       headers={"Accept": "application/json"})
        try:
            response = await client.send(request, stream=True)
            await aread_token_reply(response)
        except (httpx.HTTPError, ConnectorError):  # ConnectorError: an answer too large to be a token reply
            raise TokenEndpointRefused("token_endpoint_unreachable") from None
    payload = _json(response)
    if response.status_code != 200:
        fallback = "token_endpoint_error" if response.status_code >= 500 else "invalid_request"
        raise TokenEndpointRefused(safe_error_code(payload.get("error"), fallback))
    access, refresh = payload.get("access_token"), payload.get("refresh_token") or keep_refresh_token
    if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
        raise TokenEndpointRefused("invalid_token_response")
    lifetime = token_lifetime(payload.get("expires_in"))
    scope = payload.get("scope")
    return TokenSet(access, refresh, None if lifetime is None else time.time() + lifetime,
                    scope if isinstance(scope, str) else None)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}

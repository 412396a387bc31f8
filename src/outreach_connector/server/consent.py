"""Connecting an Outreach account: ``POST /authentications/connect`` and ``GET /oauth/callback``.

The host's Outreach app (``--oauth-client-id``/``--oauth-client-secret``) asks the user's consent on
Outreach's page; Outreach sends the browser back to ``<public-url>/oauth/callback`` with a code, which this
server exchanges and stores as an authentication of the tenant that started the flow.

The state is the callback's only credential: 32 random bytes, kept in the database as a digest with its
tenant and request, spent by the first callback that presents it (on any replica), dead after 10 minutes.
Every failure before the exchange succeeds stores nothing; the browser goes back to the return URL with
``status=error&error=<code>``, or gets a page that tells the opener window.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import datetime, timezone
from html import escape
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..catalogue_folders import load_manifest
from . import connect_store, envelopes
from .credentials import OAuthCredentials
from .envelopes import shown
from .requests import BadRequest, _storable, parse_body
from .services import known_id, not_found, owner, services
from .settings import ServerSettings
from ..urls import plain_http_url
from .store import TooManyAuthentications
from .token_endpoint import TokenEndpointRefused, request_tokens, safe_error_code

logger = logging.getLogger("outreach_connector.server")

CALLBACK_PATH = "/oauth/callback"
STATE_TTL_SECONDS = 600
MAX_STATE_LENGTH = 200  # ours are 43 characters; anything much longer is not one of ours
CONNECTED, ERROR = "outreach-connector:connected", "outreach-connector:error"


class ConnectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] | None = Field(None, min_length=1, max_length=200)
    return_url: str | None = Field(None, max_length=2048)
    authentication_id: str | None = Field(None, max_length=200)

    _text = field_validator("name")(_storable)


def manifest_scopes() -> list[str]:
    return list(load_manifest().auth["scopes"])


def redirect_uri(settings: ServerSettings) -> str:
    return f"{settings.public_url}{CALLBACK_PATH}"


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _port(parts: Any) -> int | None:
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def return_url_allowed(url: str, allowed: tuple[str, ...]) -> bool:
    """Scheme, host, port and path equal an allowed URL's (the return URL may add its own query)."""
    if not plain_http_url(url):
        return False
    given = urlsplit(url)
    for entry in allowed:
        other = urlsplit(entry)
        if (given.scheme, given.hostname, _port(given), given.path or "/") == \
                (other.scheme, other.hostname, _port(other), other.path or "/"):
            return True
    return False


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="&".join(filter(None, [parts.query, urlencode(params)]))))


async def connect(request: Request) -> Response:
    """``POST /authentications/connect`` → 201 ``{"authorize_url", "expires_at"}``."""
    settings = services(request).settings
    if not settings.has_oauth_app:
        return envelopes.problem(400, "No Outreach app is configured: start serve with --oauth-client-id, "
                                      "--oauth-client-secret and --public-url to connect accounts")
    try:
        body = await parse_body(request, ConnectRequest, "connect request", settings.max_json_depth,
                                settings.max_json_items)
    except BadRequest as exc:
        return envelopes.problem(400, exc.message)
    known = manifest_scopes()
    scopes = body.scopes if body.scopes is not None else known
    unknown = [scope for scope in scopes if scope not in known]
    if unknown:
        return envelopes.problem(400, f"Invalid connect request: scopes: unknown scope {shown(unknown[0])!r} "
                                      "(the scopes are those of connector.yaml)")
    if body.return_url is not None and not return_url_allowed(body.return_url, settings.allowed_return_urls):
        return envelopes.problem(400, "Invalid connect request: return_url: not a return URL this server allows "
                                      "(one given with --allow-return-url)")
    if body.authentication_id is not None:
        if not known_id(body.authentication_id) or await run_in_threadpool(
                services(request).store.get, body.authentication_id, owner(request)) is None:
            return not_found(body.authentication_id)
    state, now = secrets.token_urlsafe(32), time.time()
    expires_at = now + STATE_TTL_SECONDS
    pending = {"name": body.name, "return_url": body.return_url, "authentication_id": body.authentication_id}
    try:
        await run_in_threadpool(connect_store.add_state, services(request).store, state, owner(request),
                                expires_at, pending, now)
    except connect_store.TooManyPendingStates:
        return envelopes.problem(429, f"Too many unfinished connect flows for this API key (at most "
                                      f"{connect_store.MAX_PENDING_STATES}); each expires 10 minutes after it "
                                      "started", headers={"Retry-After": "60"})
    query = urlencode({"client_id": settings.oauth_client_id, "redirect_uri": redirect_uri(settings),
                       "response_type": "code", "scope": " ".join(scopes), "state": state}, quote_via=quote)
    separator = "&" if urlsplit(settings.authorize_url).query else "?"
    logger.info("connect flow started (%s)", f"reconnecting {body.authentication_id}" if body.authentication_id
                else "new authentication")
    return Response(json.dumps({"authorize_url": f"{settings.authorize_url}{separator}{query}",
                                "expires_at": iso(expires_at)}), status_code=201, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


async def callback(request: Request) -> Response:
    """``GET /oauth/callback?code&state`` (or ``?error&state``): no API key; the state is the credential."""
    svc = services(request)
    if request.method != "GET":  # a HEAD (a link checker, a prefetch) must not spend the state
        return Response(status_code=405, headers={"Allow": "GET", **_PAGE_HEADERS})
    state = request.query_params.get("state", "")
    taken = None
    if state and len(state) <= MAX_STATE_LENGTH:
        taken = await run_in_threadpool(connect_store.take_state, svc.store, state, time.time())
    if taken is None:
        logger.info("oauth callback refused: unknown, expired or used state")
        return _page(400, "This connect link is not valid",
                     "It is unknown, expired (links last 10 minutes) or was already used. Nothing was stored: "
                     "start connecting again.")
    tenant, pending = taken
    if "error" in request.query_params:
        return _finish_error(svc.settings, pending, safe_error_code(request.query_params["error"], "invalid_request"))
    code = request.query_params.get("code", "")
    if not code or len(code) > 2048:
        return _finish_error(svc.settings, pending, "invalid_request")
    settings = svc.settings
    if settings.oauth_client_id is None or settings.oauth_client_secret is None:
        logger.warning("oauth callback on a replica without the Outreach app (--oauth-client-id): nothing stored")
        return _finish_error(settings, pending, "server_not_configured")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(settings),
            "client_id": settings.oauth_client_id,
            "client_secret": settings.oauth_client_secret.get_secret_value()}
    try:
        tokens = await request_tokens(svc.pool.transport, settings, form)
    except TokenEndpointRefused as exc:
        logger.info("oauth callback: the code exchange failed (%s); nothing stored", exc.code)
        return _finish_error(settings, pending, exc.code)
    credentials = OAuthCredentials(client_id=form["client_id"], client_secret=form["client_secret"],
                                   refresh_token=tokens.refresh_token, redirect_uri=form["redirect_uri"])
    auth_id = pending.get("authentication_id")
    if auth_id:
        if not await run_in_threadpool(connect_store.reconnect, svc.store, auth_id, tenant, credentials, tokens):
            return _finish_error(settings, pending, "authentication_not_found")
        await svc.pool.forget(auth_id)
        logger.info("reconnected authentication %s", auth_id)
    else:
        try:
            created = await run_in_threadpool(lambda: svc.store.create(
                pending["name"], credentials, owner=tenant, tokens=tokens,
                max_per_owner=settings.max_authentications_per_key))
        except TooManyAuthentications:
            logger.info("oauth callback: the tenant holds --max-authentications-per-key already; nothing stored")
            return _finish_error(settings, pending, "too_many_authentications")
        auth_id = created.id
        logger.info("connected authentication %s", auth_id)
    return _finish(settings, pending, {"authentication_id": auth_id, "status": "connected"},
                   {"type": CONNECTED, "authentication_id": auth_id}, "Outreach connected",
                   "You can close this window.")


def _finish_error(settings: ServerSettings, pending: dict[str, Any], code: str) -> Response:
    return _finish(settings, pending, {"status": "error", "error": code}, {"type": ERROR, "error": code},
                   "Outreach was not connected", f"Outreach answered: {code}. Nothing was stored; you can close "
                                                 "this window and try again.")


def _finish(settings: ServerSettings, pending: dict[str, Any], params: dict[str, str], message: dict[str, str],
            title: str, text: str) -> Response:
    """303 to the flow's return URL with ``params``, or a page posting ``message`` to the opener window."""
    if pending.get("return_url"):
        return Response(status_code=303, headers={"Location": with_query(pending["return_url"], params),
                                                  **_PAGE_HEADERS})
    # The page's own origin: the public URL's, or "/" (postMessage's "same origin as this page") without one.
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(settings.public_url)) if settings.public_url else "/"
    return _page(200, title, text, message, origin)


_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(status: int, title: str, text: str, message: dict[str, str] | None = None, origin: str = "") -> Response:
    """A small page; with ``message``, a script posts it to ``window.opener`` at ``origin`` and closes it."""
    nonce = secrets.token_urlsafe(16)
    script = ""
    if message is not None:
        data = json.dumps(message).replace("<", "\\u003c")
        target = json.dumps(origin).replace("<", "\\u003c")
        script = (f'<script nonce="{nonce}">if (window.opener) {{ window.opener.postMessage({data}, {target}); '
                  "window.close(); }</script>")
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f'<body><main><h1>{escape(title)}</h1><p role="status">{escape(text)}</p></main>{script}</body></html>')
    csp = f"default-src 'none'; script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    return HTMLResponse(html, status, headers={**_PAGE_HEADERS, "Content-Security-Policy": csp})

"""The consent page at ``/oauth/authorize``, as Outreach shows it to a user connecting an app.

``GET`` renders the app's client id and the scopes asked for, with a form that posts to the same URL (query
kept) and two buttons, ``decision=allow`` and ``decision=deny``. ``POST`` answers the decision with a 302 to
the ``redirect_uri``: ``?code=…&state=…`` on allow, ``?error=access_denied&state=…`` on deny. An unknown
``client_id`` or a missing or non-HTTP ``redirect_uri`` is an error page, never a redirect: an attacker's URI
must not receive anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .config import SandboxConfig
from .oauth import TokenRegistry

MAX_DECISION_BYTES = 1024  # the form carries one field; anything bigger is not a browser's answer


@dataclass(frozen=True)
class Page:
    status: int
    html: str = ""
    location: str | None = None


def _redirect_to(redirect_uri: str, params: dict[str, str]) -> str:
    """``redirect_uri`` with ``params`` added to whatever query it already carries."""
    parts = urlsplit(redirect_uri)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


def _document(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>")


def _error_page(status: int, message: str) -> Page:
    return Page(status, _document("Cannot authorize", f'<p role="alert">{escape(message)}</p>'))


def _request_problem(config: SandboxConfig, query: dict[str, str]) -> str | None:
    """Why the request cannot even be answered by a redirect, or None."""
    if query.get("client_id") != config.client_id:
        return "Unknown client_id: no application is registered with this id."
    redirect_uri = query.get("redirect_uri", "")
    if not redirect_uri:
        return "redirect_uri is required."
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        return "redirect_uri must be an absolute http(s) URL without a fragment."
    return None


def _consent_form(query: dict[str, str], action: str) -> str:
    scopes = query.get("scope", "").split()
    items = "".join(f"<li>{escape(scope)}</li>" for scope in scopes) or "<li>(no scopes asked for)</li>"
    return (f"<p>The application <code>{escape(query['client_id'])}</code> asks to access your Outreach data"
            f" with these scopes:</p><ul>{items}</ul>"
            f'<form method="post" action="{escape(action)}">'
            '<button type="submit" name="decision" value="allow" data-testid="allow">Allow</button> '
            '<button type="submit" name="decision" value="deny" data-testid="deny">Deny</button></form>')


def authorize(config: SandboxConfig, tokens: TokenRegistry, method: str, path_qs: str,
              query: dict[str, str], body: bytes, now: float) -> Page:
    """Answer one request to ``/oauth/authorize`` (``path_qs`` is the path with its query, the form's action)."""
    problem = _request_problem(config, query)
    if problem:
        return _error_page(400, problem)
    redirect_uri, state = query["redirect_uri"], query.get("state")
    back = {"state": state} if state is not None else {}
    if query.get("response_type") != "code":
        return Page(302, location=_redirect_to(redirect_uri, {"error": "unsupported_response_type", **back}))
    if method == "GET":
        return Page(200, _document("Authorize application", _consent_form(query, path_qs)))
    if len(body) > MAX_DECISION_BYTES:
        return _error_page(413, "The form is too large.")
    decision = dict(parse_qsl(body.decode("utf-8", "replace"))).get("decision")
    if decision == "allow":
        code = tokens.issue_code(redirect_uri, now)
        return Page(302, location=_redirect_to(redirect_uri, {"code": code, **back}))
    if decision == "deny":
        return Page(302, location=_redirect_to(redirect_uri, {"error": "access_denied", **back}))
    return _error_page(400, "decision must be 'allow' or 'deny'.")

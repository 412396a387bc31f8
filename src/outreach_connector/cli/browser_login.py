"""``auth login --browser``: the OAuth consent flow for one person, with a loopback redirect.

The redirect URI is ``http://127.0.0.1:<port>/callback`` (default port 8765: the one to register with the
Outreach app). The listener is bound before the authorize URL is printed (on stderr), so the browser can
never arrive first. A request whose ``state`` is not this run's is answered 400 and ignored (anything on the
machine can reach a loopback port); the first one with the right state ends the wait. With ``--no-browser``
the URL is only printed, and the address the browser was sent back to may also be pasted on stdin (a
headless machine whose browser is elsewhere). The code is exchanged at the token URL and the profile stored
as ``auth login`` stores it. Nothing here prints a token, a code or the client secret.
"""
from __future__ import annotations

import argparse
import os
import queue
import secrets
import sys
import threading
import time
import webbrowser
from html import escape
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Mapping
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

from ..catalogue_folders import load_manifest
from ..errors import BrowserLoginFailed
from ..oauth import token_lifetime
from ..settings import ENVIRONMENT, Settings
from .commands import emit
from .credentials_file import CredentialsFile, Entry, config_dir, fingerprint
from .session import ConfigurationInvalid

DEFAULT_PORT = 8765
DEFAULT_AUTHORIZE_URL = "https://api.outreach.io/oauth/authorize"
DEFAULT_TIMEOUT = 300.0
MAX_TOKEN_REPLY = 64 * 1024


def callback_result(url: str, state: str) -> dict[str, str] | None:
    """``{"code"}`` or ``{"error"}`` from a callback URL (or its query) carrying this run's ``state``; None
    for anything else."""
    query = parse_qs(urlsplit(url.strip()).query or url.strip().lstrip("?"))
    if not secrets.compare_digest(query.get("state", [""])[0].encode(), state.encode()):
        return None
    if "error" in query:
        return {"error": query["error"][0][:64]}
    if query.get("code", [""])[0]:
        return {"code": query["code"][0]}
    return None


class Receiver:
    """The loopback listener and the stdin reader, feeding the first good callback into one queue."""

    def __init__(self, port: int, state: str) -> None:
        self.state = state
        self.results: queue.Queue[dict[str, str]] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                found = callback_result(self.path, receiver.state) if self.path.startswith("/callback") else None
                if found is None:
                    self._page(400, "This is not the sign-in this command is waiting for.")
                    return
                self._page(200, "Outreach connected: you can close this window." if "code" in found
                           else f"Outreach was not connected ({found['error']}).")
                receiver.results.put(found)

            def _page(self, status: int, text: str) -> None:
                body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>outreach-connector'
                        f'</title></head><body><p>{escape(text)}</p></body></html>').encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: never logged
                pass

        try:
            self.server = HTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise ConfigurationInvalid(f"cannot listen on 127.0.0.1:{port} for the OAuth redirect "
                                       f"({exc.strerror or type(exc).__name__}); choose another with --port "
                                       "(it must match the redirect URI registered with the app)") from None
        self.server.timeout = 0.2
        self.port = self.server.server_address[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, name="oauth-loopback", daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self.server.handle_request()

    def read_pasted(self, stream: Any) -> None:
        """Take callback URLs pasted on ``stream``, one a line (a daemon thread: it dies with the process)."""
        def read() -> None:
            for line in stream:
                found = callback_result(line, self.state)
                if found is not None:
                    self.results.put(found)
                    return
                if line.strip():
                    print("outreach-connector: that is not the address this login is waiting for; paste the "
                          "whole URL the browser was sent to", file=sys.stderr, flush=True)

        threading.Thread(target=read, name="oauth-paste", daemon=True).start()

    def wait(self, timeout: float) -> dict[str, str]:
        try:
            return self.results.get(timeout=timeout)
        except queue.Empty:
            raise BrowserLoginFailed(f"no answer from the browser within {timeout:g} s; nothing was stored "
                                     "(run it again, or raise --timeout)") from None

    def close(self) -> None:
        self._stop.set()
        self.server.server_close()


def authorize_url(base: str, client_id: str, redirect_uri: str, scopes: list[str], state: str) -> str:
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": " ".join(scopes), "state": state}, quote_via=quote)
    return f"{base}{'&' if urlsplit(base).query else '?'}{query}"


def exchange(settings: Settings, client_secret: str, code: str, redirect_uri: str) -> dict[str, Any]:
    """The token endpoint's answer to the code; raises BrowserLoginFailed naming only its error code."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": settings.client_id or "", "client_secret": client_secret}
    try:
        with httpx.Client(timeout=settings.timeout) as client, \
                client.stream("POST", settings.token_url, data=form, headers={"Accept": "application/json"}) as answer:
            body = b""
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > MAX_TOKEN_REPLY:
                    raise BrowserLoginFailed("the token endpoint's answer is too large to be a token reply")
            status = answer.status_code
    except httpx.HTTPError as exc:
        raise BrowserLoginFailed(f"the token endpoint could not be reached ({type(exc).__name__}); nothing "
                                 "was stored") from None
    try:
        parsed = httpx.Response(status, content=body).json()
    except ValueError:
        parsed = None
    payload: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
    if status != 200 or not isinstance(payload.get("refresh_token"), str) or not payload["refresh_token"]:
        error = payload.get("error")
        code_word = error if isinstance(error, str) else "no refresh token"
        raise BrowserLoginFailed(f"the token endpoint refused the authorization code ({status} "
                                 f"{code_word[:64]}); nothing was stored")
    return payload


def chosen_scopes(given: list[str] | None) -> list[str]:
    known = list(load_manifest().auth["scopes"])
    unknown = [scope for scope in given or () if scope not in known]
    if unknown:
        raise ConfigurationInvalid(f"--scope {unknown[0]!r} is not one of connector.yaml's scopes")
    return list(given) if given else known


def cmd_login_browser(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    settings = Settings.from_env(client_id=args.client_id, token_url=args.token_url, base_url=args.base_url)
    missing = [ENVIRONMENT[k] for k in ("client_id", "client_secret") if not getattr(settings, k)]
    if missing or settings.client_secret is None:  # one test: the None check types the secret
        raise ConfigurationInvalid(f"auth login --browser needs {', '.join(missing)} (the client secret is read "
                                   "from the environment only, never from a flag); nothing was stored")
    client_secret = settings.client_secret.get_secret_value()
    scopes = chosen_scopes(args.scope)
    base = args.authorize_url or env.get("OUTREACH_AUTHORIZE_URL") or DEFAULT_AUTHORIZE_URL
    state = secrets.token_urlsafe(32)
    receiver = Receiver(args.port, state)
    try:
        redirect_uri = f"http://127.0.0.1:{receiver.port}/callback"
        url = authorize_url(base, settings.client_id or "", redirect_uri, scopes, state)
        print(f"Open this address in a browser to connect your Outreach account (it is good for this login only; "
              f"do not share it):\n{url}", file=sys.stderr, flush=True)
        if args.no_browser:
            print("Waiting for the browser to come back to this machine, or for the address it was sent to to be "
                  "pasted here.", file=sys.stderr, flush=True)
            receiver.read_pasted(sys.stdin)
        else:
            webbrowser.open(url)
        found = receiver.wait(args.timeout)
    finally:
        receiver.close()
    if "error" in found:
        raise BrowserLoginFailed(f"Outreach did not connect ({found['error']}); nothing was stored")
    payload = exchange(settings, client_secret, found["code"], redirect_uri)
    lifetime = token_lifetime(payload.get("expires_in"))
    access = payload.get("access_token") if isinstance(payload.get("access_token"), str) else None
    entry = Entry(args.profile, settings.client_id or "", settings.token_url, refresh_token=payload["refresh_token"],
                  seeded_from=fingerprint(payload["refresh_token"]), access_token=access or None,
                  expires_at=None if lifetime is None or not access else time.time() + lifetime,
                  client_secret=client_secret, base_url=settings.base_url)
    credentials = CredentialsFile(config_dir(env))
    credentials.save(entry, replace_profile=True)
    emit({"stored": entry.public(), "file": str(credentials.path),
          "next": f"outreach-connector call list_users '{{}}' --profile {args.profile}"})
    return 0


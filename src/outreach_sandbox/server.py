"""Serving the sandbox over HTTP with uvicorn: the command line, ``serve`` and a background server for tests.

``python -m outreach_sandbox --port 8090`` prints the base URL (``http://127.0.0.1:8090/api/v2``) and serves
until interrupted. A served sandbox uses the wall clock unless ``--fixed-clock`` is given, so ``Retry-After``
and token expiry mean real seconds to a client on the other side of the socket.
"""
from __future__ import annotations

import argparse
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from .config import SandboxConfig
from .sandbox import Sandbox


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)  # listening before the URL is printed: early clients queue instead of being refused
    return sock


def _uvicorn(sandbox: Sandbox) -> uvicorn.Server:
    # h11 explicitly: connection drops abort the socket through it (see gate.drop_connection)
    config = uvicorn.Config(sandbox.app, http="h11", lifespan="off", log_level="warning", access_log=False)
    return uvicorn.Server(config)


def base_url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/api/v2"


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Serve a new sandbox on ``host:port`` (0 picks a free port) until interrupted; print its base URL."""
    sandbox = Sandbox(config)
    sock = _bind(host, port)
    url = base_url(host, sock.getsockname()[1])
    print(start_line(url, config), flush=True)
    _uvicorn(sandbox).run(sockets=[sock])


def start_line(url: str, config: SandboxConfig) -> str:
    """The base URL, the token and consent URLs and the sandbox's own (not secret) credentials, on one line."""
    access = f"access token {config.access_token!r}, " if config.access_token else ""
    root = url.removesuffix("/api/v2")
    return (f"Outreach sandbox at {url} (token endpoint {root}/oauth/token, "
            f"consent page {root}/oauth/authorize); "
            f"credentials: {access}client id {config.client_id!r}, client secret {config.client_secret!r}, "
            f"refresh token {config.refresh_token!r} (rotated on first use), "
            f"authorization code {config.authorization_code!r}")


@contextmanager
def serving(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``sandbox`` from a background thread for the duration of the block; yields its base URL."""
    sock = _bind(host, port)
    server = _uvicorn(sandbox)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="outreach-sandbox-http",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield base_url(host, sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


DESCRIPTION = """\
Serve a stateful Outreach API sandbox on 127.0.0.1 (seeded, deterministic data; JSON:API; OAuth token
endpoint with refresh-token rotation; rate limits). Its credentials, all overridable below: the long-lived
access token, the OAuth app's client id and secret, an initial refresh token (rotated on first use, as
Outreach does) and an authorization code; the start line prints them with the base URL and token URL."""

EPILOG = """\
example: chain calls against one sandbox (state survives between calls):
  outreach-connector sandbox --port 8090 &
  export OUTREACH_BASE_URL=http://127.0.0.1:8090/api/v2 OUTREACH_ACCESS_TOKEN=sandbox-access-token
  outreach-connector call create_stage '{"attributes": {"name": "Demo"}}'"""


def parser(prog: str = "python -m outreach_sandbox") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=_Formatter)
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    p.add_argument("--port", type=int, default=8090, help="port; 0 picks a free one")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated data (same seed, same records)")
    p.add_argument("--prospects", type=int, default=40, help="seeded prospects (generated lazily: 50000 is fine)")
    p.add_argument("--accounts", type=int, default=12, help="seeded accounts")
    p.add_argument("--users", type=int, default=8, help="seeded users")
    p.add_argument("--rate-limit", type=int, default=10000, help="requests per window per access token")
    p.add_argument("--rate-window", type=float, default=3600, help="rate-limit window, seconds")
    p.add_argument("--access-token-ttl", type=float, default=7200,
                   help="lifetime in seconds of access tokens the token endpoint mints")
    p.add_argument("--client-id", default="sandbox-client-id", help="the OAuth app's client id")
    p.add_argument("--client-secret", default="sandbox-client-secret", help="the OAuth app's client secret")
    p.add_argument("--refresh-token", default="sandbox-refresh-token",
                   help="initial refresh token (rotated on first use)")
    p.add_argument("--authorization-code", default="sandbox-auth-code",
                   help="the authorization code the token endpoint accepts (reusable)")
    p.add_argument("--access-token", default="sandbox-access-token",
                   help="long-lived access token; '' disables it")
    p.add_argument("--no-auth", action="store_true", help="accept requests without a bearer token")
    p.add_argument("--fixed-clock", action="store_true",
                   help="deterministic clock (one second per request) instead of the wall clock")
    return p


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every default and keeps the description's line breaks; wide enough not to split a default."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=34, width=110)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.nargs == 0 and action.default is False:  # a switch: "off", not Python's False
            return f"{action.help} (default: off)"
        return super()._get_help_string(action)


def config_from(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        seed=args.seed, prospects=args.prospects, accounts=args.accounts, users=args.users,
        rate_limit=args.rate_limit, rate_window=args.rate_window, access_token_ttl=args.access_token_ttl,
        client_id=args.client_id, client_secret=args.client_secret, refresh_token=args.refresh_token,
        authorization_code=args.authorization_code, access_token=args.access_token or None,
        require_auth=not args.no_auth,
        clock=None if args.fixed_clock else time.time,
    )


def main(argv: list[str] | None = None, prog: str = "python -m outreach_sandbox") -> int:
    """Command-line entry point (also called by ``outreach-connector sandbox``, which passes its own ``prog``)."""
    args = parser(prog).parse_args(argv)
    try:
        serve(config_from(args), args.host, args.port)
    except OSError as exc:
        print(f"{prog}: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0

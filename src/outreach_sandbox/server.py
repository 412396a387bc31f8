"""Serving the sandbox over HTTP with uvicorn: the command line, ``serve`` and a background server for tests.

``python -m outreach_sandbox --port 8090`` prints the base URL (``http://127.0.0.1:8090/api/v2``) and serves
until interrupted. A served sandbox uses the wall clock unless ``--fixed-clock`` is given, so ``Retry-After``
and token expiry mean real seconds to a client on the other side of the socket.
"""
from __future__ import annotations

import argparse
import socket
import sys
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
    print(f"Outreach sandbox at {url} (token endpoint {url.removesuffix('/api/v2')}/oauth/token)", flush=True)
    _uvicorn(sandbox).run(sockets=[sock])


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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="outreach_sandbox", description="Serve the Outreach API sandbox.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--prospects", type=int, default=40)
    p.add_argument("--accounts", type=int, default=12)
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--rate-limit", type=int, default=10000, help="requests per window per access token")
    p.add_argument("--rate-window", type=float, default=3600, help="seconds")
    p.add_argument("--access-token-ttl", type=float, default=7200, help="seconds, for tokens the endpoint mints")
    p.add_argument("--client-id", default="sandbox-client-id")
    p.add_argument("--client-secret", default="sandbox-client-secret")
    p.add_argument("--refresh-token", default="sandbox-refresh-token")
    p.add_argument("--access-token", default="sandbox-access-token", help="long-lived token; '' disables it")
    p.add_argument("--no-auth", action="store_true", help="accept requests without a bearer token")
    p.add_argument("--fixed-clock", action="store_true", help="deterministic clock instead of the wall clock")
    return p


def config_from(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        seed=args.seed, prospects=args.prospects, accounts=args.accounts, users=args.users,
        rate_limit=args.rate_limit, rate_window=args.rate_window, access_token_ttl=args.access_token_ttl,
        client_id=args.client_id, client_secret=args.client_secret, refresh_token=args.refresh_token,
        access_token=args.access_token or None, require_auth=not args.no_auth,
        clock=None if args.fixed_clock else time.time,
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (also called by ``outreach-connector sandbox``)."""
    args = parser().parse_args(argv)
    try:
        serve(config_from(args), args.host, args.port)
    except OSError as exc:
        print(f"outreach_sandbox: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0

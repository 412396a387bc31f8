"""Server configuration from flags, then environment variables, then defaults."""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path
from typing import Any, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from outreach_connector.mcp.tools import DEFAULT_PRESET as MCP_DEFAULT_PRESET
from outreach_connector.server.opening import DEFAULT_DATABASE
from outreach_connector.server.store_sql import redact_url
from outreach_connector.settings import (DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, MAX_RETRY_WAIT_HELP, Settings,
                                         with_process_plugins)
from outreach_connector.urls import plain_http_url

MIB = 1024 * 1024
DEFAULT_AUTHORIZE_URL = "https://api.outreach.io/oauth/authorize"
NO_API_KEY = ("refusing to start without an API key: pass --api-key KEY (repeatable) or set "
              "OUTREACH_CONNECTOR_API_KEYS=key1,key2; every request must then send 'Authorization: Bearer KEY'")
MIN_API_KEY_LENGTH = 16
SHORT_API_KEY = (f"refusing an API key shorter than {MIN_API_KEY_LENGTH} characters (a short key can be guessed); "
                 "generate one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\"")


class ServerSettings(BaseModel):
    """Everything the Connectors API server needs; secrets stay out of its repr."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    api_keys: tuple[SecretStr, ...] = ()
    database: Path | str = Path(DEFAULT_DATABASE)  # a SQLite path, or a postgresql:// URL
    encryption_key: SecretStr | None = None
    # Keys being rotated out: still opened, and what they sealed is re-sealed with encryption_key at start-up.
    previous_encryption_keys: tuple[SecretStr, ...] = ()
    outreach_base_url: str = DEFAULT_BASE_URL
    token_url: str = DEFAULT_TOKEN_URL
    # Token URLs a stored credential may name besides token_url (an operator's allow-list, never a client's).
    allowed_token_urls: tuple[str, ...] = ()
    log_level: str = "info"
    max_body_bytes: int = Field(MIB, ge=1024, le=1024 * MIB)
    max_json_depth: int = Field(64, ge=4, le=512)
    # Array items and object members in one request body: what the parse and the validation cost is per item.
    max_json_items: int = Field(20_000, ge=100)
    # Sessions (one per used authentication) kept in memory: least recently used beyond max_sessions, and any
    # idle longer than session_idle_seconds, are dropped (and rebuilt from the store when used again).
    max_sessions: int = Field(1000, ge=1)
    session_idle_seconds: float = Field(900.0, gt=0)
    # A cached session is re-read from the store when used this long after its last check: the bound on how
    # long a delete made on another replica leaves it working here (0: check on every call).
    session_check_seconds: float = Field(5.0, ge=0, le=3600)
    max_upstream_connections: int = Field(100, ge=1)
    header_timeout: float = Field(10.0, gt=0)
    max_connections: int = Field(1000, ge=1)
    # The host's Outreach app, for connecting accounts through the consent flow (server/consent.py).
    oauth_client_id: str | None = Field(None, min_length=1, max_length=2048)
    oauth_client_secret: SecretStr | None = None
    authorize_url: str = DEFAULT_AUTHORIZE_URL
    public_url: str | None = None  # the server's external base URL; the redirect URI is <public_url>/oauth/callback
    allowed_return_urls: tuple[str, ...] = ()
    # OAuth authentications not refreshed for this long are refreshed by serve (0: never); Outreach's refresh
    # tokens lapse after 14 days unused. The scan runs every keep_alive_interval seconds (jittered), refreshing
    # keep_alive_batch authentications at a time.
    keep_alive_days: float = Field(7.0, ge=0, le=13)
    keep_alive_interval: float = Field(3600.0, gt=0)
    keep_alive_batch: int = Field(5, ge=1, le=100)
    # The MCP tools /mcp serves: a preset (all, seed, read) or comma-separated operation names.
    mcp_tools: str = MCP_DEFAULT_PRESET
    # Per connection and per tenant (API key), so one client or one tenant cannot hold what others need.
    body_timeout: float = Field(10.0, gt=0, le=3600)  # the whole request body, counted from its headers
    send_timeout: float = Field(30.0, gt=0, le=3600)  # a client reading nothing of an answer this long is dropped
    max_sending_per_key: int = Field(20, ge=1)  # requests of one key still sending their body
    max_upstream_per_key: int = Field(20, ge=1)  # Outreach requests of one key in flight at once
    max_records_per_call: int = Field(10_000, ge=1, le=1_000_000)  # records in one paginated answer
    max_answer_bytes: int = Field(32 * MIB, ge=64 * 1024, le=1024 * MIB)  # JSON bytes of records in one answer
    max_authentications_per_key: int = Field(1000, ge=1)
    # Triggers (server/subscriptions.py): events kept this long; poll-mode subscriptions polled this often;
    # pushes to a callback URL (only to one on the allow-list) retried this long before delivery_failed.
    event_retention_days: float = Field(7.0, gt=0, le=365)
    poll_interval: float = Field(60.0, ge=1, le=86400)
    allowed_callback_urls: tuple[str, ...] = ()
    delivery_retry_hours: float = Field(24.0, gt=0, le=24 * 30)
    # How every Outreach call is made (timeouts, retry budget, plugins): the connector's own settings model.
    # Built in Python (create_app), it still takes the process's plugin choice, as a keyword-built Connector does.
    connector: Settings = Field(default_factory=with_process_plugins)

    def __repr_args__(self):
        """The database URL's password is masked (the other secrets are SecretStr)."""
        for name, value in super().__repr_args__():
            yield name, (redact_url(value) if name == "database" and isinstance(value, str) else value)

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: object) -> object:
        """A postgresql:// URL stays text; anything else is a SQLite path."""
        if isinstance(value, str) and not value.startswith(("postgresql://", "postgres://")):
            return Path(value)
        return value

    @field_validator("allowed_token_urls", mode="before")
    @classmethod
    def _urls(cls, value: object) -> tuple[str, ...]:
        urls = tuple(value) if isinstance(value, (list, tuple)) else (value,) if isinstance(value, str) else ()
        for url in urls:
            if not plain_http_url(url):
                raise ValueError("an allowed token URL must be an absolute http(s) URL without user info")
        return tuple(url.rstrip("/") for url in urls)

    @field_validator("authorize_url", "public_url", "allowed_return_urls", "allowed_callback_urls", mode="before")
    @classmethod
    def _app_urls(cls, value: object, info: Any) -> object:
        for url in (value if isinstance(value, (list, tuple)) else (value,)):
            if url is not None and not plain_http_url(url):
                raise ValueError(f"{info.field_name}: must be an absolute http(s) URL without user info or fragment")
        if info.field_name == "public_url" and isinstance(value, str):
            return value.rstrip("/")
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _app_needs_public_url(self) -> "ServerSettings":
        if (self.oauth_client_id is None) != (self.oauth_client_secret is None):
            raise ValueError("the Outreach app needs both --oauth-client-id and --oauth-client-secret")
        if self.oauth_client_id is not None and self.public_url is None:
            raise ValueError("refusing to start with an Outreach app but no --public-url: the redirect URI "
                             "registered with Outreach is <public-url>/oauth/callback")
        return self

    @property
    def has_oauth_app(self) -> bool:
        return self.oauth_client_id is not None

    @property
    def trusted_token_urls(self) -> frozenset[str]:
        return frozenset((self.token_url.rstrip("/"), *self.allowed_token_urls))

    @model_validator(mode="after")
    def _one_key_cannot_fill_the_pool(self) -> "ServerSettings":
        if self.max_upstream_connections > 1 and self.max_upstream_per_key >= self.max_upstream_connections:
            raise ValueError(f"max_upstream_per_key ({self.max_upstream_per_key}) must be below "
                             f"max_upstream_connections ({self.max_upstream_connections}): one API key must not "
                             "be able to take every connection to Outreach")
        return self

    @model_validator(mode="after")
    def _one_outreach(self) -> "ServerSettings":
        """The Outreach URLs are server flags; the connector settings carry the same ones, never others."""
        urls = {"base_url": self.outreach_base_url.rstrip("/"), "token_url": self.token_url.rstrip("/")}
        if any(getattr(self.connector, k) != v for k, v in urls.items()):
            object.__setattr__(self, "connector", Settings.from_env(env={}, **{**dict(self.connector), **urls}))
        return self


class HelpFormatter(argparse.HelpFormatter):
    """A wider option column, and paths and URLs never split at their hyphens."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=110)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outreach-connector serve", formatter_class=HelpFormatter,
        description="Serve the Connectors API (GET /connectors, .../operations, POST .../call, /authentications, "
                    "/editor, /healthz, /readyz, and /mcp: the operations as MCP tools).")
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8080)")
    parser.add_argument("--api-key", action="append", dest="api_keys", metavar="KEY",
                        help="required: a key clients must send as a bearer token; repeatable "
                             "(env OUTREACH_CONNECTOR_API_KEYS, comma-separated)")
    parser.add_argument("--database", help="SQLite file of stored authentications, or a postgresql://user@host/db "
                                           "URL shared by replicas (env OUTREACH_CONNECTOR_DB, default "
                                           "./outreach-connector.db)")
    parser.add_argument("--encryption-key", help="32-byte URL-safe base64 key sealing stored secrets "
                                                 "(env OUTREACH_CONNECTOR_SECRET_KEY; default: a generated "
                                                 "key file next to the database, mode 0600)")
    add_secret_files(parser)
    parser.add_argument("--outreach-base-url", help=f"Outreach API (env OUTREACH_BASE_URL, default {DEFAULT_BASE_URL})")
    parser.add_argument("--token-url",
                        help=f"OAuth token endpoint (env OUTREACH_TOKEN_URL, default {DEFAULT_TOKEN_URL})")
    parser.add_argument("--timeout", help="HTTP timeouts for every Outreach request: seconds, or "
                                          "connect=5,read=60,write=60,pool=5 (env OUTREACH_TIMEOUT; default "
                                          "connect 10 s, read/write 60 s, pool 10 s)")
    parser.add_argument("--max-retry-wait", help=f"{MAX_RETRY_WAIT_HELP} (env OUTREACH_MAX_RETRY_WAIT; default 60)")
    parser.add_argument("--strict-output", action="store_const", const=True, default=None,
                        help="answer output drift (an attribute of an unexpected type) with an error envelope "
                             "instead of the record as Outreach sent it (env OUTREACH_STRICT_OUTPUT; default off: "
                             "drift is logged)")
    parser.add_argument("--allow-token-url", action="append", dest="allowed_token_urls", metavar="URL",
                        help="another OAuth token endpoint a stored credential may name (besides --token-url); "
                             "repeatable (env OUTREACH_CONNECTOR_ALLOWED_TOKEN_URLS, comma-separated)")
    add_limits(parser)
    add_oauth_app(parser)
    add_triggers(parser)
    parser.add_argument("--mcp-tools", metavar="PRESET",
                        help="the MCP tools /mcp serves: all, seed, read, or comma-separated operation names "
                             f"(env OUTREACH_CONNECTOR_MCP_TOOLS; default {MCP_DEFAULT_PRESET}; "
                             "see: outreach-connector mcp --help)")
    parser.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"],
                        help="log level (default info)")
    return parser


def add_secret_files(parser: argparse.ArgumentParser) -> None:
    """Secrets read from files (on the command line, other users see them in ``ps``)."""
    parser.add_argument("--api-key-file", action="append", dest="api_key_files", metavar="PATH",
                        help="a file of API keys, one per line; repeatable (env OUTREACH_CONNECTOR_API_KEYS_FILE)")
    parser.add_argument("--encryption-key-file", metavar="PATH",
                        help="a file holding the encryption key (env OUTREACH_CONNECTOR_SECRET_KEY_FILE)")
    parser.add_argument("--previous-encryption-key-file", action="append", dest="previous_key_files",
                        metavar="PATH", help="rotate the encryption key: a file holding the key being replaced; "
                                             "its secrets are re-encrypted with the new key at start-up and it "
                                             "stays accepted while given; repeatable (env "
                                             "OUTREACH_CONNECTOR_PREVIOUS_SECRET_KEY, comma-separated)")


def add_limits(parser: argparse.ArgumentParser) -> None:
    """The flags that bound what the server holds and accepts."""
    parser.add_argument("--max-body-bytes", type=int, help="largest request body accepted; larger is 413 "
                                                           "(default 1048576)")
    parser.add_argument("--max-sessions", type=int, help="authentications kept ready in memory (default 1000)")
    parser.add_argument("--session-idle-seconds", type=float,
                        help="drop an authentication's session after this long unused (default 900)")
    parser.add_argument("--session-check-seconds", type=float,
                        help="re-check a cached authentication against the store when used this long after the "
                             "last check, so a delete on another replica takes effect here within it (default 5)")
    parser.add_argument("--header-timeout", type=float,
                        help="seconds a client has to send a request's headers (default 10)")
    parser.add_argument("--max-connections", type=int,
                        help="concurrent client connections; beyond it requests get 503 (default 1000)")
    parser.add_argument("--max-json-items", type=int,
                        help="array items and object members in one request body; more is 400 (default 20000)")
    add_tenant_limits(parser)


def add_oauth_app(parser: argparse.ArgumentParser) -> None:
    """The host's Outreach app: connecting accounts (POST /authentications/connect) and keeping them alive."""
    parser.add_argument("--oauth-client-id", help="the host's Outreach app: client id "
                                                  "(env OUTREACH_CONNECTOR_OAUTH_CLIENT_ID)")
    parser.add_argument("--oauth-client-secret", help="the host's Outreach app: client secret "
                                                      "(env OUTREACH_CONNECTOR_OAUTH_CLIENT_SECRET)")
    parser.add_argument("--authorize-url", help=f"Outreach's consent page (default {DEFAULT_AUTHORIZE_URL})")
    parser.add_argument("--public-url", help="this server's external base URL; the redirect URI to register with "
                                             "Outreach is <public-url>/oauth/callback (required with an app)")
    parser.add_argument("--allow-return-url", action="append", dest="allowed_return_urls", metavar="URL",
                        help="where a connect flow may send the browser back (scheme, host, port and path must "
                             "equal; its own query is kept); repeatable")
    parser.add_argument("--keep-alive-days", type=float,
                        help="refresh OAuth authentications not refreshed for this many days, so Outreach's "
                             "14-day refresh tokens never lapse (default 7; 0 turns it off)")


def add_triggers(parser: argparse.ArgumentParser) -> None:
    """Subscriptions to Outreach events (POST /authentications/{id}/subscriptions)."""
    parser.add_argument("--event-retention-days", type=float,
                        help="keep received events this many days; an older 'after' cursor is 410 (default 7)")
    parser.add_argument("--poll-interval", type=float,
                        help="seconds between two polls of a poll-mode subscription (default 60)")
    parser.add_argument("--allow-callback-url", action="append", dest="allowed_callback_urls", metavar="URL",
                        help="a URL events may be pushed to (a subscription's callback_url must equal one in "
                             "scheme, host, port and path); repeatable")
    parser.add_argument("--delivery-retry-hours", type=float,
                        help="keep retrying a push this long before the subscription shows delivery_failed "
                             "(default 24)")


# Per-connection and per-tenant limits: flag, type, environment variable, help (the default is the field's).
TENANT_LIMITS = {
    "body_timeout": ("--body-timeout", float, "OUTREACH_CONNECTOR_BODY_TIMEOUT",
                     "seconds a client has to send a whole request body, from its headers; then 408 and the "
                     "connection closes"),
    "send_timeout": ("--send-timeout", float, "OUTREACH_CONNECTOR_SEND_TIMEOUT",
                     "a client that reads nothing of an answer for this many seconds is disconnected"),
    "max_sending_per_key": ("--max-sending-per-key", int, "OUTREACH_CONNECTOR_MAX_SENDING_PER_KEY",
                            "requests one API key may have still sending their body; beyond it 429"),
    "max_upstream_per_key": ("--max-upstream-per-key", int, "OUTREACH_CONNECTOR_MAX_UPSTREAM_PER_KEY",
                             "Outreach requests one API key may have in flight; beyond it a call waits within "
                             "--max-retry-wait, then 429 (must be below the upstream pool's 100)"),
    "max_records_per_call": ("--max-records-per-call", int, "OUTREACH_CONNECTOR_MAX_RECORDS_PER_CALL",
                             "records one paginated call gathers; beyond it the answer stops at a page with "
                             "meta.truncated and meta.next_page_after"),
    "max_answer_bytes": ("--max-answer-bytes", int, "OUTREACH_CONNECTOR_MAX_ANSWER_BYTES",
                         "JSON bytes of records one paginated call gathers; beyond it the answer is truncated "
                         "the same way"),
    "max_authentications_per_key": ("--max-authentications-per-key", int,
                                    "OUTREACH_CONNECTOR_MAX_AUTHENTICATIONS_PER_KEY",
                                    "authentications one API key may store; beyond it POST /authentications is 409"),
}


def add_tenant_limits(parser: argparse.ArgumentParser) -> None:
    for name, (flag, kind, env_name, text) in TENANT_LIMITS.items():
        default = ServerSettings.model_fields[name].default
        shown = default if isinstance(default, int) else f"{default:g}"
        parser.add_argument(flag, type=kind, dest=name, help=f"{text} (env {env_name}; default {shown})")


def tenant_limits(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str | float | int]:
    """The tenant limits given as flags or, failing that, in the environment (checked by the model)."""
    chosen: dict[str, str | float | int] = {}
    for name, (_, _, env_name, _) in TENANT_LIMITS.items():
        value = getattr(args, name)
        if value is None:
            value = env.get(env_name)
        if value is not None:
            chosen[name] = value
    return chosen


def settings_from(argv: Sequence[str] | None, env: Mapping[str, str] | None = None) -> ServerSettings:
    """Flags win over the environment, which wins over the defaults."""
    env = os.environ if env is None else env
    args = build_parser().parse_args(None if argv is None else _glued(argv))
    env_keys = _listed(env, "OUTREACH_CONNECTOR_API_KEYS")
    key_files = args.api_key_files or _listed(env, "OUTREACH_CONNECTOR_API_KEYS_FILE")
    file_keys = [key for path in key_files for key in _read_secret(path, "--api-key-file").splitlines()
                 if key.strip()]
    key_file = args.encryption_key_file or env.get("OUTREACH_CONNECTOR_SECRET_KEY_FILE")
    previous = [_read_secret(path, "--previous-encryption-key-file") for path in args.previous_key_files or ()]
    chosen = {
        "host": args.host,
        "port": args.port,
        "api_keys": tuple(args.api_keys or [key.strip() for key in file_keys] or env_keys) or None,
        "database": args.database or env.get("OUTREACH_CONNECTOR_DB"),
        "encryption_key": args.encryption_key or (key_file and _read_secret(key_file, "--encryption-key-file"))
        or env.get("OUTREACH_CONNECTOR_SECRET_KEY"),
        "previous_encryption_keys": tuple(previous or _listed(env, "OUTREACH_CONNECTOR_PREVIOUS_SECRET_KEY")) or None,
        "outreach_base_url": args.outreach_base_url or env.get("OUTREACH_BASE_URL"),
        "token_url": args.token_url or env.get("OUTREACH_TOKEN_URL"),
        "allowed_token_urls": tuple(args.allowed_token_urls or _listed(env, "OUTREACH_CONNECTOR_ALLOWED_TOKEN_URLS"))
        or None,
        "log_level": args.log_level,
        "max_body_bytes": args.max_body_bytes,
        "max_sessions": args.max_sessions,
        "session_idle_seconds": args.session_idle_seconds,
        "session_check_seconds": args.session_check_seconds,
        "header_timeout": args.header_timeout,
        "max_connections": args.max_connections,
        "max_json_items": args.max_json_items,
        "oauth_client_id": args.oauth_client_id or env.get("OUTREACH_CONNECTOR_OAUTH_CLIENT_ID"),
        "oauth_client_secret": args.oauth_client_secret or env.get("OUTREACH_CONNECTOR_OAUTH_CLIENT_SECRET"),
        "authorize_url": args.authorize_url,
        "public_url": args.public_url,
        "allowed_return_urls": tuple(args.allowed_return_urls or ()) or None,
        "keep_alive_days": args.keep_alive_days,
        "mcp_tools": args.mcp_tools or env.get("OUTREACH_CONNECTOR_MCP_TOOLS"),
        "event_retention_days": args.event_retention_days,
        "poll_interval": args.poll_interval,
        "allowed_callback_urls": tuple(args.allowed_callback_urls or ()) or None,
        "delivery_retry_hours": args.delivery_retry_hours,
    }
    chosen = {key: value for key, value in chosen.items() if value is not None}
    chosen.update(tenant_limits(args, env))
    chosen["connector"] = Settings.from_env(env, base_url=chosen.get("outreach_base_url"),
                                            token_url=chosen.get("token_url"), timeout=args.timeout,
                                            max_retry_wait=args.max_retry_wait, strict_output=args.strict_output)
    return ServerSettings(**chosen)


def _listed(env: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in env.get(name, "").split(",") if item.strip()]


_SECRET_FLAGS = ("--api-key", "--encryption-key")


def _glued(argv: Sequence[str]) -> list[str]:
    """``--encryption-key VALUE`` as ``--encryption-key=VALUE``: a key issued before keys stopped starting with
    ``-`` would otherwise read as an unknown option."""
    glued: list[str] = []
    items = iter(argv)
    for item in items:
        if item in _SECRET_FLAGS:
            value = next(items, None)
            glued.append(item if value is None else f"{item}={value}")
        else:
            glued.append(item)
    return glued


def _read_secret(path: str, flag: str) -> str:
    """A secret file's text, stripped; an unreadable file is one line naming the flag and the path."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ValueError(f"{flag} {path}: cannot read it ({reason})") from None


def check_api_keys(keys: Sequence[str]) -> None:
    """Every API key long enough not to be guessed; raises ValueError (the key itself is never shown)."""
    if any(len(key) < MIN_API_KEY_LENGTH for key in keys):
        raise ValueError(SHORT_API_KEY)


def secrets_on_argv(argv: Sequence[str]) -> str | None:
    """One warning line when secrets came on the command line (``ps`` shows them to every local user)."""
    given = [flag for flag in _SECRET_FLAGS if any(a == flag or a.startswith(flag + "=") for a in argv)]
    database = [a for a in argv if a.startswith(("postgresql://", "postgres://", "--database=postgres"))]
    if any(redact_url(url) != url for url in database):
        given.append("a password in --database")
    if not given:
        return None
    return (f"warning: {', '.join(given)} on the command line can be read by other users (ps); use "
            "--api-key-file, --encryption-key-file, the environment, or PGPASSWORD for the database password")


def warn_about_secrets_on_argv(argv: Sequence[str] | None) -> None:
    warning = secrets_on_argv(sys.argv[1:] if argv is None else argv)
    if warning:
        print(f"outreach-connector serve: {warning}", file=sys.stderr)

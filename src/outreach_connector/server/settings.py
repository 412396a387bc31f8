"""Server configuration: flags, then environment variables, then defaults (pydantic-settings layers them).

Every ``serve`` flag is one row of :data:`OPTIONS` (flag, setting, help); the variable and the default each
row shows come from the setting's field, where they are declared once. Comma-separated variables fill the
settings a repeatable flag fills.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence, get_args

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ..environment import LayeredSettings, layered
from ..mcp.tools import DEFAULT_PRESET as MCP_DEFAULT_PRESET
from .opening import DEFAULT_DATABASE
from .store_sql import redact_url
from ..settings import (DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, ENVIRONMENT, MAX_RETRY_WAIT_HELP,
                                         Settings, variable, with_process_plugins)
from ..urls import plain_http_url

MIB = 1024 * 1024
LogLevel = Literal["critical", "error", "warning", "info", "debug"]
DEFAULT_AUTHORIZE_URL = "https://api.outreach.io/oauth/authorize"
NO_API_KEY = ("refusing to start without an API key: pass --api-key KEY (repeatable) or set "
              "OUTREACH_CONNECTOR_API_KEYS=key1,key2; every request must then send 'Authorization: Bearer KEY'")
MIN_API_KEY_LENGTH = 16
SHORT_API_KEY = (f"refusing an API key shorter than {MIN_API_KEY_LENGTH} characters (a short key can be guessed); "
                 "generate one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\"")


class ServerSettings(LayeredSettings):
    """Everything the Connectors API server needs; secrets stay out of its repr.

    Built in Python it reads one variable, the process's plugin choice (as a keyword-built ``Connector``
    does); ``settings_from`` reads them all."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True,
                                      loc_by_alias=False)
    host: str = variable("OUTREACH_CONNECTOR_HOST", "127.0.0.1")
    port: int = variable("OUTREACH_CONNECTOR_PORT", 8080, ge=0, le=65535)
    api_keys: tuple[SecretStr, ...] = variable("OUTREACH_CONNECTOR_API_KEYS", ())
    database: Path | str = variable("OUTREACH_CONNECTOR_DB", Path(DEFAULT_DATABASE))  # SQLite, or postgresql://
    encryption_key: SecretStr | None = variable("OUTREACH_CONNECTOR_SECRET_KEY")
    # Keys being rotated out: still opened, and what they sealed is re-sealed with encryption_key at start-up.
    previous_encryption_keys: tuple[SecretStr, ...] = variable("OUTREACH_CONNECTOR_PREVIOUS_SECRET_KEY", ())
    outreach_base_url: str = variable(ENVIRONMENT["base_url"], DEFAULT_BASE_URL)
    token_url: str = variable(ENVIRONMENT["token_url"], DEFAULT_TOKEN_URL)
    # Token URLs a stored credential may name besides token_url (an operator's allow-list, never a client's).
    allowed_token_urls: tuple[str, ...] = variable("OUTREACH_CONNECTOR_ALLOWED_TOKEN_URLS", ())
    log_level: LogLevel = variable("OUTREACH_CONNECTOR_LOG_LEVEL", "info")
    max_body_bytes: int = variable("OUTREACH_CONNECTOR_MAX_BODY_BYTES", MIB, ge=1024, le=1024 * MIB)
    max_json_depth: int = Field(64, ge=4, le=512)
    # Array items and object members in one request body: what the parse and the validation cost is per item.
    max_json_items: int = variable("OUTREACH_CONNECTOR_MAX_JSON_ITEMS", 20_000, ge=100)
    # Sessions (one per used authentication) kept in memory: least recently used beyond max_sessions, and any
    # idle longer than session_idle_seconds, are dropped (and rebuilt from the store when used again).
    max_sessions: int = variable("OUTREACH_CONNECTOR_MAX_SESSIONS", 1000, ge=1)
    session_idle_seconds: float = variable("OUTREACH_CONNECTOR_SESSION_IDLE_SECONDS", 900.0, gt=0)
    # A cached session is re-read from the store when used this long after its last check: the bound on how
    # long a delete made on another replica leaves it working here (0: check on every call).
    session_check_seconds: float = variable("OUTREACH_CONNECTOR_SESSION_CHECK_SECONDS", 5.0, ge=0, le=3600)
    max_upstream_connections: int = Field(100, ge=1)
    header_timeout: float = variable("OUTREACH_CONNECTOR_HEADER_TIMEOUT", 10.0, gt=0)
    max_connections: int = variable("OUTREACH_CONNECTOR_MAX_CONNECTIONS", 1000, ge=1)
    # The host's Outreach app, for connecting accounts through the consent flow (server/consent.py).
    oauth_client_id: str | None = variable("OUTREACH_CONNECTOR_OAUTH_CLIENT_ID", min_length=1, max_length=2048)
    oauth_client_secret: SecretStr | None = variable("OUTREACH_CONNECTOR_OAUTH_CLIENT_SECRET")
    authorize_url: str = variable("OUTREACH_AUTHORIZE_URL", DEFAULT_AUTHORIZE_URL)  # as auth login --browser reads it
    # The server's external base URL; the redirect URI is <public_url>/oauth/callback.
    public_url: str | None = variable("OUTREACH_CONNECTOR_PUBLIC_URL")
    allowed_return_urls: tuple[str, ...] = variable("OUTREACH_CONNECTOR_ALLOWED_RETURN_URLS", ())
    # OAuth authentications not refreshed for this long are refreshed by serve (0: never); Outreach's refresh
    # tokens lapse after 14 days unused. The scan runs every keep_alive_interval seconds (jittered), refreshing
    # keep_alive_batch authentications at a time.
    keep_alive_days: float = variable("OUTREACH_CONNECTOR_KEEP_ALIVE_DAYS", 7.0, ge=0, le=13)
    keep_alive_interval: float = Field(3600.0, gt=0)
    keep_alive_batch: int = Field(5, ge=1, le=100)
    # The MCP tools /mcp serves: a preset (all, seed, read) or comma-separated operation names.
    mcp_tools: str = variable("OUTREACH_CONNECTOR_MCP_TOOLS", MCP_DEFAULT_PRESET)
    # Per connection and per tenant (API key), so one client or one tenant cannot hold what others need.
    body_timeout: float = variable("OUTREACH_CONNECTOR_BODY_TIMEOUT", 10.0, gt=0, le=3600)  # from the headers
    send_timeout: float = variable("OUTREACH_CONNECTOR_SEND_TIMEOUT", 30.0, gt=0, le=3600)  # a client reading nothing
    max_sending_per_key: int = variable("OUTREACH_CONNECTOR_MAX_SENDING_PER_KEY", 20, ge=1)  # bodies being sent
    max_upstream_per_key: int = variable("OUTREACH_CONNECTOR_MAX_UPSTREAM_PER_KEY", 20, ge=1)  # Outreach requests
    max_records_per_call: int = variable("OUTREACH_CONNECTOR_MAX_RECORDS_PER_CALL", 10_000, ge=1, le=1_000_000)
    max_answer_bytes: int = variable("OUTREACH_CONNECTOR_MAX_ANSWER_BYTES", 32 * MIB, ge=64 * 1024, le=1024 * MIB)
    max_authentications_per_key: int = variable("OUTREACH_CONNECTOR_MAX_AUTHENTICATIONS_PER_KEY", 1000, ge=1)
    # Triggers (server/subscriptions.py): events kept this long; poll-mode subscriptions polled this often;
    # pushes to a callback URL (only to one on the allow-list) retried this long before delivery_failed.
    event_retention_days: float = variable("OUTREACH_CONNECTOR_EVENT_RETENTION_DAYS", 7.0, gt=0, le=365)
    poll_interval: float = variable("OUTREACH_CONNECTOR_POLL_INTERVAL", 60.0, ge=1, le=86400)
    allowed_callback_urls: tuple[str, ...] = variable("OUTREACH_CONNECTOR_ALLOWED_CALLBACK_URLS", ())
    delivery_retry_hours: float = variable("OUTREACH_CONNECTOR_DELIVERY_RETRY_HOURS", 24.0, gt=0, le=24 * 30)
    # How every Outreach call is made (timeouts, retry budget, plugins): the connector's own settings model,
    # carrying the server's Outreach URLs (see _one_outreach).
    connector: Settings = Field(default_factory=Settings)

    @classmethod
    def built_in_python(cls, settings_cls: type[BaseSettings]) -> PydanticBaseSettingsSource:
        """A server built in Python reads no variable but the process's plugin choice (``settings_from`` reads
        the environment)."""
        return ProcessPluginChoice(settings_cls)

    def __repr_args__(self):
        """The database URL's password is masked (the other secrets are SecretStr)."""
        for name, value in super().__repr_args__():
            yield name, (redact_url(value) if name == "database" and isinstance(value, str) else value)

    @field_validator("api_keys", "previous_encryption_keys", "allowed_token_urls", "allowed_return_urls",
                     "allowed_callback_urls", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """A variable's text is a comma-separated list (spaces and empty items dropped)."""
        return tuple(_listed(value)) if isinstance(value, str) else value

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: object) -> object:
        """A postgresql:// URL stays text; anything else is a SQLite path."""
        if isinstance(value, str) and not value.startswith(("postgresql://", "postgres://")):
            return Path(value)
        return value

    @field_validator("allowed_token_urls")
    @classmethod
    def _urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not plain_http_url(url):
                raise ValueError("an allowed token URL must be an absolute http(s) URL without user info")
        return tuple(url.rstrip("/") for url in urls)

    @field_validator("authorize_url", "public_url", "allowed_return_urls", "allowed_callback_urls")
    @classmethod
    def _app_urls(cls, value: Any, info: ValidationInfo) -> Any:
        for url in (value if isinstance(value, tuple) else (value,)):
            if url is not None and not plain_http_url(url):
                raise ValueError(f"{info.field_name}: must be an absolute http(s) URL without user info or fragment")
        return value.rstrip("/") if info.field_name == "public_url" and isinstance(value, str) else value

    @field_validator("connector")
    @classmethod
    def _one_outreach(cls, connector: Settings, info: ValidationInfo) -> Settings:
        """The Outreach URLs are server settings; the connector settings carry the same ones, never others."""
        if "outreach_base_url" not in info.data or "token_url" not in info.data:
            return connector  # one of them is invalid, and its own error says so
        urls = {"base_url": info.data["outreach_base_url"].rstrip("/"), "token_url": info.data["token_url"].rstrip("/")}
        if all(getattr(connector, name) == url for name, url in urls.items()):
            return connector
        return Settings.from_env(env={}, **{**dict(connector), **urls})

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


class ProcessPluginChoice(PydanticBaseSettingsSource):
    """The connector settings of a server built in Python: the defaults and ``OUTREACH_CONNECTOR_PLUGINS``."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {} if "connector" in self.current_state else {"connector": with_process_plugins()}


@dataclass(frozen=True)
class Option:
    """One ``serve`` flag and the setting it fills; the variable and the default its help names are the field's.

    ``setting`` is a ServerSettings field, or ``connector.<field>`` for the connector's own settings. A
    ``file_variable`` option's flag names files holding the secret (one per line when ``repeatable``), and so
    does that variable; the setting's own variable holds the secret itself."""

    flag: str
    setting: str
    help: str
    kind: Callable[[str], Any] | None = None  # argparse's type; the model checks the value either way
    repeatable: bool = False  # the flag repeats; its variable is comma-separated
    metavar: str | None = None
    file_variable: str | None = None
    shown_default: str | None = None  # the default in words, when the field's value does not say it
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    def value(self, given: Any) -> Any:
        """What the flag (or its file variable) gives the setting: the secret read from files, a list a tuple."""
        if self.file_variable is not None:
            texts = [_read_secret(path, self.flag) for path in (given if self.repeatable else [given])]
            given = [line.strip() for text in texts for line in text.splitlines() if line.strip()] \
                if self.repeatable else texts[0]
        return tuple(given) if self.repeatable else given


LIMIT = "; beyond it"  # how the tenant limits say what a client then sees
OPTIONS = (
    Option("--host", "host", "interface to listen on"),
    Option("--port", "port", "port", kind=int),
    Option("--api-key", "api_keys", "required: a key clients must send as a bearer token", repeatable=True,
           metavar="KEY"),
    Option("--database", "database", "SQLite file of stored authentications, or a postgresql://user@host/db URL "
           "shared by replicas", shown_default="./outreach-connector.db"),
    Option("--encryption-key", "encryption_key", "32-byte URL-safe base64 key sealing stored secrets",
           shown_default="a generated key file next to the database, mode 0600"),
    # Secrets read from files (on the command line, other users see them in ps).
    Option("--api-key-file", "api_keys", "a file of API keys, one per line", repeatable=True, metavar="PATH",
           file_variable="OUTREACH_CONNECTOR_API_KEYS_FILE"),
    Option("--encryption-key-file", "encryption_key", "a file holding the encryption key", metavar="PATH",
           file_variable="OUTREACH_CONNECTOR_SECRET_KEY_FILE"),
    Option("--previous-encryption-key-file", "previous_encryption_keys", "rotate the encryption key: a file "
           "holding the key being replaced (or the keys themselves in OUTREACH_CONNECTOR_PREVIOUS_SECRET_KEY, "
           "comma-separated); its secrets are re-encrypted with the new key at start-up and it stays accepted while "
           "given",
           repeatable=True, metavar="PATH", file_variable="OUTREACH_CONNECTOR_PREVIOUS_SECRET_KEY_FILE"),
    Option("--outreach-base-url", "outreach_base_url", "Outreach API"),
    Option("--token-url", "token_url", "OAuth token endpoint"),
    Option("--timeout", "connector.timeout", "HTTP timeouts for every Outreach request: seconds, or "
           "connect=5,read=60,write=60,pool=5", shown_default="connect 10 s, read/write 60 s, pool 10 s"),
    Option("--max-retry-wait", "connector.max_retry_wait", MAX_RETRY_WAIT_HELP),
    Option("--strict-output", "connector.strict_output", "answer output drift (an attribute of an unexpected type) "
           "with an error envelope instead of the record as Outreach sent it", kind=bool,
           shown_default="off: drift is logged"),
    Option("--allow-token-url", "allowed_token_urls", "another OAuth token endpoint a stored credential may name "
           "(besides --token-url)", repeatable=True, metavar="URL"),
    # What the server holds and accepts.
    Option("--max-body-bytes", "max_body_bytes", "largest request body accepted; larger is 413", kind=int),
    Option("--max-sessions", "max_sessions", "authentications kept ready in memory", kind=int),
    Option("--session-idle-seconds", "session_idle_seconds", "drop an authentication's session after this long "
           "unused", kind=float),
    Option("--session-check-seconds", "session_check_seconds", "re-check a cached authentication against the store "
           "when used this long after the last check, so a delete on another replica takes effect here within it",
           kind=float),
    Option("--header-timeout", "header_timeout", "seconds a client has to send a request's headers", kind=float),
    Option("--max-connections", "max_connections", "concurrent client connections; beyond it requests get 503",
           kind=int),
    Option("--max-json-items", "max_json_items", "array items and object members in one request body; more is 400",
           kind=int),
    # Per connection and per tenant (API key).
    Option("--body-timeout", "body_timeout", "seconds a client has to send a whole request body, from its headers; "
           "then 408 and the connection closes", kind=float),
    Option("--send-timeout", "send_timeout", "a client that reads nothing of an answer for this many seconds is "
           "disconnected", kind=float),
    Option("--max-sending-per-key", "max_sending_per_key", f"requests one API key may have still sending their "
           f"body{LIMIT} 429", kind=int),
    Option("--max-upstream-per-key", "max_upstream_per_key", f"Outreach requests one API key may have in "
           f"flight{LIMIT} a call waits within --max-retry-wait, then 429; must be below the upstream pool's 100",
           kind=int),
    Option("--max-records-per-call", "max_records_per_call", f"records one paginated call gathers{LIMIT} the "
           "answer stops at a page with meta.truncated and meta.next_page_after", kind=int),
    Option("--max-answer-bytes", "max_answer_bytes", f"JSON bytes of records one paginated call gathers{LIMIT} "
           "the answer is truncated the same way", kind=int),
    Option("--max-authentications-per-key", "max_authentications_per_key", f"authentications one API key may "
           f"store{LIMIT} POST /authentications is 409", kind=int),
    # The host's Outreach app: connecting accounts (POST /authentications/connect) and keeping them alive.
    Option("--oauth-client-id", "oauth_client_id", "the host's Outreach app: client id"),
    Option("--oauth-client-secret", "oauth_client_secret", "the host's Outreach app: client secret"),
    Option("--authorize-url", "authorize_url", "Outreach's consent page"),
    Option("--public-url", "public_url", "this server's external base URL; the redirect URI to register with "
           "Outreach is <public-url>/oauth/callback (required with an app)"),
    Option("--allow-return-url", "allowed_return_urls", "where a connect flow may send the browser back (scheme, "
           "host, port and path must equal; its own query is kept)", repeatable=True, metavar="URL"),
    Option("--keep-alive-days", "keep_alive_days", "refresh OAuth authentications not refreshed for this many days, "
           "so Outreach's 14-day refresh tokens never lapse; 0 turns it off", kind=float),
    # Subscriptions to Outreach events (POST /authentications/{id}/subscriptions).
    Option("--event-retention-days", "event_retention_days", "keep received events this many days; an older "
           "'after' cursor is 410", kind=float),
    Option("--poll-interval", "poll_interval", "seconds between two polls of a poll-mode subscription", kind=float),
    Option("--allow-callback-url", "allowed_callback_urls", "a URL events may be pushed to (a subscription's "
           "callback_url must equal one in scheme, host, port and path)", repeatable=True, metavar="URL"),
    Option("--delivery-retry-hours", "delivery_retry_hours", "keep retrying a push this long before the "
           "subscription shows delivery_failed", kind=float),
    Option("--mcp-tools", "mcp_tools", "the MCP tools /mcp serves: all, seed, read, or comma-separated operation "
           "names; see: outreach-connector mcp --help", metavar="PRESET"),
    Option("--log-level", "log_level", "log level", choices=get_args(LogLevel)),
)


def field_of(setting: str) -> Any:
    """The pydantic field a setting names (``connector.<name>``: the connector's own)."""
    model, name = (Settings, setting.removeprefix("connector.")) if setting.startswith("connector.") \
        else (ServerSettings, setting)
    return model.model_fields[name]


def help_text(option: Option) -> str:
    """The row's help, then its variable and its default, both read from the field."""
    field = field_of(option.setting)
    name = option.file_variable or (field.validation_alias if isinstance(field.validation_alias, str) else None)
    notes = [f"env {name}{', comma-separated' if option.repeatable else ''}"] if name else []
    default = option.shown_default or shown(field.default)
    if default and option.file_variable is None:
        notes.append(f"default {default}")
    text = f"{option.help}; repeatable" if option.repeatable else option.help
    return f"{text} ({'; '.join(notes)})" if notes else text


def shown(default: Any) -> str | None:
    """A default as help prints it: 900.0 as 900; none for an unset or empty one."""
    if default is None or default == () or isinstance(default, bool):
        return None
    return f"{default:g}" if isinstance(default, float) else str(default)


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
    for option in OPTIONS:
        parser.add_argument(option.flag, dest=option.dest, help=help_text(option), **argument(option))
    return parser


def argument(option: Option) -> dict[str, Any]:
    """argparse's keywords for one row: an on/off flag, a repeatable one, or one taking a value."""
    if option.kind is bool:
        return {"action": "store_const", "const": True, "default": None}
    how: dict[str, Any] = {"action": "append"} if option.repeatable else {"type": option.kind}
    return {**how, "metavar": option.metavar, "choices": option.choices}


def settings_from(argv: Sequence[str] | None, env: Mapping[str, str] | None = None) -> ServerSettings:
    """Flags win over the environment, which wins over the defaults."""
    env = os.environ if env is None else env
    args = build_parser().parse_args(None if argv is None else _glued(argv))
    given = flag_settings(args, env)
    connector = {name.removeprefix("connector."): given.pop(name) for name in list(given)
                 if name.startswith("connector.")}
    # The server's Outreach URLs are the connector's too: a flag giving one also hides its variable from it.
    connector.update(base_url=given.get("outreach_base_url"), token_url=given.get("token_url"))
    given["connector"] = Settings.from_env(env, **connector)
    return layered(ServerSettings, env, given)


def flag_settings(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    """The settings the flags give (of two flags for one setting the first wins: --api-key over --api-key-file),
    then those whose files a variable names (under every flag, over the variables holding the secret itself)."""
    given: dict[str, Any] = {}
    for option in OPTIONS:
        value = getattr(args, option.dest)
        if value not in (None, "") and option.setting not in given:
            given[option.setting] = option.value(value)
    for option in OPTIONS:
        paths = env.get(option.file_variable) if option.file_variable else None
        if paths and option.setting not in given:
            given[option.setting] = option.value(_listed(paths) if option.repeatable else paths)
    return given


def _listed(text: str) -> list[str]:
    """A comma-separated variable's items."""
    return [item.strip() for item in text.split(",") if item.strip()]


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

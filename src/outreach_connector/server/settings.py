"""Server configuration from flags, then environment variables, then defaults."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from outreach_connector.server.credentials import DEFAULT_DATABASE
from outreach_connector.settings import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, Settings
NO_API_KEY = ("refusing to start without an API key: pass --api-key KEY (repeatable) or set "
              "OUTREACH_CONNECTOR_API_KEYS=key1,key2; every request must then send 'Authorization: Bearer KEY'")


class ServerSettings(BaseModel):
    """Everything the Connectors API server needs; secrets stay out of its repr."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    api_keys: tuple[SecretStr, ...] = ()
    database: Path = DEFAULT_DATABASE
    encryption_key: SecretStr | None = None
    outreach_base_url: str = DEFAULT_BASE_URL
    token_url: str = DEFAULT_TOKEN_URL
    log_level: str = "info"
    # How every Outreach call is made (timeouts, retry budget, plugins): the connector's own settings model.
    connector: Settings = Field(default_factory=Settings)

    @model_validator(mode="after")
    def _one_outreach(self) -> "ServerSettings":
        """The Outreach URLs are server flags; the connector settings carry the same ones, never others."""
        urls = {"base_url": self.outreach_base_url.rstrip("/"), "token_url": self.token_url.rstrip("/")}
        if any(getattr(self.connector, k) != v for k, v in urls.items()):
            object.__setattr__(self, "connector", Settings.from_env(env={}, **{**dict(self.connector), **urls}))
        return self


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outreach-connector serve",
        description="Serve the Connectors API (GET /connectors, .../operations, POST .../call, /authentications).")
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8080)")
    parser.add_argument("--api-key", action="append", dest="api_keys", metavar="KEY",
                        help="a key clients must send as a bearer token; repeatable "
                             "(env OUTREACH_CONNECTOR_API_KEYS, comma-separated)")
    parser.add_argument("--database", help="SQLite file of stored authentications "
                                           "(env OUTREACH_CONNECTOR_DB, default ./outreach-connector.db)")
    parser.add_argument("--encryption-key", help="32-byte URL-safe base64 key sealing stored secrets "
                                                 "(env OUTREACH_CONNECTOR_SECRET_KEY; default: a generated "
                                                 "key file next to the database, mode 0600)")
    parser.add_argument("--outreach-base-url", help=f"Outreach API (env OUTREACH_BASE_URL, default {DEFAULT_BASE_URL})")
    parser.add_argument("--token-url", help=f"OAuth token endpoint (env OUTREACH_TOKEN_URL, default {DEFAULT_TOKEN_URL})")
    parser.add_argument("--timeout", help="HTTP timeouts for every Outreach request: seconds, or "
                                          "connect=5,read=60,write=60,pool=5 (env OUTREACH_TIMEOUT; default "
                                          "connect 10 s, read/write 60 s, pool 10 s)")
    parser.add_argument("--max-retry-wait", help="seconds one call may spend waiting between retries "
                                                 "(env OUTREACH_MAX_RETRY_WAIT; default 60)")
    parser.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"],
                        help="log level (default info)")
    return parser


def settings_from(argv: Sequence[str] | None, env: Mapping[str, str] | None = None) -> ServerSettings:
    """Flags win over the environment, which wins over the defaults."""
    env = os.environ if env is None else env
    args = build_parser().parse_args(argv)
    env_keys = [k.strip() for k in env.get("OUTREACH_CONNECTOR_API_KEYS", "").split(",") if k.strip()]
    chosen = {
        "host": args.host,
        "port": args.port,
        "api_keys": tuple(args.api_keys or env_keys) or None,
        "database": args.database or env.get("OUTREACH_CONNECTOR_DB"),
        "encryption_key": args.encryption_key or env.get("OUTREACH_CONNECTOR_SECRET_KEY"),
        "outreach_base_url": args.outreach_base_url or env.get("OUTREACH_BASE_URL"),
        "token_url": args.token_url or env.get("OUTREACH_TOKEN_URL"),
        "log_level": args.log_level,
    }
    chosen = {key: value for key, value in chosen.items() if value is not None}
    chosen["connector"] = Settings.from_env(env, base_url=chosen.get("outreach_base_url"),
                                            token_url=chosen.get("token_url"), timeout=args.timeout,
                                            max_retry_wait=args.max_retry_wait)
    return ServerSettings(**chosen)

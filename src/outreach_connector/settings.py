"""One settings model for the Python API, the CLI and the server: read once, flags beating the environment.

    Settings.from_env()                       # OUTREACH_* variables, then defaults
    Settings.from_env(timeout="5")            # a flag (or keyword) wins; the environment's value is not read
    Settings(access_token="...")              # or built directly

A bad value raises :class:`SettingsInvalid` naming the setting and where it came from (the CLI prints it as
JSON on stderr with exit status 2). Secrets are ``SecretStr``: they never show in a repr or an error.
"""
from __future__ import annotations

import os
import re
from typing import Any, Mapping

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

# Re-exported for the old import path: errors.py holds every error class.
from .errors import SettingsInvalid as SettingsInvalid
from .header_values import header_problem
from .urls import plain_http_url
from .wire import DEFAULT_TIMEOUT, RetryPolicy, parse_timeout

DEFAULT_BASE_URL = "https://api.outreach.io/api/v2"
DEFAULT_TOKEN_URL = "https://api.outreach.io/oauth/token"
# What --max-retry-wait bounds (retry.Attempts.spent), said once for the CLI's and the server's help.
MAX_RETRY_WAIT_HELP = ("seconds each request to Outreach (each page on its own) may take from its first try "
                       "until it gives up: waits between attempts (backoff, Retry-After, rate-limit pacing), "
                       "failed attempts (timeouts included) and waits for a token refresh all count; no attempt "
                       "starts once they are spent, so a request ends within this plus one attempt's timeouts")

# setting -> the environment variable it is read from
ENVIRONMENT = {
    "base_url": "OUTREACH_BASE_URL",
    "access_token": "OUTREACH_ACCESS_TOKEN",
    "client_id": "OUTREACH_CLIENT_ID",
    "client_secret": "OUTREACH_CLIENT_SECRET",
    "refresh_token": "OUTREACH_REFRESH_TOKEN",
    "token_url": "OUTREACH_TOKEN_URL",
    "timeout": "OUTREACH_TIMEOUT",
    "max_retry_wait": "OUTREACH_MAX_RETRY_WAIT",
    "plugins": "OUTREACH_CONNECTOR_PLUGINS",
    "strict_output": "OUTREACH_STRICT_OUTPUT",
    "pause_gc_on_large_bodies": "OUTREACH_PAUSE_GC_ON_LARGE_BODIES",
}

PLUGIN_LIST = re.compile(r"^(all|none|[A-Za-z0-9_.\-]+(\s*,\s*[A-Za-z0-9_.\-]+)*)$")


class Settings(BaseModel):
    """Where Outreach is, how to authenticate, how long to wait, which plugins load, how strict outputs are."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    base_url: str = DEFAULT_BASE_URL
    access_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    token_url: str = DEFAULT_TOKEN_URL
    timeout: httpx.Timeout = DEFAULT_TIMEOUT
    max_retry_wait: float = Field(60.0, gt=0, le=86400, description=MAX_RETRY_WAIT_HELP)
    plugins: str = Field("all", description="third-party plugins to load: all, none, or entry-point names")
    strict_output: bool = False
    pause_gc_on_large_bodies: bool = False

    @field_validator("base_url", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not plain_http_url(value):
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator("access_token", "client_id", "client_secret", "refresh_token")
    @classmethod
    def _sendable(cls, value: SecretStr | str | None) -> SecretStr | str | None:
        """A credential HTTP can carry, checked here so a pasted space fails at start-up, not on every call."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        problem = None if text is None else header_problem(text)
        if problem is not None:
            raise ValueError(problem)  # the message never holds the value
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> httpx.Timeout:
        if isinstance(value, httpx.Timeout):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError("give seconds (30) or connect=5,read=60,write=60,pool=5")
        return parse_timeout(value)

    @field_validator("plugins")
    @classmethod
    def _plugins(cls, value: str) -> str:
        if not PLUGIN_LIST.match(value.strip()):
            raise ValueError("give all, none, or a comma-separated list of plugin entry-point names")
        return ",".join(part.strip() for part in value.split(","))

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(max_total_wait=self.max_retry_wait)

    @property
    def plugin_names(self) -> tuple[str, ...] | None:
        """None for all installed plugins, () for none, else the chosen entry-point names."""
        if self.plugins == "all":
            return None
        return () if self.plugins == "none" else tuple(self.plugins.split(","))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """The environment, then ``overrides`` (flags or keywords; ``None`` means "not given") on top."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {name: env[var] for name, var in ENVIRONMENT.items() if env.get(var)}
        given = {name: value for name, value in overrides.items() if value is not None}
        values.update(given)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SettingsInvalid([_problem(error, given) for error in exc.errors()]) from None


def with_process_plugins(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """``overrides`` on the defaults, with the process's plugin choice (``OUTREACH_CONNECTOR_PLUGINS``): it holds
    even for a ``Connector`` or a server built from keywords, which read no other variable."""
    env = os.environ if env is None else env
    return Settings.from_env({"OUTREACH_CONNECTOR_PLUGINS": env.get("OUTREACH_CONNECTOR_PLUGINS", "")}, **overrides)


def plugins_from_env(env: Mapping[str, str] | None = None) -> tuple[str, ...] | None:
    """The process's plugin choice, for listing operations, which reads no other setting."""
    return with_process_plugins(env).plugin_names


def _problem(error: Any, given: Mapping[str, Any]) -> dict[str, str]:
    """One pydantic error as {path, message}: the path names where the value came from, never the value."""
    name = str(error["loc"][0]) if error["loc"] else "settings"
    if name in given:
        source = f"{name} (--{name.replace('_', '-')})"
    else:
        source = f"{name} ({ENVIRONMENT[name]})" if name in ENVIRONMENT else name
    message = str(error["msg"]).removeprefix("Value error, ")
    return {"path": source, "message": message}

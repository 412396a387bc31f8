"""One settings model for the Python API, the CLI and the server: read once, flags beating the environment.

    Settings.from_env()                       # OUTREACH_* variables, then defaults
    Settings.from_env(timeout="5")            # a flag (or keyword) wins; the environment's value is not read
    Settings(access_token="...")              # or built directly: keywords and defaults, no variable read

Each field names its variable (``variable``); ``from_env`` has pydantic-settings layer the keywords above the
environment (see :mod:`.environment`). A bad value raises :class:`SettingsInvalid` naming the setting and
where it came from (the CLI prints it as JSON on stderr with exit status 2). Secrets are ``SecretStr``: they
never show in a repr or an error.
"""
from __future__ import annotations

import os
import re
from typing import Any, Callable, Mapping

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
PLUGINS_VARIABLE = "OUTREACH_CONNECTOR_PLUGINS"

PLUGIN_LIST = re.compile(r"^(all|none|[A-Za-z0-9_.\-]+(\s*,\s*[A-Za-z0-9_.\-]+)*)$")


def variable(name: str, default: Any = None, **constraints: Any) -> Any:
    """A field read from the environment variable ``name`` (exactly that name: case matters, empty is unset)."""
    return Field(default, validation_alias=name, **constraints)


class Settings(BaseModel):
    """Where Outreach is, how to authenticate, how long to wait, which plugins load, how strict outputs are."""

    # validate_by_name: built from keywords; by alias: from the variables; errors name the field either way.
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True, validate_by_name=True,
                              validate_by_alias=True, loc_by_alias=False)

    base_url: str = variable("OUTREACH_BASE_URL", DEFAULT_BASE_URL)
    access_token: SecretStr | None = variable("OUTREACH_ACCESS_TOKEN")
    client_id: str | None = variable("OUTREACH_CLIENT_ID")
    client_secret: SecretStr | None = variable("OUTREACH_CLIENT_SECRET")
    refresh_token: SecretStr | None = variable("OUTREACH_REFRESH_TOKEN")
    token_url: str = variable("OUTREACH_TOKEN_URL", DEFAULT_TOKEN_URL)
    timeout: httpx.Timeout = variable("OUTREACH_TIMEOUT", DEFAULT_TIMEOUT)
    max_retry_wait: float = variable("OUTREACH_MAX_RETRY_WAIT", 60.0, gt=0, le=86400, description=MAX_RETRY_WAIT_HELP)
    plugins: str = variable(PLUGINS_VARIABLE, "all",
                            description="third-party plugins to load: all, none, or entry-point names")
    strict_output: bool = variable("OUTREACH_STRICT_OUTPUT", False)
    pause_gc_on_large_bodies: bool = variable("OUTREACH_PAUSE_GC_ON_LARGE_BODIES", False)

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
        """The environment (``os.environ`` unless given), then ``overrides`` (flags or keywords; ``None`` means
        "not given") on top. A variable under a given override is never parsed."""
        from .environment import connector_settings  # pydantic-settings: only readers of an environment import it

        return _built(lambda given: connector_settings(env, given), overrides)


# setting -> the environment variable it is read from (declared on the fields above)
ENVIRONMENT: dict[str, str] = {name: str(field.validation_alias) for name, field in Settings.model_fields.items()}


def with_process_plugins(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """``overrides`` on the defaults, with the process's plugin choice (``OUTREACH_CONNECTOR_PLUGINS``): it holds
    even for a ``Connector`` or a server built from keywords, which read no other variable."""
    # One variable, read here: the cold start of a keyword-built Connector imports no pydantic-settings.
    choice = (os.environ if env is None else env).get(PLUGINS_VARIABLE)
    return _built(lambda given: Settings(**({"plugins": choice, **given} if choice else given)), overrides)


def _built(make: Callable[[dict[str, Any]], Settings], overrides: Mapping[str, Any]) -> Settings:
    """``make`` given the overrides that were given (``None`` means "not given"); a refusal as
    ``SettingsInvalid`` naming each setting and where its value came from."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return make(given)
    except ValidationError as exc:
        raise SettingsInvalid([_problem(error, given) for error in exc.errors()]) from None


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

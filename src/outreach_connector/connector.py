"""The Python API: ``Connector(base_url=..., access_token=...)``, ``.operations()``, ``.call()``, ``.acall()``.

A ``Connector`` is a thin session: its settings, its credentials and its HTTP clients. The catalogue
(plugins, entries, compiled validators) belongs to the process and is shared by every ``Connector``;
listing and describing operations needs no credentials (``operations()`` and ``describe()`` below).
"""
from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Mapping

import httpx

from .catalogue_folders import load_manifest
from .client import BearerToken, ClientConfig, Sender
from .dispatcher import Dispatcher
from .drift import DriftMonitor, DriftReport
from .errors import CredentialsMissing
from .handlers import CallContext
from .labels import LabelCache
from .pagination import AnswerBound
from .registry import Registry, get_plugin_manager, shared_registry
from .retry import RetryPolicy
from .settings import ENVIRONMENT, Settings, plugins_from_env, with_process_plugins

DYNAMIC_OUTPUT_KINDS = frozenset({"execute_link", "raw_http"})
NO_CREDENTIALS = ("no Outreach credentials: set OUTREACH_ACCESS_TOKEN, or OUTREACH_CLIENT_ID, "
                  "OUTREACH_CLIENT_SECRET and OUTREACH_REFRESH_TOKEN (or pass access_token= / client_id=, "
                  "client_secret=, refresh_token=); nothing was sent")


class MissingCredentials(httpx.Auth):
    """Stands in for credentials nobody gave: a call fails before any byte is sent; listing still works."""

    def auth_flow(self, request: httpx.Request):
        raise CredentialsMissing(NO_CREDENTIALS)
        yield request  # pragma: no cover  (makes this a generator, as httpx expects)


def oauth_auth(settings: Settings, on_token_refresh: Callable | None) -> httpx.Auth:
    from .oauth import OAuthRefreshAuth  # only hosts that refresh tokens pay for the import

    secret = settings.client_secret.get_secret_value() if settings.client_secret else ""
    access = settings.access_token.get_secret_value() if settings.access_token else None
    assert settings.refresh_token is not None
    return OAuthRefreshAuth(client_id=settings.client_id or "", client_secret=secret,
                            refresh_token=settings.refresh_token.get_secret_value(), token_url=settings.token_url,
                            access_token=access, on_refresh=on_token_refresh,
                            max_token_wait=settings.max_retry_wait)  # the calls' retry budget, as in serve


def choose_auth(settings: Settings, on_token_refresh: Callable | None) -> httpx.Auth:
    if settings.refresh_token is not None:
        if not (settings.client_id and settings.client_secret):
            raise CredentialsMissing("an OAuth refresh token needs its client_id and client_secret "
                                     "(OUTREACH_CLIENT_ID, OUTREACH_CLIENT_SECRET); nothing was sent")
        return oauth_auth(settings, on_token_refresh)
    if settings.access_token is not None:
        return BearerToken(settings.access_token.get_secret_value())
    return MissingCredentials()


def merged_settings(settings: Settings | None, given: Mapping[str, Any]) -> Settings:
    """``settings`` (or the defaults) with the keywords given to ``Connector`` on top, validated once."""
    chosen = {name: value for name, value in given.items() if value is not None}
    if settings is None:  # keywords only; the one process-wide choice, which plugins load, still holds
        return with_process_plugins(**chosen)
    if not chosen:
        return settings
    return Settings.from_env(env={}, **{**dict(settings), **chosen})


def registry_for(settings: Settings, plugins: Iterable[Any], entry_points: bool) -> Registry:
    """The process-wide registry, unless the caller brings plugin objects of its own."""
    plugins = tuple(plugins)
    if not plugins:
        return shared_registry(settings.plugin_names if entry_points else ())
    return Registry(get_plugin_manager(plugins, entry_points=entry_points, names=settings.plugin_names))


def describe(name: str, registry: Registry | None = None) -> dict[str, Any]:
    """One operation with its schemas; no credentials needed."""
    entry = (registry or shared_registry(plugins_from_env()))[name]
    spec = entry.spec
    return {"name": spec.name, "kind": spec.kind, "origin": entry.origin, "title": spec.title,
            "description": spec.description, "input_schema": entry.input_schema, "output_schema": entry.output_schema,
            "has_dynamic_output": spec.kind in DYNAMIC_OUTPUT_KINDS}


def operations(registry: Registry | None = None) -> list[dict[str, Any]]:
    """Every registered operation (DDLs included) with its schemas; no credentials needed."""
    registry = registry or shared_registry(plugins_from_env())
    return [describe(entry.spec.name, registry) for entry in registry]


def resumed(input: dict[str, Any], after: str | None) -> dict[str, Any]:
    return input if after is None else {**input, "page_after": after}


class Connector:
    """Runs the Outreach operations. Credentials never appear in its repr or in error messages."""

    def __init__(self, base_url: str | None = None, access_token: str | None = None, *,
                 client_id: str | None = None, client_secret: str | None = None,
                 refresh_token: str | None = None, token_url: str | None = None,
                 settings: Settings | None = None, on_token_refresh: Callable | None = None,
                 auth: httpx.Auth | None = None, transport: Any = None, timeout: Any = None,
                 retry: RetryPolicy | None = None, plugins: Iterable[Any] = (), entry_points: bool = True,
                 strict_output: bool | None = None, on_drift: Callable[[DriftReport], None] | None = None) -> None:
        self.settings = merged_settings(settings, {
            "base_url": base_url, "access_token": access_token, "client_id": client_id,
            "client_secret": client_secret, "refresh_token": refresh_token, "token_url": token_url,
            "timeout": timeout, "strict_output": strict_output})
        self.base_url = self.settings.base_url
        self.registry = registry_for(self.settings, plugins, entry_points)
        config = ClientConfig(self.base_url, auth or choose_auth(self.settings, on_token_refresh), transport,
                              self.settings.timeout)
        self.sender = Sender(config, retry or self.settings.retry,
                             pause_gc=self.settings.pause_gc_on_large_bodies)
        self.drift = DriftMonitor(self.settings.strict_output, on_drift)
        self.labels = LabelCache()  # the dropdowns' label indexes: the session's, read with its credentials
        self.dispatcher = Dispatcher(self.registry, self.sender, CallContext(self.base_url, self.labels), self.drift)

    @property
    def answer_bound(self) -> AnswerBound | None:
        """A host's bound on what one ``call`` with ``paginate`` gathers (the server sets it per session); None:
        only the caller's ``max_records``. ``iterate`` streams, and is never bounded by it."""
        return self.dispatcher.answer_bound

    @answer_bound.setter
    def answer_bound(self, bound: AnswerBound | None) -> None:
        self.dispatcher.answer_bound = bound

    @property
    def manifest(self) -> dict[str, Any]:
        return load_manifest().model_dump()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Connector":
        """Configuration from ``OUTREACH_*`` environment variables; keyword arguments win."""
        settings_keys = {k: overrides.pop(k) for k in list(overrides) if k in ENVIRONMENT}
        return cls(settings=Settings.from_env(env, **settings_keys), **overrides)

    def __repr__(self) -> str:
        return f"Connector(base_url={self.base_url!r}, operations={len(self.registry)})"

    @property
    def drift_counts(self) -> dict[tuple[str, str], int]:
        """Attribute values returned despite not fitting their schema, by (operation, attribute path)."""
        return dict(self.drift.counts)

    def operations(self) -> list[dict[str, Any]]:
        """Every registered operation with its schemas, DDLs included."""
        return operations(self.registry)

    def describe(self, name: str) -> dict[str, Any]:
        return describe(name, self.registry)

    def triggers(self) -> list[dict[str, Any]]:
        """Every trigger (an Outreach webhook event) with its schemas; no credentials needed."""
        from .triggers import described

        return [described(trigger) for trigger in self.registry.triggers()]

    def parse_event(self, body: bytes, headers: Any) -> dict[str, Any]:
        """The event a webhook delivery carries (verify it first: ``webhooks.verify(secret, body, headers)``)."""
        from .triggers import parse_event

        return parse_event(body, headers)

    def poll(self, trigger: str, input: Any = None, since: Any = None, **options: Any) -> tuple[list[dict], str]:
        """Events of ``trigger`` after ``since`` (a bookmark from the last poll, a date-time, or None for the
        beginning), oldest first, and the bookmark to pass next time (``triggers.poll`` has the options)."""
        from .triggers import poll

        return poll(self, trigger, input, since, **options)

    def validate(self, name: str, input: Any) -> None:
        """Raise InputInvalid / UnsafeURL / UnknownOperation exactly as ``call`` would, sending nothing."""
        self.dispatcher.prepare(name, input)

    def call(self, name: str, input: Any = None) -> Any:
        return self.dispatcher.drive(name, {} if input is None else input)

    async def acall(self, name: str, input: Any = None) -> Any:
        return await self.dispatcher.adrive(name, {} if input is None else input)

    def iterate(self, name: str, input: dict[str, Any], after: str | None = None) -> Iterator[Any]:
        """Every record of a list operation, page after page (only one page is held at a time).

        ``after`` resumes from a cursor, such as ``error.partial.resume_from`` of a walk that failed.
        """
        return self.dispatcher.walk(*self.dispatcher.pages(name, resumed(input, after)))

    def aiterate(self, name: str, input: dict[str, Any], after: str | None = None) -> AsyncIterator[Any]:
        return self.dispatcher.awalk(*self.dispatcher.pages(name, resumed(input, after)))

    def close(self) -> None:
        self.sender.close()

    async def aclose(self) -> None:
        await self.sender.aclose()

    def __enter__(self) -> "Connector":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> "Connector":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

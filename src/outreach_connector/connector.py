"""The Python API: ``Connector(base_url=..., access_token=...)``, ``.operations()``, ``.call()``, ``.acall()``."""
from __future__ import annotations

import os
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Mapping

import httpx

from .catalog import load_manifest
from .client import DEFAULT_TIMEOUT, BearerToken, ClientConfig, Sender
from .dispatcher import Dispatcher
from .drift import DriftMonitor, DriftReport
from .errors import AuthError, InputInvalid, UpstreamError
from .handlers import Context
from .pagination import CursorPaginator, collected, keeps_partial
from .registry import Registry, get_plugin_manager
from .retry import RetryPolicy
from .validation import schema_of

DEFAULT_BASE_URL = "https://api.outreach.io/api/v2"
DEFAULT_TOKEN_URL = "https://api.outreach.io/oauth/token"
DYNAMIC_OUTPUT_KINDS = frozenset({"execute_link", "raw_http"})


def oauth_auth(client_id: str, client_secret: str, refresh_token: str, token_url: str | None,
               access_token: str | None, on_token_refresh: Callable | None) -> httpx.Auth:
    from .oauth import OAuthRefreshAuth  # only hosts that refresh tokens pay for the import

    return OAuthRefreshAuth(client_id=client_id, client_secret=client_secret, refresh_token=refresh_token,
                            token_url=token_url or DEFAULT_TOKEN_URL, access_token=access_token,
                            on_refresh=on_token_refresh)


def choose_auth(access_token: str | None, auth: httpx.Auth | None, oauth: dict[str, Any]) -> httpx.Auth:
    if auth is not None:
        return auth
    if oauth.get("refresh_token"):
        if not (oauth.get("client_id") and oauth.get("client_secret")):
            raise AuthError(401, [], message="OAuth refresh needs client_id and client_secret")
        return oauth_auth(access_token=access_token, **oauth)
    if access_token:
        return BearerToken(access_token)
    raise AuthError(401, [], message="no Outreach credentials: give access_token, OAuth refresh credentials "
                                     "(client_id, client_secret, refresh_token) or auth")


def transport_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """``OUTREACH_TIMEOUT`` (seconds, or ``connect=5,read=60``) and ``OUTREACH_MAX_RETRY_WAIT`` (seconds)."""
    from .retry import RetryPolicy, parse_timeout, positive

    settings: dict[str, Any] = {}
    if env.get("OUTREACH_TIMEOUT"):
        settings["timeout"] = parse_timeout(env["OUTREACH_TIMEOUT"])
    if env.get("OUTREACH_MAX_RETRY_WAIT"):
        settings["retry"] = RetryPolicy(max_total_wait=positive(float(env["OUTREACH_MAX_RETRY_WAIT"])))
    return settings


def resumed(input: dict[str, Any], after: str | None) -> dict[str, Any]:
    return input if after is None else {**input, "page_after": after}


class Connector:
    """Runs the Outreach operations. Credentials never appear in its repr or in error messages."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, access_token: str | None = None, *,
                 client_id: str | None = None, client_secret: str | None = None,
                 refresh_token: str | None = None, token_url: str | None = None,
                 on_token_refresh: Callable | None = None, auth: httpx.Auth | None = None,
                 transport: Any = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, plugins: Iterable[Any] = (), entry_points: bool = True,
                 strict_output: bool = False, on_drift: Callable[[DriftReport], None] | None = None) -> None:
        oauth = {"client_id": client_id, "client_secret": client_secret, "refresh_token": refresh_token,
                 "token_url": token_url, "on_token_refresh": on_token_refresh}
        self.base_url = base_url.rstrip("/")
        self.manifest = load_manifest().model_dump()
        self.registry = Registry(get_plugin_manager(plugins, entry_points=entry_points))
        config = ClientConfig(self.base_url, choose_auth(access_token, auth, oauth), transport, timeout)
        self.sender = Sender(config, retry)
        self.drift = DriftMonitor(strict_output, on_drift)
        self.dispatcher = Dispatcher(self.registry, self.sender, Context(self.base_url), self.drift)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Connector":
        """Configuration from ``OUTREACH_*`` environment variables; keyword arguments win."""
        env = os.environ if env is None else env
        names = {"base_url": "OUTREACH_BASE_URL", "access_token": "OUTREACH_ACCESS_TOKEN",
                 "client_id": "OUTREACH_CLIENT_ID", "client_secret": "OUTREACH_CLIENT_SECRET",
                 "refresh_token": "OUTREACH_REFRESH_TOKEN", "token_url": "OUTREACH_TOKEN_URL"}
        settings: dict[str, Any] = {key: env[var] for key, var in names.items() if env.get(var)}
        settings.update(transport_settings(env))
        return cls(**{**settings, **overrides})

    def __repr__(self) -> str:
        return f"Connector(base_url={self.base_url!r}, operations={len(self.registry)})"

    @property
    def drift_counts(self) -> dict[tuple[str, str], int]:
        """Attribute values returned despite not fitting their schema, by (operation, attribute path)."""
        return dict(self.drift.counts)

    def operations(self) -> list[dict[str, Any]]:
        """Every registered operation with its schemas, DDLs included."""
        return [self.describe(entry.spec.name) for entry in self.registry]

    def describe(self, name: str) -> dict[str, Any]:
        spec = self.registry[name].spec
        return {"name": spec.name, "kind": spec.kind, "title": spec.title, "description": spec.description,
                "input_schema": schema_of(spec.input_schema), "output_schema": schema_of(spec.output_schema),
                "has_dynamic_output": spec.kind in DYNAMIC_OUTPUT_KINDS}

    def validate(self, name: str, input: Any) -> None:
        """Raise InputInvalid / UnsafeURL / UnknownOperation exactly as ``call`` would, sending nothing."""
        self.dispatcher.prepare(name, input)

    def call(self, name: str, input: Any = None) -> Any:
        data = {} if input is None else input
        if isinstance(data, dict) and data.get("paginate"):
            paginator, records = self._paginator(name, data), []
            with keeps_partial(paginator, records):
                for record in self._walk(name, paginator):
                    records.append(record)
            return collected(records, paginator)
        return self.dispatcher.call(name, data)

    async def acall(self, name: str, input: Any = None) -> Any:
        data = {} if input is None else input
        if isinstance(data, dict) and data.get("paginate"):
            paginator, records = self._paginator(name, data), []
            with keeps_partial(paginator, records):
                async for record in self._awalk(name, paginator):
                    records.append(record)
            return collected(records, paginator)
        return await self.dispatcher.acall(name, data)

    def iterate(self, name: str, input: dict[str, Any], after: str | None = None) -> Iterator[Any]:
        """Every record of a list operation, page after page (only one page is held at a time).

        ``after`` resumes from a cursor, such as ``error.partial.resume_from`` of a walk that failed.
        """
        return self._walk(name, self._paginator(name, resumed(input, after)))

    def aiterate(self, name: str, input: dict[str, Any], after: str | None = None) -> AsyncIterator[Any]:
        return self._awalk(name, self._paginator(name, resumed(input, after)))

    def _paginator(self, name: str, input: dict[str, Any]) -> CursorPaginator:
        self.dispatcher.validate(name, input)
        if self.registry[name].spec.kind != "list":
            raise InputInvalid(name, [{"path": "paginate", "message": "only list operations paginate"}])
        return CursorPaginator.for_input(input)

    # The walks hold no name for a page: the previous page is freed before the next is fetched, so at most
    # one page (plus the record the caller holds) is alive at a time.
    def _walk(self, name: str, paginator: CursorPaginator) -> Iterator[Any]:
        with keeps_partial(paginator):
            while not paginator.done:
                yield from self._page(name, paginator)

    async def _awalk(self, name: str, paginator: CursorPaginator) -> AsyncIterator[Any]:
        with keeps_partial(paginator):
            while not paginator.done:
                for record in await self._apage(name, paginator):
                    yield record

    def _page(self, name: str, paginator: CursorPaginator) -> list[Any]:
        try:
            page = self.dispatcher.call(name, paginator.page_input, shrinkable=paginator.shrinkable)
        except UpstreamError as error:
            paginator.shrink(error)
            return []
        return paginator.take(page)

    async def _apage(self, name: str, paginator: CursorPaginator) -> list[Any]:
        try:
            page = await self.dispatcher.acall(name, paginator.page_input, shrinkable=paginator.shrinkable)
        except UpstreamError as error:
            paginator.shrink(error)
            return []
        return paginator.take(page)

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

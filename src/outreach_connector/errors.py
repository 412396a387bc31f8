"""Every error the connector raises, under one base class.

    ConnectorError
    ├── UnknownOperation        no operation of that name is registered
    │   └── UnknownTrigger      no trigger of that name is registered (triggers.py)
    ├── RegistryError           a plugin registered a duplicate or malformed operation/handler
    │   └── PluginError         a plugin (named) or one of its files could not be loaded or checked
    ├── SettingsInvalid         a setting (flag, keyword or OUTREACH_* variable) is unusable (settings.py)
    ├── ExtraMissing            a command needs a package only an extra installs (extras.py)
    ├── CredentialsMissing      a call needs Outreach credentials and none were given (nothing was sent)
    ├── InputInvalid            the input does not fit the operation's input schema (no request was sent)
    ├── UnsafeURL               a link or full URL points outside the configured Outreach API origin
    ├── OutputInvalid           Outreach answered, but not in the documented shape (carries the raw response)
    ├── AuthError               Outreach rejected the credentials (401) and refreshing did not help
    │   ├── ReconnectRequired   the refresh token is dead: the user must authorise the app again
    │   └── AuthenticationGone  the stored authentication was deleted while a call waited to refresh (oauth.py)
    ├── UpstreamError           Outreach answered with an error status (carries status and all errors[])
    │   ├── PermissionDenied    403: missing OAuth scope or governance denial
    │   ├── NotFound            404
    │   ├── ValidationFailed    422: Outreach refused the data (see errors[].source.pointer)
    │   └── RateLimited         429, or a wait longer than the configured budget
    ├── TransportError          the request could not be completed (timeout, connection dropped)
    │   ├── OutcomeUnknown      a non-idempotent request may or may not have been applied
    │   ├── CredentialUnsendable  a credential HTTP cannot carry (whitespace around it); nothing was sent
    │   └── StoreUnavailable    the server's database did not answer, or not in time (server/store_sql.py)
    ├── PaginationError         Outreach's cursors went nowhere (pagination.RepeatedCursor, StalledPagination)
    │   └── TooManyPages        a walk reached its page cap with Outreach still handing out next links
    ├── BrowserLoginFailed      auth login --browser got no authorization (denied, timed out, exchange refused)
    ├── WebhookSignatureInvalid a webhook delivery's signature is absent or wrong (webhooks.py)
    ├── EventInvalid            a webhook delivery's body is not an Outreach event (triggers.py)
    ├── TenantBusy              the server's cap on one API key's Outreach requests held a call past its budget
    └── (the CLI's own, exit 2) UsageError, InputUnreadable, ConfigurationInvalid, CredentialsFileError (cli/)

Messages never contain access tokens, refresh tokens or client secrets: they are built from status codes,
Outreach's ``errors[]`` and field paths only.
"""
from __future__ import annotations

from typing import Any, Iterable


class ConnectorError(Exception):
    """Base of every error the connector raises."""

    exit_code = 1  # CLI exit status for this family
    partial: Any = None  # a pagination.Partial when the error ended a paginated walk part-way

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """The CLI's error JSON; a walk that failed part-way adds what it had fetched and where to resume."""
        found = {"error": type(self).__name__, "message": self.message}
        return found if self.partial is None else {**found, "partial": dict(vars(self.partial))}


class UnknownOperation(ConnectorError):
    """``suggestions`` holds the known names closest to ``name`` (did-you-mean), when ``known`` was given."""

    exit_code = 2

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        from .suggest import close_names, did_you_mean

        known = list(known)
        super().__init__(f"unknown operation {name!r}{did_you_mean(name, known)}")
        self.name = name
        self.suggestions = close_names(name, known)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "suggestions": self.suggestions}


class RegistryError(ConnectorError):
    pass


class PluginError(RegistryError):
    """A plugin was refused when the catalogue loaded; ``plugin`` and ``file`` say which and where."""

    def __init__(self, plugin: str, problem: str, file: str | None = None) -> None:
        where = f" ({file})" if file else ""
        super().__init__(f"plugin {plugin!r} refused{where}: {problem}{without_plugin_hint(plugin)}")
        self.plugin = plugin
        self.file = file

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "plugin": self.plugin, "file": self.file}


def without_plugin_hint(plugin: str) -> str:
    """How to start without an installed plugin; the built-in one (a module of this package) cannot be left out."""
    if plugin.startswith("outreach_connector."):
        return ""
    return ("; to start without it: OUTREACH_CONNECTOR_PLUGINS=none (no installed plugins), or name the ones to "
            "load, comma-separated")


class CredentialsMissing(ConnectorError):
    """No credentials were configured; raised before any request is sent."""

    exit_code = 2


class InputInvalid(ConnectorError):
    """The input does not fit the schema; ``errors`` lists every offending field path."""

    exit_code = 2

    NAMED_IN_MESSAGE = 10  # the message names the first few; ``errors`` lists up to 100 and counts the rest

    def __init__(self, operation: str, errors: list[dict[str, str]]) -> None:
        lines = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:self.NAMED_IN_MESSAGE])
        if len(errors) > self.NAMED_IN_MESSAGE:
            lines += f"; and more (see errors: {len(errors)} entries)"
        super().__init__(f"invalid input for {operation}: {lines}")
        self.operation = operation
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "errors": self.errors}


class UnsafeURL(ConnectorError):
    """Refused before sending; ``path`` names the input field that held the URL."""

    exit_code = 2

    def __init__(self, message: str, path: str = "input") -> None:
        super().__init__(message)
        self.path = path

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "path": self.path}


class OutputInvalid(ConnectorError):
    """Outreach's answer did not fit the output schema; nothing is lost: ``raw`` holds the parsed body."""

    def __init__(self, operation: str, errors: list[dict[str, str]], raw: Any, status_code: int) -> None:
        lines = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
        super().__init__(f"unexpected response shape from Outreach for {operation}: {lines}")
        self.operation = operation
        self.errors = errors
        self.raw = raw
        self.status_code = status_code

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "errors": self.errors, "status_code": self.status_code, "raw": self.raw}


class UpstreamError(ConnectorError):
    """Outreach answered with an error status; ``errors`` is Outreach's full ``errors[]`` list.

    ``retry_after`` is set when the connector stopped retrying because the next wait (Outreach's
    ``Retry-After`` or the backoff) did not fit in the retry budget: the seconds it would have needed.
    """

    exit_code = 3
    retry_after: float | None = None

    def __init__(self, status_code: int, errors: list[dict[str, Any]], body: Any = None,
                 message: str | None = None) -> None:
        super().__init__(message or describe_upstream(status_code, errors))
        self.status_code = status_code
        self.errors = errors
        self.body = body

    def to_dict(self) -> dict[str, Any]:
        extra = {} if self.retry_after is None else {"retry_after": self.retry_after}
        return {**super().to_dict(), "status_code": self.status_code, "errors": self.errors, **extra}


class AuthError(UpstreamError):
    exit_code = 3


class ReconnectRequired(AuthError):
    pass


class PermissionDenied(UpstreamError):
    @property
    def missing_scope(self) -> str | None:
        """The OAuth scope Outreach names in an ``unauthorizedOauthScope`` error, if any."""
        import re

        for error in self.errors:
            text = f"{error.get('detail') or ''} {error.get('title') or ''}"
            found = re.search(r"""scope[s]?[:\s]+['"`]?([A-Za-z]+\.(?:read|write|delete|all))""", text)
            if found:
                return found.group(1)
        return None


class NotFound(UpstreamError):
    pass


class ValidationFailed(UpstreamError):
    pass


class RateLimited(UpstreamError):
    def __init__(self, status_code: int, errors: list[dict[str, Any]], body: Any = None,
                 retry_after: float | None = None, message: str | None = None) -> None:
        super().__init__(status_code, errors, body, message)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class TransportError(ConnectorError):
    exit_code = 3


class OutcomeUnknown(TransportError):
    pass


def describe_upstream(status_code: int, errors: list[dict[str, Any]]) -> str:
    """One line naming the status and every Outreach error (id, title, detail, pointer)."""
    parts = []
    for error in errors:
        text = " - ".join(str(error[k]) for k in ("id", "title", "detail") if error.get(k))
        source = error.get("source") if isinstance(error.get("source"), dict) else {}
        where = source.get("pointer") or source.get("parameter")
        parts.append(f"{text} (at {where})" if where else text)
    return f"Outreach answered {status_code}" + (": " + "; ".join(parts) if parts else "")


class CredentialUnsendable(TransportError):
    """A credential cannot go in an HTTP header (whitespace around it, a control character): the request was
    not tried. The message says what is wrong with it, never the value (see header_values.py)."""


class PaginationError(ConnectorError):
    """Outreach's pages do not lead anywhere (a repeated cursor, endless empty pages): an Outreach-side fault."""

    exit_code = 3


class TooManyPages(PaginationError):
    """A walk (``paginate``, ``iterate``, a DDL label index) reached its page cap and Outreach still had a next
    link: short or empty pages with fresh cursors would otherwise keep it going without end."""


class BrowserLoginFailed(ConnectorError):
    """``auth login --browser`` ended without an authorization: consent denied, no answer in time, or the
    token endpoint refused the code. Nothing was stored. An auth failure: exit 3."""

    exit_code = 3


class UnknownTrigger(UnknownOperation):
    """No trigger of that name; ``suggestions`` holds the closest known trigger names."""

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        super().__init__(name, known)
        self.message = self.message.replace("unknown operation", "unknown trigger", 1)
        self.args = (self.message,)


class WebhookSignatureInvalid(ConnectorError):
    """A webhook delivery's ``Outreach-Webhook-Signature`` is absent or does not match the body: the delivery
    must not be trusted. The message never contains the secret, the expected signature or the body."""

    exit_code = 2


class EventInvalid(ConnectorError):
    """A webhook delivery's body is not an Outreach event (not JSON, no ``data.type``/``data.id``, too deep)."""

    exit_code = 2


class TenantBusy(ConnectorError):
    """The server already has as many Outreach requests in flight for this API key as it allows
    (``--max-upstream-per-key``), and none finished within the call's retry budget: nothing was sent.
    The server answers 429 with ``Retry-After``."""

    exit_code = 3

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

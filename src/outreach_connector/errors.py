"""Every error the connector raises, under one base class.

    ConnectorError
    ├── UnknownOperation        no operation of that name is registered
    │   └── UnknownTrigger      no trigger of that name is registered
    ├── RegistryError           a plugin registered a duplicate or malformed operation/handler
    │   └── PluginError         a plugin (named) or one of its files could not be loaded or checked
    ├── SettingsInvalid         a setting (flag, keyword or OUTREACH_* variable) is unusable
    ├── ExtraMissing            a command needs a package only an extra installs
    ├── CredentialsMissing      a call needs Outreach credentials and none were given (nothing was sent)
    ├── InputInvalid            the input does not fit the operation's input schema (no request was sent)
    ├── UnsafeURL               a link or full URL points outside the configured Outreach API origin
    ├── OutputInvalid           Outreach answered, but not in the documented shape (carries the raw response)
    ├── UpstreamError           Outreach answered with an error status (carries status and all errors[])
    │   ├── AuthError           Outreach rejected the credentials (401, or the token endpoint's 400/401)
    │   │   └── ReconnectRequired  Outreach refused the refresh token (invalid_grant): authorise the app again
    │   ├── PermissionDenied    403: missing OAuth scope or governance denial
    │   ├── NotFound            404
    │   ├── ValidationFailed    422: Outreach refused the data (see errors[].source.pointer)
    │   └── RateLimited         429, or a wait longer than the configured budget
    ├── AuthenticationUnusable  a stored authentication cannot be used; Outreach was not asked (no status)
    │   ├── AuthenticationGone  it was deleted while a call waited to refresh its token
    │   └── ReconnectNeeded     the server holds it as reconnect_required: nothing may be sent with it
    ├── TransportError          the request could not be completed (timeout, connection dropped)
    │   ├── OutcomeUnknown      a non-idempotent request may or may not have been applied
    │   ├── CredentialUnsendable  a credential HTTP cannot carry (whitespace around it); nothing was sent
    │   └── StoreUnavailable    the server's database did not answer, or not in time
    ├── PaginationError         Outreach's cursors went nowhere
    │   ├── RepeatedCursor      a cursor Outreach had already handed out (following it would loop)
    │   ├── StalledPagination   empty page after empty page, each with a fresh cursor
    │   └── TooManyPages        a walk reached its page cap with Outreach still handing out next links
    ├── BrowserLoginFailed      auth login --browser got no authorization (denied, timed out, exchange refused)
    ├── WebhookSignatureInvalid a webhook delivery's signature is absent or wrong
    ├── EventInvalid            a webhook delivery's body is not an Outreach event
    ├── TenantBusy              the server's cap on one API key's Outreach requests held a call past its budget
    ├── the CLI's own (exit 2; re-exported from cli/)
    │   ├── UsageError          the command line is wrong (unknown command or option, missing argument)
    │   ├── InputUnreadable     the input could not be read or is not JSON
    │   ├── ConfigurationInvalid  the local configuration cannot work
    │   └── CredentialsFileError  the credentials file cannot be read or written
    └── the server's own (re-exported from server/)
        ├── StartupError        the server cannot start as configured (also a ValueError)
        ├── EncryptionKeyError  the encryption key is malformed or not the one secrets were sealed with (ValueError)
        ├── SchemaTooNew        the database was migrated by a newer server (also a ValueError)
        ├── BadRequest          the request body itself is malformed (400)
        ├── AuthenticationNotFound  no such authentication for this API key (404; also a LookupError)
        ├── TooManyAuthentications  the API key holds --max-authentications-per-key already (409)
        ├── TooManyPendingStates    too many unfinished connect flows for one API key
        └── TokenEndpointRefused    the token endpoint issued no tokens (``code`` says why)

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
        source = error.get("source")
        source = source if isinstance(source, dict) else {}
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


# --- Errors that used to live beside their users (settings, extras, pagination, cli/, server/): one tree here.
# Their old homes re-export them, so ``from outreach_connector.cli.parser import UsageError`` still works.


class SettingsInvalid(ConnectorError):
    """A configuration value is unusable; ``errors`` names each setting and its source."""

    exit_code = 2

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("invalid settings: " + "; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "errors": self.errors}


class ExtraMissing(ConnectorError):
    """A command needs a package that only an extra installs (the Python API never does)."""

    exit_code = 2


class RepeatedCursor(PaginationError):
    """Outreach handed back a cursor it already gave: following it would loop forever."""


class StalledPagination(PaginationError):
    """Page after page came back empty, each with a fresh cursor: the walk is going nowhere."""


class AuthenticationUnusable(ConnectorError):
    """A stored authentication cannot be used, and Outreach was not asked: there is no Outreach status (the
    server's envelope says ``statusCode: null``). The user must connect Outreach again. An auth failure: exit 3."""

    exit_code = 3


class AuthenticationGone(AuthenticationUnusable):
    """The authentication was deleted while a call on it was waiting to refresh its token."""


class ReconnectNeeded(AuthenticationUnusable):
    """The server holds the authentication as ``reconnect_required``: nothing may be sent with it.
    ``info`` is the authentication (server/credentials.py's ``Authentication``)."""

    def __init__(self, message: str, info: Any) -> None:
        super().__init__(message)
        self.info = info


class StoreUnavailable(TransportError):
    """The database did not answer, or not in time (a row lock held too long): a call ends with an error
    envelope, an endpoint with 503. Names the failure's type only: a driver's text may quote values."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(f"the credential store did not answer ({type(exc).__name__})")


# The CLI's own: a local problem, exit 2, nothing sent.

class UsageError(ConnectorError):
    """The command line itself is wrong (unknown command or option, missing argument): exit 2."""

    exit_code = 2


class InputUnreadable(ConnectorError):
    """The input could not be read or is not JSON (exit 2; nothing was sent)."""

    exit_code = 2


class ConfigurationInvalid(ConnectorError):
    """The local configuration cannot work (nothing was sent): exit 2, never 3."""

    exit_code = 2


class CredentialsFileError(ConnectorError):
    """The credentials file cannot be read or written (a local problem: exit 2)."""

    exit_code = 2


# The server's own (server/): each is answered by the server itself, or stops it from starting. Those that
# were a ValueError or LookupError stay one, so a host's ``except ValueError`` still catches them.

class StartupError(ConnectorError, ValueError):
    """The server cannot start as configured; the message is one line for the operator."""

    exit_code = 2


class EncryptionKeyError(ConnectorError, ValueError):
    """The encryption key is malformed, or is not the key the stored secrets were sealed with."""

    exit_code = 2


class SchemaTooNew(ConnectorError, ValueError):
    """The database was migrated by a newer version of the server than this one."""

    exit_code = 2


class BadRequest(ConnectorError):
    """The request body itself is malformed (not the connector input): the server answers 400."""

    exit_code = 2


class AuthenticationNotFound(ConnectorError, LookupError):
    """No authentication of that id for this API key (or it was deleted): the server answers 404."""


class TooManyAuthentications(ConnectorError):
    """The tenant already holds as many authentications as the server allows one API key (409)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"This API key already holds {limit} authentications, as many as the server allows "
                         "(--max-authentications-per-key); delete one you no longer use first")
        self.limit = limit


class TooManyPendingStates(ConnectorError):
    """The tenant has as many unfinished connect flows as the server keeps (each lives 10 minutes)."""

    def __init__(self, message: str = "too many unfinished connect flows for this API key") -> None:
        super().__init__(message)


class TokenEndpointRefused(ConnectorError):
    """The token endpoint did not issue tokens; ``code`` (also the message) is an OAuth error code, or one of
    ours (``token_endpoint_unreachable``, ``invalid_token_response``, ``token_endpoint_error``)."""

    exit_code = 3

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

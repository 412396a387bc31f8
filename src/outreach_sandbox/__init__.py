"""Outreach sandbox: an independent, stateful emulator of the Outreach REST API v2 (JSON:API).

Usage::

    sb = Sandbox(SandboxConfig(prospects=500))
    client = httpx.Client(transport=sb.transport(), base_url="http://sandbox.test/api/v2",
                          headers={"Authorization": "Bearer sandbox-access-token"})
    python -m outreach_sandbox --port 8090        # or serve(config, host, port) / main([...])

It never imports ``outreach_connector``: the two are checked against each other, so neither may share the
other's mistakes. Facts come from the project's reference notes and Outreach's official OpenAPI and
hyper-schema (via the generated ``schemas/resources/*.json``); the code is the project's own.

NOTES — modelled
- Every type of the operation map plus the legacy ``audit`` (``/audits``, list only), verbs and member actions
  as each resource schema's ``x-outreach`` declares; one generic set of handlers driven by that data.
- Resource objects with integer ids, every known attribute (null when unset, write-only ones always null),
  to-one relationships as ``data``, links-only to-many as ``links.related`` (``<collection>?filter[<inverse>]
  [id]=<id>``), other to-many as ``data`` arrays derived from the records pointing back; absolute links built
  from the request's own scheme, host and port.
- 201/200/204, 404 ``resourceNotFound``, 415 ``unsupportedMediaType``, 422 ``validationError`` with
  ``source.pointer`` (unknown or read-only member, wrong JSON type, string over maxLength, bad date,
  missing required member, relationship to a missing record, duplicate prospect e-mail, prospect already in
  the sequence, action not allowed in the current state), 400 ``badRequest`` with ``source.parameter`` for bad
  query parameters, 401 with a JSON:API body, 429 ``rateLimitExceeded`` with ``Retry-After``.
- Filters (exact, comma lists, ``a..b`` ranges with ``neginf``/``inf`` over numbers and ISO date-times,
  ``filter[id]``, ``filter[<to-one>][id]``, and ``filter[<to-many>][id]`` where the other side points back)
  on any known attribute; multi-key ``sort``; sparse ``fields[type]``; cursor pagination (``page[size]``
  1..1000, opaque ``page[after]``/``page[before]``, ``links.first/prev/next``, ``meta.count`` unless
  ``count=false``); related-resource endpoints (``GET /stages/1/prospects``, ``GET /prospects/1/account``),
  the link shape the documented samples show.
- Server-maintained members (timestamps from the injectable clock, creator/updater, prospect name and
  company, sequence-state start, task/mailing/sequence defaults): see ``lifecycle``.
- The non-standard compliance-request endpoint; OAuth code and refresh grants with refresh-token rotation and
  expiring access tokens; per-token rate limits with ``X-RateLimit-*`` headers; fault injection (``faults``).
- Deterministic, lazily generated seed data: the same seed gives byte-identical responses to the same requests.

NOTES — not modelled
- ``include``/compound documents (400), ``newFilterSyntax`` operators and ``__null__`` filters (the flag is
  accepted and ignored), filters on relationship attributes other than ``id`` and on to-many relationships
  with no inverse (400), offset pagination (400), ``meta.count_truncated``, OAuth scopes (every token may do
  everything), ``provideAuthorizationMeta``/``provideDataConnections`` meta, custom objects, ``/auditLogs``,
  batches, webhooks, relationship self links (``/relationships/...``), cascading deletes (a deleted record's
  referrers keep pointing at it), the asynchronous processing of compliance requests (they stay ``pending``),
  and e-mail sending. To-many relationships rendered from the records pointing back (``prospect.phoneNumbers``
  from ``phoneNumber.prospect``) are written on that side: writing them directly is a 422. Derived data is
  approximate: ``prospect.opportunities`` are the opportunities
  whose primary prospect it is, ``activeSequenceStates`` includes finished states.

NOTES — where the reference was uncertain, and the choice made
- Read-only members on write: rejected with 422 (the reference allows "ignored or rejected").
- Required members on create: not machine-readable anywhere. sequenceState needs prospect, sequence and
  mailbox (documented); the sandbox also requires ``name`` for account, callDisposition, callPurpose,
  opportunity, opportunityStage, sequence, stage and template; ``email`` for mailbox and user; ``number`` for
  phoneNumber; ``value`` for recipient; mailing needs a mailbox; opportunityProspectRole an opportunity and a
  prospect; sequenceStep a ``stepType`` and a sequence; task an ``action``, an owner and a subject.
- Body structure errors are 400; a ``type``/``id`` contradicting the URL is 409 and a client id on create is
  403 (JSON:API's rules; Outreach's own answers are not documented). Unsupported verbs are 405.
- A prospect is "already in the sequence" while a non-finished state binds it to that sequence.
- Task completion sets ``state`` to ``complete`` (the reference's value) and ``completed``; a completionNote
  is kept in the task's ``note`` (Outreach files it as a prospect note, which is not modelled); a sequence
  activate/deactivate/lock/unlock that changes nothing is a 422.
- Member actions without a body need no Content-Type; with a body it must be JSON:API.
- Rate limits count per access token in fixed windows (Outreach: per user, rolling hour);
  ``X-RateLimit-Reset`` is epoch seconds, ``Retry-After`` seconds; a single remaining value is sent.
- The authorization code is fixed and reusable; every grant also rotates the refresh token.
- Unauthenticated requests get a JSON:API 401 (Outreach's gateway may answer some with a non-JSON:API body).
- The default clock starts at 2025-01-15T09:00:00Z and advances one second per request, for determinism;
  ``python -m outreach_sandbox`` uses the wall clock unless ``--fixed-clock``.
- Over a real socket a dropped connection is a TCP abort (the client sees the server disconnect without a
  response); in process it is ``httpx.RemoteProtocolError``. Fault responses (a gateway's answer) carry no
  ``X-RateLimit-*`` headers and do not count against the limit; 429 and 503 faults carry ``Retry-After``.
- The vendor OpenAPI gives sequence ``primaryReplyAction``/``secondaryReplyAction`` a maxLength of 4 while
  listing "finish"/"continue"/"pause" as values; the sandbox ignores that limit (``schema.ERRATA``).
"""
from __future__ import annotations

from .config import SandboxConfig
from .sandbox import Sandbox

__all__ = ["Sandbox", "SandboxConfig", "main", "serve"]


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Serve a sandbox with uvicorn until interrupted (imported lazily: uvicorn is not needed in-process)."""
    from .server import serve as _serve

    _serve(config, host, port)


def main(argv: list[str] | None = None) -> int:
    """``python -m outreach_sandbox`` / ``outreach-connector sandbox``: parse flags and serve."""
    from .server import main as _main

    return _main(argv)

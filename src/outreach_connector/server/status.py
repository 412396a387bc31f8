"""Authentications that stay connected, or say plainly that they need reconnecting.

A refresh Outreach refuses (``invalid_grant``: the refresh token was revoked, lapsed after 14 days unused, or
was spent elsewhere), or a 401 on a stored access token, marks the row ``reconnect_required`` instead of
losing it. From then on calls on it send nothing and answer the reconnect error (``statusCode`` null) until
the host reconnects it through the consent flow with its ``authentication_id`` (same id, new tokens).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..errors import ReconnectNeeded
from . import connect_store, envelopes
from .credentials import Authentication
from .store import precise_time

logger = logging.getLogger("outreach_connector.server")

REASONS = {"ReconnectRequired": ("oauth", "invalid_grant"), "AuthError": ("access_token", "access_token_rejected")}
EXPLAINED = {"invalid_grant": "Outreach refused its refresh token (invalid_grant)",
             "access_token_rejected": "Outreach refused its access token (401)"}


def reconnect_needed(info: Authentication) -> ReconnectNeeded:
    why = EXPLAINED.get(info.status_reason or "", "Outreach refused it")
    return ReconnectNeeded(
        f"Authentication {info.id!r} needs reconnecting: {why} at {info.status_since}. Nothing was sent. "
        "Reconnect it with POST /authentications/connect and its authentication_id (the id stays the same).",
        info)


def reconnect_response(info: Authentication) -> Response:
    return envelopes.outreach_failure(reconnect_needed(info).message, None, None)


async def mark_after_failure(services: Any, info: Authentication, outcome: str) -> None:
    """Mark the authentication when the call's failure (``outcome``: the error's class name) means that
    Outreach refuses it for good."""
    kind, reason = REASONS.get(outcome, (None, None))
    if kind != info.kind or reason is None:
        return
    marked = await run_in_threadpool(connect_store.mark_reconnect_required, services.store, info.id, reason,
                                     info.status_since or "")
    await services.pool.forget(info.id)
    if marked:
        logger.warning("authentication %s marked reconnect_required (%s)", info.id, reason)


STATUSES = ("connected", "reconnect_required")


def list_filters(query: Any) -> dict[str, str]:
    """``?status=`` and ``?changed_since=<ISO 8601>`` of ``GET /authentications``, as store filters; raises
    ValueError naming the parameter."""
    filters: dict[str, str] = {}
    if "status" in query:
        if query["status"] not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        filters["status"] = query["status"]
    if "changed_since" in query:
        filters["changed_since"] = precise_time(parse_instant(query["changed_since"]))
    return filters


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date-time with a UTC offset or ``Z``."""
    try:
        moment = datetime.fromisoformat(text[:64])
    except ValueError:
        raise ValueError("changed_since must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("changed_since must carry a UTC offset or Z (2026-01-31T12:00:00Z)")
    return moment

"""Triggers on the server: subscriptions per authentication, the webhook receiver, and reading events.

* ``POST /authentications/{id}/subscriptions`` makes a subscription. In webhook mode it creates the Outreach
  webhook through the connector (``create_webhook``) with ``url=<public-url>/webhooks/outreach/<sid>``, the
  trigger's resource and action, and a fresh secret, kept sealed. In poll mode the poller (``poller.py``)
  lists what changed every ``--poll-interval`` seconds. With a ``callback_url`` events are also pushed
  (``pusher.py``), signed with the ``delivery_secret`` returned once, here.
* ``POST /webhooks/outreach/{sid}`` (no API key) is where Outreach delivers. Outreach never retries a delivery
  that got an HTTP answer, so the event is committed before the 200, and when it cannot be stored the
  connection is dropped (Outreach retries a network failure) rather than answered with a 5xx.
* ``GET /subscriptions/{sid}/events`` reads them by long poll, after a cursor (the stored order's number).
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import ConnectorError, EventInvalid, InputInvalid, UnknownTrigger, \
    WebhookSignatureInvalid
from ..registry import RegisteredTrigger
from . import envelopes, subscription_store as rows
from .consent import return_url_allowed
from .credentials import AuthenticationNotFound
from .envelopes import shown
from .event_writer import EventWriter, Receiving, SubscriptionCache
from .requests import BadRequest, parse_body
from .serving import ABORT, RECEIVER_PREFIX
from .status import ReconnectNeeded
from .services import known_id, not_found, owner, services
from .store_sql import StoreUnavailable
from .webhook_removal import cleanup_webhook, delete_webhook, webhook_id_of
from ..validation import Problems, problems_in
from ..triggers import check_input, matches, parse_event
from ..webhooks import verify

logger = logging.getLogger("outreach_connector.server.triggers")

MAX_EVENTS_PER_READ = 1000
DEFAULT_EVENTS_PER_READ = 100
MAX_WAIT_SECONDS = 30.0
RECHECK_SECONDS = 0.25  # a long poll looks at the store this often (another replica may have stored events)


class SubscriptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trigger: str = Field(min_length=1, max_length=200)
    input: dict[str, Any] | None = None
    mode: Literal["webhook", "poll"] = "webhook"
    callback_url: str | None = Field(None, max_length=2048)


class Arrivals:
    """Wakes this process's long polls and its pusher when an event is stored here (other replicas' events are
    found by looking again every ``RECHECK_SECONDS``)."""

    def __init__(self) -> None:
        self._changed: dict[str, asyncio.Event] = {}
        self.any = asyncio.Event()

    def stored(self, subscription_id: str, push: bool = True) -> None:
        """Events of the subscription were stored; ``push``: it has a callback (wake the pusher)."""
        event = self._changed.pop(subscription_id, None)
        if event is not None:
            event.set()
        if push:
            self.any.set()

    async def wait(self, subscription_id: str, seconds: float) -> None:
        event = self._changed.setdefault(subscription_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except asyncio.TimeoutError:
            pass


def arrivals(request: Request) -> Arrivals:
    return request.app.state.arrivals


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A subscription as its tenant sees it: never a secret."""
    return {"id": row["id"], "authentication_id": row["auth_id"], "trigger": row["trigger_name"],
            "input": json.loads(row["input"]), "mode": row["mode"], "callback_url": row["callback_url"],
            "status": row["status"], "webhook_id": webhook_id_of(row["webhook_id"]), "created_at": row["created_at"],
            "last_event_at": row["last_event_at"], "last_error": row["last_error"]}


def subscription_not_found(subscription_id: str) -> Response:
    return envelopes.problem(404, f"Subscription {shown(subscription_id)!r} was not found")


def invalid(path: str, message: str) -> Response:
    """400 naming the member at fault in the prose and as data (``errors``, as invalid input does): the editor
    shows the message by its field."""
    return envelopes.problem(400, f"Invalid subscription: {path}: {message}",
                             errors=[{"path": path, "message": message}])


# ------------------------------------------------------------------------------------------------ create

async def create(request: Request) -> Response:
    auth_id = request.path_params["auth_id"]
    svc = services(request)
    if not known_id(auth_id):
        return not_found(auth_id)
    try:
        body = await parse_body(request, SubscriptionRequest, "subscription", svc.settings.max_json_depth,
                                svc.settings.max_json_items)
    except BadRequest as exc:
        return envelopes.problem(400, exc.message)
    try:
        trigger = svc.catalogue.registry.trigger(body.trigger)
        data = check_input(trigger, body.input)
    except UnknownTrigger as exc:
        return invalid("trigger", exc.message)
    except InputInvalid as exc:
        under_input = [{**e, "path": f"input.{e['path']}".rstrip(".")} for e in exc.errors]
        return envelopes.input_invalid(Problems(under_input, problems_in(exc.errors)))
    problem = mode_problem(svc.settings, trigger, body)
    if problem:
        return invalid(*problem)
    try:
        connector = await svc.pool.get(auth_id, owner(request))
    except AuthenticationNotFound:
        return not_found(auth_id)
    except ReconnectNeeded:
        return envelopes.problem(409, f"Authentication {auth_id!r} needs reconnecting (status reconnect_required); "
                                      "reconnect it before subscribing")
    sid, now = str(uuid.uuid4()), rows.precise_time_now(svc.store)
    held = {"webhook_secret": secrets.token_urlsafe(32)} if body.mode == "webhook" else {}
    if body.callback_url is not None:
        held["delivery_secret"] = secrets.token_urlsafe(32)
    row = {"id": sid, "owner": owner(request), "auth_id": auth_id, "trigger_name": trigger.spec.name,
           "input": json.dumps(data), "mode": body.mode, "callback_url": body.callback_url,
           "status": "pending" if body.mode == "webhook" else "active", "created_at": now,
           "bookmark": None, "poll_due": time.time() + svc.settings.poll_interval}
    if body.mode == "poll":
        # The first poll looks from now on: a subscription reports what happens after it was made.
        row["bookmark"] = now
    if not await run_in_threadpool(rows.insert, svc.store, row, held):
        return envelopes.problem(409, f"Authentication {auth_id!r} already has "
                                      f"{rows.MAX_SUBSCRIPTIONS_PER_AUTHENTICATION} subscriptions; delete one first")
    if body.mode == "webhook":
        failure = await create_webhook(svc, connector, trigger, sid, held)
        if failure is not None:
            await run_in_threadpool(rows.delete, svc.store, sid)
            return failure
    logger.info("subscription %s: %s (%s) on authentication %s", sid, trigger.spec.name, body.mode, auth_id)
    answer = {"id": sid, "status": "active"}
    if "delivery_secret" in held:
        answer["delivery_secret"] = held["delivery_secret"]
    return JSONResponse(answer, status_code=201)


def mode_problem(settings: Any, trigger: RegisteredTrigger, body: SubscriptionRequest) -> tuple[str, str] | None:
    """(the member at fault, why), or None."""
    if body.mode == "poll" and trigger.spec.poll is None:
        return "mode", f"{trigger.spec.name} cannot be polled (Outreach reports it only by webhook); use mode webhook"
    if body.mode == "webhook" and settings.public_url is None:
        return "mode", ("webhook mode needs the server's --public-url (Outreach delivers to "
                        "<public-url>/webhooks/outreach/<id>); use mode poll, or start the server with --public-url")
    if body.callback_url is not None and not return_url_allowed(body.callback_url, settings.allowed_callback_urls):
        return "callback_url", "not a callback URL this server allows (one given with --allow-callback-url)"
    return None


async def create_webhook(svc: Any, connector: Any, trigger: RegisteredTrigger, sid: str,
                         held: dict[str, str]) -> Response | None:
    """Create the Outreach webhook and keep its id, and its cleanup token (sealed with the secrets) when
    Outreach gives one; None on success, else the answer (502) saying why."""
    url = f"{svc.settings.public_url}{RECEIVER_PREFIX}{sid}"
    attributes = {"url": url, "secret": held["webhook_secret"], "resource": trigger.spec.resource,
                  "action": trigger.spec.action}
    try:
        created = await connector.acall("create_webhook", {"attributes": attributes})
        webhook_id = str(created["data"]["id"])
    except (ConnectorError, KeyError, TypeError) as exc:
        message = getattr(exc, "message", None) or type(exc).__name__
        logger.warning("subscription %s: Outreach did not create the webhook (%s)", sid, type(exc).__name__)
        return envelopes.problem(502, f"Outreach did not create the webhook: {shown(str(message), 300)}")
    # The webhook exists from here on: whatever shape the rest of the answer has, its id is kept, so deleting
    # the subscription deletes it (an odd ``attributes`` once made this a 502 that left the webhook orphaned).
    values: dict[str, Any] = {"webhook_id": webhook_id, "status": "active"}
    attributes_back = created["data"].get("attributes")
    cleanup_token = attributes_back.get("cleanupToken") if isinstance(attributes_back, dict) else None
    if isinstance(cleanup_token, str) and cleanup_token:
        values["secret"] = rows.sealed(svc.store, sid, {**held, "cleanup_token": cleanup_token})
    await run_in_threadpool(rows.update, svc.store, sid, **values)
    return None


# ------------------------------------------------------------------------------------------------ read, delete

async def list_for_authentication(request: Request) -> Response:
    auth_id = request.path_params["auth_id"]
    svc = services(request)
    if not known_id(auth_id) or await run_in_threadpool(svc.store.get, auth_id, owner(request)) is None:
        return not_found(auth_id)
    found = await run_in_threadpool(rows.listed, svc.store, owner(request), auth_id)
    return JSONResponse({"elements": [public(row) for row in found]})


async def owned(request: Request) -> dict[str, Any] | None:
    sid = request.path_params["sid"]
    if not known_id(sid):
        return None
    return await run_in_threadpool(rows.fetch, services(request).store, sid, owner(request))


async def get_one(request: Request) -> Response:
    row = await owned(request)
    if row is None:
        return subscription_not_found(request.path_params["sid"])
    return JSONResponse(public(row))


async def delete_one(request: Request) -> Response:
    row = await owned(request)
    if row is None:
        return subscription_not_found(request.path_params["sid"])
    await remove(services(request), row)
    return Response(status_code=204)


async def remove(svc: Any, row: dict[str, Any]) -> None:
    """Delete the Outreach webhook (when there is one), then the subscription and its events. When Outreach
    refuses the delete (the authentication revoked or gone), the webhook's cleanup token removes it; one that
    stays is logged: its deliveries then meet 404 here."""
    if row["webhook_id"] is not None and not await delete_webhook(svc, row):
        await cleanup_webhook(svc, row)
    await run_in_threadpool(rows.delete, svc.store, row["id"])
    logger.info("deleted subscription %s", row["id"])


async def remove_for_authentication(svc: Any, auth_id: str, owner_digest: str) -> None:
    """Before an authentication goes: its subscriptions, and their Outreach webhooks."""
    for row in await run_in_threadpool(rows.listed, svc.store, owner_digest, auth_id):
        await remove(svc, row)


async def enable(request: Request) -> Response:
    """Turn the subscription's Outreach webhook back on (after Outreach disabled it) and show it active."""
    row = await owned(request)
    if row is None:
        return subscription_not_found(request.path_params["sid"])
    if row["webhook_id"] is None:
        return envelopes.problem(400, "Invalid request: this subscription has no Outreach webhook (mode poll)")
    svc = services(request)
    try:
        connector = await svc.pool.get(row["auth_id"], row["owner"])
        await connector.acall("update_webhook", {"webhook_id": webhook_id_of(row["webhook_id"]),
                                                 "attributes": {"active": True}})
    except ConnectorError as exc:
        return envelopes.problem(502, f"Outreach did not enable the webhook: {shown(exc.message, 300)}")
    except AuthenticationNotFound:
        return not_found(row["auth_id"])
    await run_in_threadpool(rows.update, svc.store, row["id"], status="active", last_error=None)
    return JSONResponse(public({**row, "status": "active", "last_error": None}))


async def resume(request: Request) -> Response:
    """Push again: a subscription ``delivery_failed`` becomes active and its pushes start from the first event
    its callback did not take; one still retrying is tried now instead of at its next retry time."""
    row = await owned(request)
    if row is None:
        return subscription_not_found(request.path_params["sid"])
    if row["callback_url"] is None:
        return envelopes.problem(400, "Invalid request: this subscription has no callback_url; read its events "
                                      "by long poll")
    store = services(request).store
    await run_in_threadpool(rows.resume_pushes, store, row["id"])
    arrivals(request).any.set()  # the pusher looks now
    logger.info("subscription %s: pushes resumed", row["id"])
    resumed = await run_in_threadpool(rows.fetch, store, row["id"])
    return JSONResponse(public(resumed)) if resumed else subscription_not_found(row["id"])


# ------------------------------------------------------------------------------------------------ receiver

def receiving(store: Any, subscription_id: str) -> Receiving | None:
    """A webhook-mode subscription as the receiver needs it (its secret opened), or None."""
    row = rows.fetch(store, subscription_id)
    if row is None or row["mode"] != "webhook":
        return None
    return Receiving(row, rows.secrets_of(store, row).get("webhook_secret", ""), json.loads(row["input"]))


def receiver_state(services_: Any) -> tuple[EventWriter, SubscriptionCache]:
    store = services_.store
    return EventWriter(store), SubscriptionCache(lambda sid: receiving(store, sid))


async def receive(request: Request) -> Response:
    """A delivery from Outreach: 404 unknown, 401 unsigned or wrongly signed (nothing stored), 200 once the
    event is committed; the connection is dropped when it cannot be."""
    sid = request.path_params["sid"]
    svc, (writer, cache) = services(request), request.app.state.receiver
    try:
        found = await cache.get(sid) if known_id(sid) else None
        if found is None:
            return subscription_not_found(sid)
        body = await request.body()
        try:
            verify(found.webhook_secret, body, request.headers.raw)
        except WebhookSignatureInvalid as exc:
            logger.warning("subscription %s: delivery refused: %s", sid, exc)
            return envelopes.problem(401, f"The delivery's signature is missing or wrong: {exc}")
        try:
            event = parse_event(body, request.headers.raw, max_bytes=svc.settings.max_body_bytes)
        except EventInvalid as exc:
            return envelopes.problem(400, f"Not an Outreach event: {exc}")
        trigger = svc.catalogue.registry.trigger(found.row["trigger_name"])
        if matches(trigger, found.input, event):
            if not await writer.write(sid, event):
                cache.forget(sid)
                return subscription_not_found(sid)  # deleted a moment ago (on another replica)
            arrivals(request).stored(sid, push=found.row["callback_url"] is not None)
        return JSONResponse({"received": event["id"]})
    except StoreUnavailable:
        logger.warning("subscription %s: a delivery could not be stored; dropping the connection so that "
                       "Outreach retries it", sid)
        return await drop_connection(request)


class ConnectionDropped(BaseException):
    """Raised where the connection cannot be dropped (an in-process client): a BaseException, so no handler
    turns it into an answer; the client sees a failed request, as it would a dropped connection."""


async def drop_connection(request: Request) -> Response:
    """Close the connection without answering (serving.py puts the means in the scope); Outreach counts that
    as a network failure and retries. The answer returned goes nowhere: the transport is already closed."""
    abort = request.scope.get("extensions", {}).get(ABORT)
    if abort is None:
        raise ConnectionDropped()
    abort()
    await asyncio.sleep(0)  # let the transport note the loss before the app returns
    return Response(status_code=503)


# ------------------------------------------------------------------------------------------------ events

async def events(request: Request) -> Response:
    row = await owned(request)
    sid = request.path_params["sid"]
    if row is None:
        return subscription_not_found(sid)
    try:
        after, limit, wait = read_query(request.query_params)
    except ValueError as exc:
        return envelopes.problem(400, f"Invalid query: {exc}")
    svc = services(request)
    if after < row["purged_through"] and after != 0:
        return envelopes.problem(410, f"Events after {after} are older than the retention "
                                      f"({svc.settings.event_retention_days:g} days, --event-retention-days) and "
                                      "were deleted; start again without after")
    deadline = time.monotonic() + wait
    while True:
        found = await run_in_threadpool(rows.read_events, svc.store, sid, after, limit)
        left = deadline - time.monotonic()
        if found or left <= 0 or await request.is_disconnected():
            break
        await arrivals(request).wait(sid, min(left, RECHECK_SECONDS))
    next_after = found[-1][0] if found else after
    text = "[" + ",".join(body for _, body in found) + "]"
    return Response(f'{{"events":{text},"next_after":"{next_after}"}}', media_type="application/json")


def read_query(query: Any) -> tuple[int, int, float]:
    """``after`` (a cursor from ``next_after``; absent: from the oldest kept), ``limit`` (1-1000, default
    100), ``wait`` (0-30 seconds, default 0); ValueError names the parameter."""
    after_text, limit_text, wait_text = query.get("after", "0") or "0", query.get("limit", ""), query.get("wait", "0")
    if not (after_text.isascii() and after_text.isdigit()) or len(after_text) > 19:
        raise ValueError("after must be a next_after this server handed out")
    limit = DEFAULT_EVENTS_PER_READ
    if limit_text:
        if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= MAX_EVENTS_PER_READ:
            raise ValueError(f"limit must be a whole number from 1 to {MAX_EVENTS_PER_READ}")
        limit = int(limit_text)
    try:
        wait = float(wait_text[:20])
    except ValueError:
        raise ValueError(f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}") from None
    if not 0 <= wait <= MAX_WAIT_SECONDS:  # NaN fails both comparisons too
        raise ValueError(f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}")
    return int(after_text), limit, wait

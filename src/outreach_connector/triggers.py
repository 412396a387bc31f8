"""Triggers: Outreach events as the host receives them, from a webhook delivery or from a poll.

An event (the contract's shape)::

    {"id", "trigger", "event": "prospect.updated", "occurred_at", "received_at", "resource": {"type", "id"},
     "attributes", "relationships": {name: {"type", "id"} | [...] | null}, "meta"}

``parse_event`` turns a delivery (its raw body and headers; verify it first with ``webhooks.verify``) into
one; ``poll`` finds events by listing records whose timestamp moved (``updatedAt`` for updates), re-reading an
overlap so that late commits are not missed, and remembering what it returned so nothing comes twice.
``matches`` says whether an event passes a trigger's input filters (the server's subscriptions use it).
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any, Protocol

from .catalogue_folders import core_folder
from .errors import EventInvalid, InputInvalid
from .registry import RegisteredTrigger, Registry
from .validation import input_problems
from .webhooks import EVENT_ID_HEADER, Headers, header
from .wire import pack_cursor, unpack_cursor


class Lister(Protocol):
    """What a poll needs of a connector (a ``Connector`` is one): its registry and its walks over a list."""

    registry: Registry

    def iterate(self, name: str, input: dict[str, Any], after: str | None = None) -> Iterator[Any]: ...

    def aiterate(self, name: str, input: dict[str, Any], after: str | None = None) -> AsyncIterator[Any]: ...

MAX_EVENT_BYTES = 1024 * 1024  # a delivery larger than this is refused unparsed (Outreach's are a few KiB)
MAX_EVENT_ID_CHARS = 200
DEFAULT_POLL_LIMIT = 100
MAX_POLL_LIMIT = 1000
DEFAULT_OVERLAP_SECONDS = 300.0  # records committed late with an earlier timestamp are still found
MAX_REMEMBERED = 5000  # ids a bookmark remembers from its overlap window
MAX_EXAMINED = 5 * 1000  # new records one poll looks at (the filters Outreach cannot apply are applied here)
BOOKMARK_VERSION = 1


def utc_now() -> str:
    return iso(datetime.now(timezone.utc))


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An ISO 8601 date-time (``Z`` or an offset; a naive one is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def trigger_name(event_name: str) -> str:
    """``sequenceState.finished`` -> ``sequence_state_finished``."""
    resource, _, action = event_name.partition(".")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", resource).lower() + "_" + action


# ---------------------------------------------------------------------------------------------- parsing

def parse_event(body: bytes, headers: Headers, *, received_at: str | None = None,
                max_bytes: int = MAX_EVENT_BYTES) -> dict[str, Any]:
    """The event a webhook delivery carries. Raises ``EventInvalid`` naming what is wrong with the body."""
    if len(body) > max_bytes:
        raise EventInvalid(f"the delivery body is {len(body)} bytes; at most {max_bytes} are accepted")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise EventInvalid("the delivery body is not JSON") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise EventInvalid("the delivery body has no data object")
    meta = object_member(document, "meta")
    kind, ident = data.get("type"), data.get("id")
    if not isinstance(kind, str) or not kind or isinstance(ident, bool) or not isinstance(ident, (int, str)):
        raise EventInvalid("data.type must be a string and data.id an integer or a string")
    event_name = meta.get("eventName")
    if not isinstance(event_name, str) or not re.fullmatch(r"[A-Za-z]+\.[a-z]+", event_name):
        raise EventInvalid("meta.eventName must name the event, e.g. prospect.created")
    attributes = object_member(data, "attributes")
    action = event_name.partition(".")[2]
    received = received_at or utc_now()
    return {"id": event_id(document, headers), "trigger": trigger_name(event_name), "event": event_name,
            "occurred_at": occurred_at(action, attributes, meta) or received, "received_at": received,
            "resource": {"type": kind, "id": ident}, "attributes": attributes,
            "relationships": normalise_relationships(kind, data.get("relationships")), "meta": meta}


def object_member(document: dict[str, Any], key: str) -> dict[str, Any]:
    """``document[key]`` when it is a JSON object; an empty one when it is missing or anything else."""
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def event_id(document: dict[str, Any], headers: Headers) -> str:
    """Stable for one Outreach event: the event id header, else ``meta.jobId``, else a hash of the body
    without ``meta.deliveredAt`` (which is all a redelivery changes)."""
    given = header(headers, EVENT_ID_HEADER)
    if given and given.strip():
        return given.strip()[:MAX_EVENT_ID_CHARS]
    meta = object_member(document, "meta")
    job = meta.get("jobId")
    if isinstance(job, (int, str)) and not isinstance(job, bool) and str(job).strip():
        return str(job).strip()[:MAX_EVENT_ID_CHARS]
    stable = {**document, "meta": {k: v for k, v in meta.items() if k != "deliveredAt"}}
    canonical = json.dumps(stable, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def occurred_at(action: str, attributes: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """When it happened: the record's own timestamp, except for a deletion (only the delivery time tells)."""
    own = [] if action == "destroyed" else [attributes.get("updatedAt"), attributes.get("createdAt")]
    return next((value for value in [*own, meta.get("deliveredAt")] if isinstance(value, str) and value), None)


@functools.cache  # read for every event and polled record; the core catalogue does not change
def relationship_targets(resource: str) -> dict[str, str]:
    """Relationship name -> the type it points at, from the core catalogue's resource schema."""
    info = core_folder().resource(resource)
    if info is None:
        return {}
    return {name: rel["x-target"] for name, rel in info.relationships.items() if isinstance(rel.get("x-target"), str)}


def normalise_relationships(resource: str, raw: Any) -> dict[str, Any]:
    """Outreach's webhook relationships are flat (``{"owner": {"type": "owner", "id": 5}}``: ``type`` holds
    the relationship's name); API documents wrap them in ``data``. Both become ``{"type": <the record type>,
    "id"}``, a list of those, or None. Links-only relationships carry no ids and are left out."""
    if not isinstance(raw, dict):
        return {}
    targets = relationship_targets(resource)
    found: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, dict) and "data" in value:
            value = value["data"]
        elif isinstance(value, dict) and "id" not in value:
            continue  # {"links": ...}: nothing to name
        found[name] = reference(value, targets.get(name), name)
    return found


def reference(value: Any, target: str | None, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [reference(item, target, name) for item in value if item is not None]
    if isinstance(value, dict):
        ident = value.get("id")
        if isinstance(ident, list):  # a flat to-many: {"type": "tags", "id": [1, 2]}
            return [reference({"type": value.get("type"), "id": i}, target, name) for i in ident]
        given = value.get("type")
        kind = target or (given if isinstance(given, str) and given != name else None) or name
        return {"type": kind, "id": ident}
    return {"type": target or name, "id": value}  # a bare id


# ---------------------------------------------------------------------------------------------- filters

def check_input(trigger: RegisteredTrigger, input: Any) -> dict[str, Any]:
    """The trigger's input, validated against its input schema (``InputInvalid`` names every bad field)."""
    data = {} if input is None else input
    problems = input_problems(trigger.input_validator, data, frozenset(), trigger.input_schema)
    if problems:
        raise InputInvalid(trigger.spec.name, problems)
    return data


def matches(trigger: RegisteredTrigger, input: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether ``event`` is this trigger's event and passes its filters. A filter needs the event to carry the
    relationship (a filtered subscription never gets an event it cannot tell belongs to it)."""
    if event.get("event") != trigger.spec.event:
        return False
    relationships = event.get("relationships") or {}
    for key, relationship in trigger.spec.filters.items():
        wanted = input.get(key)
        if wanted is None:
            continue
        ref = relationships.get(relationship)
        if not isinstance(ref, dict) or str(ref.get("id")) != str(wanted):
            return False
    return True


# ---------------------------------------------------------------------------------------------- polling

class Bookmark:
    """Where a poll stands: the newest timestamp returned and the records returned in the overlap before it.

    Packed as opaque text (``pack_cursor``) holding the trigger's name, so a bookmark of another trigger is
    refused rather than silently skipping events."""

    def __init__(self, trigger: str, newest: datetime | None, seen: dict[str, str], filters: str = ""):
        self.trigger = trigger
        self.filters = filters  # a digest of the input it was made with: its seen ids depend on the filters
        self.newest = newest
        self.seen = seen  # record id -> the timestamp it was returned at

    @classmethod
    def start(cls, trigger: str, since: Any, input: dict[str, Any]) -> "Bookmark":
        """From ``since``: None (the beginning), a datetime, an ISO 8601 text, or an earlier poll's bookmark
        (made with the same input)."""
        given = {key: str(value) for key, value in input.items() if value is not None}
        filters = hashlib.sha256(json.dumps(given, sort_keys=True).encode()).hexdigest()[:16]
        if since is None:
            return cls(trigger, None, {}, filters)
        if isinstance(since, datetime):
            return cls(trigger, since if since.tzinfo else since.replace(tzinfo=timezone.utc), {}, filters)
        if not isinstance(since, str) or len(since) > 1_000_000:
            raise InputInvalid(trigger, [{"path": "since", "message": "must be a bookmark from an earlier poll, "
                                                                      "an ISO 8601 date-time or a datetime"}])
        try:
            return cls(trigger, parse_time(since), {}, filters)
        except ValueError:
            return cls.unpacked(trigger, since, filters)

    @classmethod
    def unpacked(cls, trigger: str, text: str, filters: str) -> "Bookmark":
        try:
            state = unpack_cursor(text)
            assert isinstance(state, dict) and state.get("v") == BOOKMARK_VERSION
            newest = parse_time(state["t"]) if state.get("t") else None
            seen = {str(k): str(v) for k, v in state.get("seen", {}).items()}
            owner, made_with = state["trigger"], state["filters"]
        except Exception:  # noqa: BLE001 - any malformed text is the same mistake for the caller
            raise InputInvalid(trigger, [{"path": "since", "message": "not a bookmark from an earlier poll, nor "
                                                                      "an ISO 8601 date-time"}]) from None
        if owner != trigger:
            raise InputInvalid(trigger, [{"path": "since", "message": f"this bookmark belongs to trigger "
                                                                      f"{owner!r}"}])
        if made_with != filters:
            raise InputInvalid(trigger, [{"path": "since", "message": "this bookmark was made with other filters "
                                                                      "(input); start again from a date-time"}])
        return cls(trigger, newest, seen, filters)

    def lower_bound(self, overlap: float) -> str | None:
        return iso(self.newest - timedelta(seconds=overlap)) if self.newest else None

    def returned(self, ident: str, stamp: str, overlap: float) -> None:
        """Remember a returned record; forget those now older than the overlap (they cannot come back)."""
        moment = parse_time(stamp)
        self.newest = max(self.newest, moment) if self.newest else moment
        self.seen.pop(ident, None)  # to the end: ``seen`` stays in the order records came, oldest first
        self.seen[ident] = stamp
        floor = self.newest - timedelta(seconds=overlap)
        # Forget from the front only: each record is parsed here once more at most, so a poll stays linear
        # (rebuilding the whole dict whenever its oldest entry aged out made a long poll quadratic).
        while self.seen and (len(self.seen) > MAX_REMEMBERED or parse_time(next(iter(self.seen.values()))) < floor):
            del self.seen[next(iter(self.seen))]

    def already(self, ident: str, stamp: str) -> bool:
        return self.seen.get(ident) == stamp

    def pack(self) -> str:
        return pack_cursor({"v": BOOKMARK_VERSION, "trigger": self.trigger, "filters": self.filters,
                             "t": iso(self.newest) if self.newest else None, "seen": self.seen},
                            separators=(",", ":"))


def poll_request(registry: Registry, trigger: RegisteredTrigger, input: dict[str, Any], lower: str | None,
                 page_size: int) -> dict[str, Any]:
    """The list operation's input: the timestamp range (oldest first), the state, the relationship filters
    Outreach can apply (the others are applied by ``matches``)."""
    plan = trigger.spec.poll
    assert plan is not None
    filterable = set(registry[plan.operation].input_schema["properties"]["filters"]["items"]["properties"]
                     ["field"].get("enum", ()))
    filters = [{"field": plan.timestamp, "criteria": f"{lower or 'neginf'}..inf"}]
    if plan.state:
        filters.append({"field": "state", "criteria": plan.state})
    for key, relationship in trigger.spec.filters.items():
        if input.get(key) is not None and f"{relationship}.id" in filterable:
            filters.append({"field": f"{relationship}.id", "criteria": str(input[key])})
    return {"filters": filters, "sort": [{"sort_by": plan.timestamp}, {"sort_by": "id"}], "page_size": page_size}


def poll_event(trigger: RegisteredTrigger, record: dict[str, Any], stamp: str, received: str) -> dict[str, Any]:
    spec = trigger.spec
    return {"id": f"poll:{spec.event}:{record['id']}:{stamp}", "trigger": spec.name, "event": spec.event,
            "occurred_at": stamp, "received_at": received, "resource": {"type": spec.resource, "id": record["id"]},
            "attributes": record.get("attributes") or {},
            "relationships": normalise_relationships(spec.resource, record.get("relationships")),
            "meta": {"source": "poll"}}


class PollRun:
    """One poll: the request to list with, and the events and bookmark its records make (shared by ``poll``
    and ``apoll``, which differ only in how the records are fetched)."""

    def __init__(self, connector: Lister, name: str, input: Any, since: Any, limit: int, overlap: float):
        self.trigger = trigger = connector.registry.trigger(name)
        self.input = check_input(trigger, input)
        if trigger.spec.poll is None:
            raise InputInvalid(name, [{"path": "trigger", "message": f"{name} cannot be polled (Outreach only "
                                                                     "reports it by webhook)"}])
        if not 1 <= limit <= MAX_POLL_LIMIT:
            raise InputInvalid(name, [{"path": "limit", "message": f"must be 1 to {MAX_POLL_LIMIT}"}])
        self.limit, self.overlap = limit, overlap
        self.bookmark = Bookmark.start(name, since, self.input)
        self.operation = trigger.spec.poll.operation
        self.request = poll_request(connector.registry, trigger, self.input, self.bookmark.lower_bound(overlap),
                                    min(MAX_POLL_LIMIT, limit + len(self.bookmark.seen)))
        self.events: list[dict[str, Any]] = []
        self.received, self.examined = utc_now(), 0

    def take(self, record: dict[str, Any]) -> bool:
        """Handle one listed record; True once the poll has all it may take."""
        assert self.trigger.spec.poll is not None
        stamp = (record.get("attributes") or {}).get(self.trigger.spec.poll.timestamp)
        if not isinstance(stamp, str) or self.bookmark.already(str(record["id"]), stamp):
            return False
        event = poll_event(self.trigger, record, stamp, self.received)
        if matches(self.trigger, self.input, event):
            self.events.append(event)
        # a record the filters refuse is handled too: the bookmark moves past it, so CPU per poll is bounded
        self.bookmark.returned(str(record["id"]), stamp, self.overlap)
        self.examined += 1
        return len(self.events) >= self.limit or self.examined >= MAX_EXAMINED

    def result(self) -> tuple[list[dict], str]:
        return self.events, self.bookmark.pack()


def poll(connector: Lister, name: str, input: Any = None, since: Any = None, *,
         limit: int = DEFAULT_POLL_LIMIT, overlap: float = DEFAULT_OVERLAP_SECONDS) -> tuple[list[dict], str]:
    """Up to ``limit`` events of trigger ``name`` after ``since``, oldest first, and the bookmark to pass as
    ``since`` next time. Records are listed from ``overlap`` seconds before the newest one returned, and the
    ones already returned at the same timestamp are skipped: nothing is missed, nothing comes twice."""
    run = PollRun(connector, name, input, since, limit, overlap)
    for record in connector.iterate(run.operation, run.request):
        if run.take(record):
            break
    return run.result()


async def apoll(connector: Lister, name: str, input: Any = None, since: Any = None, *,
                limit: int = DEFAULT_POLL_LIMIT, overlap: float = DEFAULT_OVERLAP_SECONDS) -> tuple[list[dict], str]:
    """``poll`` on an async connector (the server's)."""
    run = PollRun(connector, name, input, since, limit, overlap)
    records = connector.aiterate(run.operation, run.request)
    try:
        async for record in records:
            if run.take(record):
                break
    finally:
        if isinstance(records, AsyncGenerator):  # typed an AsyncIterator; closed so its open page is let go
            await records.aclose()
    return run.result()


def described(trigger: RegisteredTrigger) -> dict[str, Any]:
    """One trigger with its schemas (``Connector.triggers()``, the server's trigger list)."""
    spec = trigger.spec
    return {"name": spec.name, "title": spec.title, "description": spec.description, "resource": spec.resource,
            "action": spec.action, "event": spec.event, "pollable": spec.poll is not None,
            "input_schema": trigger.input_schema, "output_schema": trigger.output_schema}

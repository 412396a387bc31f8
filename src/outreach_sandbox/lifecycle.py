"""What the server maintains on every write, per type, and the business rules a write must respect.

Generic: ``createdAt``/``updatedAt`` from the clock, ``creator``/``updater`` set to the acting user. Per type
(only where a type's schema has the member): prospect and user ``name`` from first/last name, prospect
``company`` from its account, unique prospect e-mails, a sequence state starting ``active`` on the first step
of its sequence and refused while the prospect is already in that sequence, new tasks ``incomplete``, new
mailings ``drafted``, new sequences disabled, an opportunity's read-only ``stage`` mirroring
``opportunityStage``, a mailbox's ``userId`` mirroring its user.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .clock import iso
from .errors import Issue, validation_failed
from .schema import Catalogue, ResourceType
from .store import Record, Store
from .webhooks import new_cleanup_token


@dataclass(frozen=True)
class WriteContext:
    """What a write needs besides the record: state, catalogue, the current time and the acting user."""

    store: Store
    catalogue: Catalogue
    now_ts: float
    user_id: int

    @property
    def now(self) -> str:
        return iso(self.now_ts)


def email_keys(record: Record) -> list[str]:
    return [e.lower() for e in record.attributes.get("emails") or () if isinstance(e, str)]


def _set_if_known(rtype: ResourceType, record: Record, name: str, value: object) -> None:
    if name in rtype.attributes:
        record.attributes[name] = value


def _full_name(_ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    parts = [record.attributes.get("firstName"), record.attributes.get("lastName")]
    record.attributes["name"] = " ".join(p for p in parts if p) or None


def _prospect(ctx: WriteContext, rtype: ResourceType, record: Record) -> None:
    _full_name(ctx, rtype, record)
    account = ctx.store.get("account", record.ref_id("account") or 0)
    if account is not None and not record.attributes.get("company"):
        record.attributes["company"] = account.attributes.get("name")
    index = ctx.store.table("prospect").index("emails", email_keys)
    for email in email_keys(record):
        taken = [i for i in index.lookup(ctx.store.table("prospect"), email) if i != record.id]
        if taken:
            raise validation_failed([Issue("/data/attributes/emails",
                                           f"Email '{email}' is already taken by prospect {taken[0]}.")])


def active_state_ids(store: Store, prospect_id: int, sequence_id: int) -> list[int]:
    """Unfinished sequence states binding this prospect to this sequence."""
    ids = store.related_ids("sequenceState", "prospect", "prospect", prospect_id)
    states = [store.require("sequenceState", i) for i in ids]
    return [state.id for state in states
            if state.ref_id("sequence") == sequence_id and state.attributes.get("state") != "finished"]


def _new_sequence_state(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    prospect_id, sequence_id = record.required_ref_id("prospect"), record.required_ref_id("sequence")
    existing = active_state_ids(ctx.store, prospect_id, sequence_id)
    if existing:
        detail = f"Prospect {prospect_id} is already active in sequence {sequence_id} (sequenceState {existing[0]})."
        raise validation_failed([Issue("/data/relationships/prospect", detail)])
    prospect = ctx.store.require("prospect", prospect_id)
    mailbox = ctx.store.require("mailbox", record.required_ref_id("mailbox"))
    steps = ctx.store.related_ids("sequenceStep", "sequence", "sequence", sequence_id)
    record.attributes.update(state="active", activeAt=ctx.now, stateChangedAt=ctx.now, deliverCount=0,
                             openCount=0, clickCount=0, replyCount=0, bounceCount=0, failureCount=0)
    record.relationships.update(account=prospect.relationships.get("account"), user=mailbox.relationships.get("user"),
                                sequenceStep=_first_step(ctx.store, steps))


def _first_step(store: Store, step_ids: list[int]) -> tuple[str, int] | None:
    steps = [store.require("sequenceStep", i) for i in step_ids]
    steps.sort(key=lambda s: (s.attributes.get("order") or 0, s.id))
    return ("sequenceStep", steps[0].id) if steps else None


def _new_task(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    record.attributes.update(state="incomplete", completed=False, stateChangedAt=ctx.now, taskType="follow_up")
    record.attributes.setdefault("dueAt", ctx.now)
    subject = record.relationships.get("subject")
    if subject and subject[0] == "prospect":
        record.relationships["prospect"] = subject


def _new_mailing(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    state = "scheduled" if record.attributes.get("scheduledAt") else "drafted"
    record.attributes.update(state=state, stateChangedAt=ctx.now, mailingType="single")
    mailbox = ctx.store.get("mailbox", record.ref_id("mailbox") or 0)
    if mailbox is not None:
        record.attributes["mailboxAddress"] = mailbox.attributes.get("email")
        record.relationships["user"] = mailbox.relationships.get("user")


def _new_call(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    record.attributes.update(state="completed", stateChangedAt=ctx.now)


def _new_sequence(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    record.attributes.update(enabled=False, locked=False, sequenceStepCount=0)


def _new_sequence_step(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    siblings = ctx.store.related_ids("sequenceStep", "sequence", "sequence", record.required_ref_id("sequence"))
    order = record.attributes.setdefault("order", len(siblings) + 1)
    record.attributes["displayName"] = f"Step #{order} ({record.attributes['stepType'].replace('_', ' ')})"


def _opportunity(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    record.relationships["stage"] = record.relationships.get("opportunityStage")


def _mailbox(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    record.attributes["userId"] = record.ref_id("user")


def _new_webhook(ctx: WriteContext, _rtype: ResourceType, record: Record) -> None:
    """Outreach's defaults: every resource and action, active, payload version 1; and its cleanup token."""
    for name, default in (("resource", "*"), ("action", "*"), ("active", True), ("payloadVersion", 1)):
        record.attributes.setdefault(name, default)
    record.attributes["cleanupToken"] = new_cleanup_token()


Hook = Callable[[WriteContext, ResourceType, Record], None]
ON_CREATE: dict[str, Hook] = {
    "prospect": _prospect, "user": _full_name, "sequenceState": _new_sequence_state, "task": _new_task,
    "mailing": _new_mailing, "call": _new_call, "sequence": _new_sequence, "sequenceStep": _new_sequence_step,
    "opportunity": _opportunity, "mailbox": _mailbox, "webhook": _new_webhook,
}
ON_UPDATE: dict[str, Hook] = {"prospect": _prospect, "user": _full_name, "opportunity": _opportunity,
                              "mailbox": _mailbox}


def on_create(ctx: WriteContext, rtype: ResourceType, record: Record) -> None:
    _set_if_known(rtype, record, "createdAt", ctx.now)
    _set_if_known(rtype, record, "updatedAt", ctx.now)
    for name in ("creator", "updater"):
        if name in rtype.relationships:
            record.relationships[name] = ("user", ctx.user_id)
    if rtype.name in ON_CREATE:
        ON_CREATE[rtype.name](ctx, rtype, record)


def on_update(ctx: WriteContext, rtype: ResourceType, record: Record) -> None:
    touch(ctx, rtype, record)
    if rtype.name in ON_UPDATE:
        ON_UPDATE[rtype.name](ctx, rtype, record)


def touch(ctx: WriteContext, rtype: ResourceType, record: Record) -> None:
    """Mark a record as changed now by the acting user (updates and member actions)."""
    _set_if_known(rtype, record, "updatedAt", ctx.now)
    if "updater" in rtype.relationships:
        record.relationships["updater"] = ("user", ctx.user_id)

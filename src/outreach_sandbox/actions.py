"""Member actions: ``POST /{collection}/{id}/actions/{name}`` with ``actionParams[x]=v`` query parameters.

Each action declares the parameters it accepts and requires; an unknown or missing parameter is a 400 (as the
reference reports for unsupported actionParams), an action the record's state does not allow is a 422, and
success is a 200 with the updated record. State machines: a sequence state goes active <-> paused and either
one -> finished; a sequence is enabled/disabled and locked/unlocked; a task is incomplete -> complete; a
sequence template is enabled/disabled; a pending batch is canceled or confirmed (running; a bulk action's batch
then runs at once and is finished, see :mod:`.bulk`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import bulk
from .clock import iso, parse_datetime
from .errors import action_not_allowed, bad_request
from .lifecycle import WriteContext, touch
from .store import Record

DAY = 86400.0
OPPORTUNITY_ASSOCIATIONS = ("recent_created", "recent_updated", "noop")


@dataclass(frozen=True)
class ActionSpec:
    """One member action: the parameters it takes and what it does to a copy of the record."""

    perform: Callable[[WriteContext, Record, dict[str, Any]], Record | dict]
    accepts: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


def _param(kind: str, name: str, raw: str) -> Any:
    """Typed actionParams: the vendor leaves them untyped, so ids are integers, dueAt a date-time."""
    parameter = f"actionParams[{name}]"
    if kind == "int":
        if not raw.isdigit():
            raise bad_request(f"{parameter} must be an integer id.", parameter)
        return int(raw)
    if kind == "datetime":
        moment = parse_datetime(raw)
        if moment is None:
            raise bad_request(f"{parameter} must be an ISO-8601 date-time.", parameter)
        return moment.timestamp()
    if kind == "bool":
        if raw not in ("true", "false"):
            raise bad_request(f"{parameter} must be true or false.", parameter)
        return raw == "true"
    return raw


PARAM_KINDS = {"confirmedCount": "int", "ownerId": "int", "taskDispositionId": "int", "taskPurposeId": "int",
               "dueAt": "datetime", "markAsUrgent": "bool"}


def parse_params(spec: ActionSpec, raw: dict[str, str]) -> dict[str, Any]:
    for name in raw:
        if name not in spec.accepts:
            raise bad_request(f"Unsupported action parameter '{name}'.", f"actionParams[{name}]")
    for name in spec.requires:
        if not raw.get(name):
            raise bad_request(f"Missing required action parameter '{name}'.", f"actionParams[{name}]")
    return {name: _param(PARAM_KINDS.get(name, "str"), name, value) for name, value in raw.items()}


def _require_state(record: Record, allowed: tuple[str, ...], kind: str, action: str) -> None:
    state = record.attributes.get("state")
    if state not in allowed:
        raise action_not_allowed(f"Cannot {action} {kind} {record.id}: it is {state}.")


def _set_state(ctx: WriteContext, record: Record, state: str) -> Record:
    record.attributes.update(state=state, stateChangedAt=ctx.now)
    return record


def pause(ctx: WriteContext, record: Record, _params: dict) -> Record:
    _require_state(record, ("active",), "sequenceState", "pause")
    record.attributes["pauseReason"] = "manual"
    return _set_state(ctx, record, "paused")


def resume(ctx: WriteContext, record: Record, _params: dict) -> Record:
    _require_state(record, ("paused",), "sequenceState", "resume")
    record.attributes.update(pauseReason=None, activeAt=ctx.now)
    return _set_state(ctx, record, "active")


def finish(ctx: WriteContext, record: Record, _params: dict) -> Record:
    _require_state(record, ("active", "paused"), "sequenceState", "finish")
    return _set_state(ctx, record, "finished")


def _toggle(flag: str, at: str, value: bool, verb: str,
            kind: str = "sequence") -> Callable[[WriteContext, Record, dict], Record]:
    def perform(ctx: WriteContext, record: Record, _params: dict) -> Record:
        if bool(record.attributes.get(flag)) == value:
            raise action_not_allowed(f"Cannot {verb} {kind} {record.id}: it is already {verb.removesuffix('e')}ed.")
        record.attributes.update({flag: value, at: ctx.now if value else None})
        return record
    return perform


def advance_state(ctx: WriteContext, state_id: int | None) -> None:
    """Move a sequence state to its next step, finishing it after the last one."""
    state = ctx.store.get("sequenceState", state_id or 0)
    if state is None or state.attributes.get("state") == "finished":
        return
    state = state.copy()
    steps = ctx.store.table("sequenceStep").records_of(
        ctx.store.related_ids("sequenceStep", "sequence", "sequence", state.ref_id("sequence") or 0))
    current = ctx.store.get("sequenceStep", state.ref_id("sequenceStep") or 0)
    position = (current.attributes.get("order") or 0) if current else 0
    later = sorted((s for s in steps if (s.attributes.get("order") or 0) > position),
                   key=lambda s: (s.attributes.get("order") or 0, s.id))
    if later:
        state.relationships["sequenceStep"] = ("sequenceStep", later[0].id)
    else:
        _set_state(ctx, state, "finished")
    _save(ctx, "sequenceState", state)


def finish_state(ctx: WriteContext, state_id: int | None, replied: bool) -> None:
    state = ctx.store.get("sequenceState", state_id or 0)
    if state is None or state.attributes.get("state") == "finished":
        return
    state = _set_state(ctx, state.copy(), "finished")
    if replied:
        state.attributes["repliedAt"] = ctx.now
    _save(ctx, "sequenceState", state)


def _save(ctx: WriteContext, type_name: str, record: Record) -> None:
    touch(ctx, ctx.catalogue[type_name], record)
    ctx.store.table(type_name).put(record)


def _open_task(record: Record, action: str) -> None:
    if record.attributes.get("state") == "complete":
        raise action_not_allowed(f"Cannot {action} task {record.id}: it is already complete.")


def _complete(ctx: WriteContext, record: Record, note: str | None) -> Record:
    record.attributes.update(completed=True, completedAt=ctx.now)
    record.relationships["completer"] = ("user", ctx.user_id)
    if note:
        record.attributes["note"] = note  # Outreach files it as a prospect note; those are not modelled
    return _set_state(ctx, record, "complete")


def mark_complete(ctx: WriteContext, record: Record, params: dict) -> Record:
    _open_task(record, "markComplete")
    action = params.get("completionAction")
    if record.ref_id("sequenceState"):
        if action in ("finish_no_reply", "finish_replied"):
            finish_state(ctx, record.ref_id("sequenceState"), replied=action == "finish_replied")
        else:
            advance_state(ctx, record.ref_id("sequenceState"))
    return _complete(ctx, record, params.get("completionNote"))


def snooze(ctx: WriteContext, record: Record, params: dict) -> Record:
    _open_task(record, "snooze")
    if "dueAt" in params:
        record.attributes["dueAt"] = iso(params["dueAt"])
    else:
        current = parse_datetime(record.attributes.get("dueAt") or "")
        base = max(ctx.now_ts, current.timestamp() if current else ctx.now_ts)
        record.attributes["dueAt"] = iso(base + DAY)
    if params.get("markAsUrgent") and ctx.store.get("taskPriority", 1) is not None:
        record.relationships["taskPriority"] = ("taskPriority", 1)
    return record


def reschedule(ctx: WriteContext, record: Record, params: dict) -> Record:
    _open_task(record, "reschedule")
    record.attributes["dueAt"] = iso(params["dueAt"])
    return record


def advance(ctx: WriteContext, record: Record, _params: dict) -> Record:
    _open_task(record, "advance")
    if not str(record.attributes.get("taskType") or "").startswith("sequence_step"):
        raise action_not_allowed(f"Cannot advance task {record.id}: it is not a sequence step task.")
    advance_state(ctx, record.ref_id("sequenceState"))
    return _complete(ctx, record, None)


def deliver(ctx: WriteContext, record: Record, _params: dict) -> Record:
    _open_task(record, "deliver")
    mailing = ctx.store.get("mailing", record.ref_id("mailing") or 0)
    if record.attributes.get("action") != "email" or mailing is None:
        raise action_not_allowed(f"Cannot deliver task {record.id}: it has no mailing to deliver.")
    if mailing.attributes.get("state") not in ("drafted", "scheduled", "placeholder"):
        raise action_not_allowed(f"Cannot deliver task {record.id}: its mailing is {mailing.attributes['state']}.")
    mailing = _set_state(ctx, mailing.copy(), "queued")
    mailing.attributes["scheduledAt"] = ctx.now
    _save(ctx, "mailing", mailing)
    return record


def reassign_owner(ctx: WriteContext, record: Record, params: dict) -> Record:
    if ctx.store.get("user", params["ownerId"]) is None:
        raise action_not_allowed(f"Cannot reassign task {record.id}: user {params['ownerId']} does not exist.")
    record.relationships["owner"] = ("user", params["ownerId"])
    return record


def update_note(ctx: WriteContext, record: Record, params: dict) -> Record:
    record.attributes["note"] = params["note"]
    return record


def update_opportunity_association(ctx: WriteContext, record: Record, params: dict) -> Record:
    value = params["opportunityAssociation"]
    if value not in OPPORTUNITY_ASSOCIATIONS:
        raise action_not_allowed(f"opportunityAssociation must be one of {', '.join(OPPORTUNITY_ASSOCIATIONS)}.")
    record.attributes["opportunityAssociation"] = value
    return record


def log_meet_in_person(ctx: WriteContext, record: Record, params: dict) -> Record:
    _open_task(record, "logMeetInPerson")
    if record.attributes.get("action") != "in_person":
        raise action_not_allowed(f"Cannot logMeetInPerson for task {record.id}: it is not an in-person task.")
    record.relationships["taskDisposition"] = ("taskDisposition", params["taskDispositionId"])
    if "taskPurposeId" in params:
        record.relationships["taskPurpose"] = ("taskPurpose", params["taskPurposeId"])
    return _complete(ctx, record, params.get("completionNote"))


def _stamp(attribute: str, *also: str) -> Callable[[WriteContext, Record, dict], Record]:
    def perform(ctx: WriteContext, record: Record, _params: dict) -> Record:
        for name in (attribute, *also):
            record.attributes[name] = ctx.now
        return record
    return perform


def cancel_batch(ctx: WriteContext, record: Record, _params: dict) -> Record:
    _require_state(record, ("pending",), "batch", "cancel")
    record.attributes["canceledAt"] = ctx.now
    return _set_state(ctx, record, "canceled")


def confirm_batch(ctx: WriteContext, record: Record, params: dict) -> Record:
    """A batch that asks for a confirmed count runs only when the caller confirms the count it was shown."""
    _require_state(record, ("pending",), "batch", "confirm")
    wanted = record.attributes.get("confirmCount")
    if record.attributes.get("confirmedCountRequired") and params.get("confirmedCount") != wanted:
        raise action_not_allowed(f"Cannot confirm batch {record.id}: confirmedCount must be {wanted}.")
    record.attributes["confirmedAt"] = ctx.now
    _set_state(ctx, record, "running")
    bulk.run(ctx, record)  # a bulk action's batch runs now (synchronously here) and finishes
    return record


def _empty(_ctx: WriteContext, _record: Record, _params: dict) -> dict:
    return {}  # the vendor documents an empty object for the EWS link actions


ACTIONS: dict[tuple[str, str], ActionSpec] = {
    ("sequenceState", "pause"): ActionSpec(pause),
    ("sequenceState", "resume"): ActionSpec(resume),
    ("sequenceState", "finish"): ActionSpec(finish),
    ("sequence", "activate"): ActionSpec(_toggle("enabled", "enabledAt", True, "activate")),
    ("sequence", "deactivate"): ActionSpec(_toggle("enabled", "enabledAt", False, "deactivate")),
    ("sequence", "lock"): ActionSpec(_toggle("locked", "lockedAt", True, "lock")),
    ("sequence", "unlock"): ActionSpec(_toggle("locked", "lockedAt", False, "unlock")),
    ("task", "markComplete"): ActionSpec(mark_complete, ("completionAction", "completionNote")),
    ("task", "snooze"): ActionSpec(snooze, ("dueAt", "markAsUrgent")),
    ("task", "reschedule"): ActionSpec(reschedule, ("dueAt",), ("dueAt",)),
    ("task", "advance"): ActionSpec(advance),
    ("task", "deliver"): ActionSpec(deliver),
    ("task", "reassignOwner"): ActionSpec(reassign_owner, ("ownerId",), ("ownerId",)),
    ("task", "updateNote"): ActionSpec(update_note, ("note",), ("note",)),
    ("task", "updateOpportunityAssociation"): ActionSpec(
        update_opportunity_association, ("opportunityAssociation",), ("opportunityAssociation",)),
    ("task", "logMeetInPerson"): ActionSpec(
        log_meet_in_person, ("taskDispositionId", "taskPurposeId", "completionNote"), ("taskDispositionId",)),
    ("sequenceTemplate", "activate"): ActionSpec(_toggle("enabled", "enabledAt", True, "activate", "sequenceTemplate")),
    ("sequenceTemplate", "deactivate"): ActionSpec(
        _toggle("enabled", "enabledAt", False, "deactivate", "sequenceTemplate")),
    ("batch", "cancel"): ActionSpec(cancel_batch),
    ("batch", "confirm"): ActionSpec(confirm_batch, ("confirmedCount",)),
    ("mailbox", "testSend"): ActionSpec(_stamp("sendSuccessAt")),
    ("mailbox", "testSync"): ActionSpec(_stamp("syncSuccessAt", "syncFinishedAt")),
    ("mailbox", "linkEwsMasterAccount"): ActionSpec(_empty),
    ("mailbox", "unlinkEwsMasterAccount"): ActionSpec(_empty),
}


def find(type_name: str, name: str) -> ActionSpec | None:
    return ACTIONS.get((type_name, name))

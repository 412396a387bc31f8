"""Collection-level bulk actions: ``POST /batches/actions/<name>``, answered with the batch they make.

The records are ``data.attributes.ids``, or those ``actionParams[filter][...]`` selects, or (Outreach's
default) every record of the type. The batch gets one batchItem per record. Without
``actionParams[skipConfirmation]=true`` it waits ``pending`` with ``confirmCount`` = its records, and the change
is applied when it is confirmed; with it, the change is applied at once. Applied, each item is ``finished`` or
``failed`` (the reason in ``info``) and the batch ``finished`` with its ``failures`` counted.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request
from .lifecycle import WriteContext, active_state_ids, on_create, touch
from .query import parse_filter
from .schema import ResourceType
from .store import Record
from .validation import validate_write

# Changes one record (a copy); answers why it could not, or None. DESTROY deletes the record instead.
Change = Callable[[WriteContext, Record, dict], "str | None"]
DESTROY = "destroy"


@dataclass(frozen=True)
class BulkAction:
    target: str | None  # the type it changes; None for custom objects, which the sandbox does not model
    change: Change | str
    body: tuple[str, ...] = ()  # data.attributes members it requires besides ids


LIST_MEMBERS = ("tags", "userIds")  # body members that are lists of strings (the rest: one id)


def _list(payload: dict, name: str) -> list:
    return list(payload.get(name) or [])


def _added(current: list, wanted: list) -> list:
    return current + [r for r in wanted if r not in current]


def _removed(current: list, wanted: list) -> list:
    return [r for r in current if r not in wanted]


def add_tags(_ctx: WriteContext, record: Record, payload: dict) -> None:
    record.attributes["tags"] = _added(list(record.attributes.get("tags") or []), _list(payload, "tags"))


def remove_tags(_ctx: WriteContext, record: Record, payload: dict) -> None:
    record.attributes["tags"] = _removed(list(record.attributes.get("tags") or []), _list(payload, "tags"))


def _ref(ctx: WriteContext, type_name: str, raw: Any) -> tuple[str, int] | str:
    """(type, id) of an existing record, or why not."""
    ident = int(raw) if str(raw).isdigit() else 0
    return (type_name, ident) if ctx.store.get(type_name, ident) else f"{type_name} {raw} does not exist."


def _assign(relationship: str, type_name: str, member: str) -> Change:
    def change(ctx: WriteContext, record: Record, payload: dict) -> str | None:
        ref = _ref(ctx, type_name, payload.get(member))
        if isinstance(ref, str):
            return ref
        record.relationships[relationship] = ref
        return None
    return change


def add_opportunity(ctx: WriteContext, record: Record, payload: dict) -> str | None:
    ref = _ref(ctx, "opportunity", payload.get("opportunityId"))
    if isinstance(ref, str):
        return ref
    current = list(record.relationships.get("opportunities") or [])
    record.relationships["opportunities"] = current + ([ref] if ref not in current else [])
    return None


def _assignments(keep: Callable[[list, list], list]) -> Change:
    """assignedUsers: keep(current refs, the userIds' refs) is the new list."""
    def change(_ctx: WriteContext, record: Record, payload: dict) -> None:
        wanted = [("user", int(u)) for u in _list(payload, "userIds") if str(u).isdigit()]
        record.relationships["assignedUsers"] = keep(list(record.relationships.get("assignedUsers") or []), wanted)
    return change


def bulk_modify(ctx: WriteContext, record: Record, payload: dict, type_name: str = "") -> None:
    """Any writable attribute, checked as an update of the record would be (a refusal fails the item)."""
    changes = {k: v for k, v in payload.items() if k != "ids"}
    write = validate_write(ctx.catalogue, ctx.store, ctx.catalogue[type_name], {"attributes": changes}, creating=False)
    record.attributes.update(write.attributes)


def _modify(type_name: str) -> Change:
    return lambda ctx, record, payload: bulk_modify(ctx, record, payload, type_name)


def _sequence_states(state: str, allowed: tuple[str, ...]) -> Change:
    """prospectsPauseAll / prospectsFinishAll: the prospect's sequence states in ``allowed`` move to ``state``."""
    def change(ctx: WriteContext, record: Record, _payload: dict) -> None:
        table = ctx.store.table("sequenceState")
        for ident in ctx.store.related_ids("sequenceState", "prospect", "prospect", record.id):
            current = ctx.store.require("sequenceState", ident)
            if current.attributes.get("state") in allowed:
                moved = current.copy()
                moved.attributes.update(state=state, stateChangedAt=ctx.now)
                touch(ctx, ctx.catalogue["sequenceState"], moved)
                table.put(moved)
    return change


def add_to_sequence(ctx: WriteContext, record: Record, payload: dict) -> str | None:
    sequence, mailbox = _ref(ctx, "sequence", payload.get("sequenceId")), _ref(ctx, "mailbox", payload.get("mailboxId"))
    if isinstance(sequence, str):
        return sequence
    if isinstance(mailbox, str):
        return mailbox
    if active_state_ids(ctx.store, record.id, sequence[1]):
        return f"prospect {record.id} is already active in sequence {sequence[1]}."
    state = Record(0, {}, {"prospect": ("prospect", record.id), "sequence": sequence, "mailbox": mailbox})
    on_create(ctx, ctx.catalogue["sequenceState"], state)
    ctx.store.table("sequenceState").insert(state)
    return None


def _not_modelled(_ctx: WriteContext, _record: Record, _payload: dict) -> str:
    return "custom objects are not modelled by the sandbox."


def _both(kind: str, plural: str, **more: BulkAction) -> dict[str, BulkAction]:
    """The actions prospects and accounts share; the vendor names the account tag action accountAddTags."""
    return {
        ("accountAddTags" if kind == "account" else f"{plural}AddTags"): BulkAction(kind, add_tags, ("tags",)),
        f"{plural}RemoveTags": BulkAction(kind, remove_tags, ("tags",)),
        f"{plural}AssignOwner": BulkAction(kind, _assign("owner", "user", "ownerId"), ("ownerId",)),
        f"{plural}AddAssignments": BulkAction(kind, _assignments(_added), ("userIds",)),
        f"{plural}RemoveAssignments": BulkAction(kind, _assignments(_removed), ("userIds",)),
        f"{plural}RemoveAllAssignments": BulkAction(kind, _assignments(lambda _now, _new: [])),
        f"{plural}BulkModify": BulkAction(kind, _modify(kind)),
        f"{plural}DestroyAll": BulkAction(kind, DESTROY),
        **more,
    }


BULK: dict[str, BulkAction] = {
    **_both("account", "accounts"),
    **_both("prospect", "prospects",
            prospectsAddToSequence=BulkAction("prospect", add_to_sequence, ("sequenceId", "mailboxId")),
            prospectsAssignAccount=BulkAction("prospect", _assign("account", "account", "accountId"), ("accountId",)),
            prospectsAssignOpportunity=BulkAction("prospect", add_opportunity, ("opportunityId",)),
            prospectsPauseAll=BulkAction("prospect", _sequence_states("paused", ("active",))),
            prospectsFinishAll=BulkAction("prospect", _sequence_states("finished", ("active", "paused")))),
    "customObjectBulkModify": BulkAction(None, _not_modelled),
    "customObjectBulkDelete": BulkAction(None, _not_modelled),
}


def find(name: str) -> BulkAction | None:
    return BULK.get(name)


def _action_params(name: str, query: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(filter pairs as ``filter[...]``, the other actionParams); unknown or missing ones are a 400."""
    allowed = {"skipConfirmation", *(("objectName",) if name.startswith("customObject") else ())}
    filters, others = [], {}
    for key, value in query:
        if key.startswith("actionParams[filter]"):
            filters.append(("filter" + key.removeprefix("actionParams[filter]"), value))
        elif key.startswith("actionParams[") and key.endswith("]"):
            param = key[len("actionParams["):-1]
            if param not in allowed:
                raise bad_request(f"Unsupported action parameter '{param}'.", key)
            others[param] = value
    if "objectName" in allowed and not others.get("objectName"):
        raise bad_request("Missing required action parameter 'objectName'.", "actionParams[objectName]")
    if others.get("skipConfirmation", "false") not in ("true", "false"):
        raise bad_request("actionParams[skipConfirmation] must be true or false.", "actionParams[skipConfirmation]")
    return filters, others


def _check_body(spec: BulkAction, attributes: dict) -> list[int]:
    """The ids (may be empty), once the members the action needs are there."""
    ids = attributes.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
        raise bad_request("'ids' must be a list of record ids.", pointer="/data/attributes/ids")
    for member in spec.body:
        value = attributes.get(member)
        if value in (None, "", []):
            raise bad_request(f"'{member}' is required.", pointer=f"/data/attributes/{member}")
        if member in LIST_MEMBERS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise bad_request(f"'{member}' must be a list of strings.", pointer=f"/data/attributes/{member}")
    return ids


def _targets(ctx: WriteContext, spec: BulkAction, ids: list[int], filters: list[tuple[str, str]]) -> list[int]:
    if spec.target is None or (ids and not filters):
        return ids
    rtype = ctx.catalogue[spec.target]
    tests = [_filter_test(rtype, key, value) for key, value in filters]
    chosen = [r.id for r in ctx.store.records(spec.target) if all(test(r) for test in tests)]
    return [i for i in chosen if i in ids] if ids else chosen


def _filter_test(rtype: ResourceType, key: str, value: str) -> Callable[[Record], bool]:
    """A list's filter, its refusal naming the parameter as it was sent (actionParams[filter][...])."""
    try:
        return parse_filter(rtype, key, value).test
    except ApiError as error:
        raise bad_request(error.errors[0]["detail"], "actionParams[filter]" + key.removeprefix("filter")) from None


def start(ctx: WriteContext, name: str, attributes: dict, query: list[tuple[str, str]]) -> Record:
    """Make the batch (and its items) of one bulk action; run it when confirmation is skipped."""
    spec = BULK[name]
    filters, params = _action_params(name, query)
    targets = _targets(ctx, spec, _check_body(spec, attributes), filters)
    batch = Record(0, {"action": name, "state": "pending", "total": len(targets), "pending": len(targets),
                       "failures": 0, "confirmCount": len(targets), "confirmedCountRequired": False,
                       "payload": attributes}, {})
    on_create(ctx, ctx.catalogue["batch"], batch)
    ctx.store.table("batch").insert(batch)
    key = f"{spec.target or params.get('objectName')}Id"
    for ident in targets:
        item = Record(0, {"batchId": batch.id, "data": json.dumps({key: ident}), "state": "pending", "failed": False},
                      {"batch": ("batch", batch.id)})
        on_create(ctx, ctx.catalogue["batchItem"], item)
        ctx.store.table("batchItem").insert(item)
    if params.get("skipConfirmation") == "true":
        batch = batch.copy()  # a stored record is replaced, never changed in place (the tables index values)
        run(ctx, batch)
        ctx.store.table("batch").put(batch)
    return batch


def _apply(ctx: WriteContext, spec: BulkAction, ident: int, payload: dict) -> str | None:
    if spec.target is None:  # custom objects: no record is kept; the change says what the sandbox does
        return _attempt(ctx, spec.change, Record(ident, {}, {}), payload)
    record = ctx.store.get(spec.target, ident)
    if record is None:
        return f"{spec.target} {ident} does not exist."
    if spec.change == DESTROY:
        ctx.store.table(spec.target).delete(ident)
        return None
    record = record.copy()
    failure = _attempt(ctx, spec.change, record, payload)
    if failure is None:
        touch(ctx, ctx.catalogue[spec.target], record)
        ctx.store.table(spec.target).put(record)
    return failure


def _attempt(ctx: WriteContext, change: Change | str, record: Record, payload: dict) -> str | None:
    """Why ``change`` could not be made to ``record`` (changed in place), or None when it was."""
    if isinstance(change, str):
        raise ValueError(f"{change!r} does not change a record: only a callable change is attempted")
    try:
        return change(ctx, record, payload)
    except ApiError as error:
        return error.errors[0]["detail"]


def run(ctx: WriteContext, batch: Record) -> None:
    """Apply a batch's pending items (``batch`` is changed in place; the caller saves it)."""
    spec = BULK.get(batch.attributes.get("action") or "")
    if spec is None:
        return
    items = ctx.store.table("batchItem")
    failures = 0
    for ident in ctx.store.related_ids("batchItem", "batch", "batch", batch.id):
        item = ctx.store.require("batchItem", ident).copy()
        if item.attributes.get("state") != "pending":
            continue
        record_id = next(iter(json.loads(item.attributes.get("data") or "{}").values()), 0)
        failure = _apply(ctx, spec, int(record_id), batch.attributes.get("payload") or {})
        failures += failure is not None
        item.attributes.update(state="failed" if failure else "finished", failed=failure is not None, info=failure)
        items.put(item)
    batch.attributes.update(state="finished", pending=0, failures=failures, startedAt=ctx.now, finishedAt=ctx.now)

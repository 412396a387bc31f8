"""Seed factories for what happens in the org: sequence states, mailings, calls, tasks, events, audits."""
from __future__ import annotations

import uuid
from typing import Any

from . import vocab
from .clock import SEED_EPOCH, iso
from .dice import Dice
from .seed import ORG_DOMAIN, SeedContext, email_hash, make, pick, ref
from .store import Record

DAY = 86400.0


def _uuid(rng: Dice) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def sequence_state(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("sequenceState", i)
    links = ctx.state_links(i)
    account_id, owner, _ = ctx.prospect_links(links.prospect)
    state = rng.weighted(("active", "paused", "finished"), weights=(6, 2, 2))
    stamps = ctx.stamps("sequenceState", i, ctx.state_count)
    first = ctx.first_step(links.sequence)
    delivered = rng.roll(0, ctx.config.steps_per_sequence)
    attrs = {"state": state, "stateChangedAt": stamps["updatedAt"], "activeAt": stamps["updatedAt"],
             "pauseReason": "manual" if state == "paused" else None, "deliverCount": delivered,
             "openCount": rng.roll(0, delivered), "clickCount": 0, "replyCount": int(state == "finished"),
             "bounceCount": 0, "failureCount": 0, "scheduleCount": 0, **stamps}
    step = first + rng.roll(0, ctx.config.steps_per_sequence - 1) if first else None
    rels = {"prospect": ("prospect", links.prospect), "sequence": ("sequence", links.sequence),
            "mailbox": ("mailbox", owner), "user": ("user", owner), "account": ref("account", account_id),
            "sequenceStep": ref("sequenceStep", step), "creator": ("user", owner)}
    return make(i, attrs, rels)


def _mailing_links(ctx: SeedContext, rng: Dice, i: int) -> dict:
    if ctx.state_count:
        links = ctx.state_links((i - 1) % ctx.state_count + 1)
        prospect, seq = links.prospect, links.sequence
        return {"prospect": prospect, "sequence": seq, "state": (i - 1) % ctx.state_count + 1,
                "step": ctx.first_step(seq)}
    return {"prospect": pick(rng, ctx.config.prospects), "sequence": None, "state": None, "step": None}


def mailing(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("mailing", i)
    links = _mailing_links(ctx, rng, i)
    owner = ctx.prospect_links(links["prospect"])[1]
    stamps = ctx.stamps("mailing", i, ctx.config.mailings)
    state = "drafted" if i % 5 == 0 else rng.choice(("delivered", "opened", "replied", "bounced"))
    sent = state != "drafted"
    subject = vocab.TEMPLATE_SUBJECTS[i % len(vocab.TEMPLATE_SUBJECTS)].replace("{company}", "your team")
    attrs = {
        "subject": subject, "bodyHtml": f"<p>{subject}</p>", "bodyText": subject, "state": state,
        "stateChangedAt": stamps["updatedAt"], "mailingType": "sequence" if links["sequence"] else "single",
        "mailboxAddress": ctx.user_email(owner), "trackLinks": True, "trackOpens": True,
        "messageId": f"<{_uuid(rng)}@{ORG_DOMAIN}>" if sent else None,
        "deliveredAt": stamps["createdAt"] if sent and state != "bounced" else None,
        "bouncedAt": stamps["updatedAt"] if state == "bounced" else None,
        "openedAt": stamps["updatedAt"] if state in ("opened", "replied") else None,
        "repliedAt": stamps["updatedAt"] if state == "replied" else None,
        "openCount": int(state in ("opened", "replied")), "clickCount": 0, **stamps,
    }
    rels = {"prospect": ref("prospect", links["prospect"]), "mailbox": ("mailbox", owner), "user": ("user", owner),
            "sequence": ref("sequence", links["sequence"]), "sequenceState": ref("sequenceState", links["state"]),
            "sequenceStep": ref("sequenceStep", links["step"]),
            "template": ref("template", pick(rng, ctx.config.templates))}
    return make(i, attrs, rels)


def call(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("call", i)
    prospect = rng.roll(1, ctx.config.prospects)
    owner = ctx.prospect_links(prospect)[1]
    disposition = rng.roll(1, len(vocab.CALL_DISPOSITIONS))
    answered = vocab.CALL_DISPOSITIONS[disposition - 1][1] == "completed"
    dialed = ctx.created_at("call", i, ctx.config.calls)
    attrs: dict[str, Any] = {
        "direction": "outbound" if i % 6 else "inbound", "from": f"+12065550{200 + owner}",
        "to": ctx.prospect_phone(prospect).replace(" ", ""), "outcome": "completed" if answered else "no_answer",
        "state": "completed", "dialedAt": iso(dialed), "answeredAt": iso(dialed + 9) if answered else None,
        "completedAt": iso(dialed + rng.roll(30, 900)), "stateChangedAt": iso(dialed + 901),
        "note": rng.choice(("Left details about pricing.", "Asked to call back next week.", "Booked a demo.")),
        "userCallType": "voip", "shouldRecordCall": False, "tags": [], "uid": _uuid(rng),
        **ctx.stamps("call", i, ctx.config.calls),
    }
    phone = prospect if prospect <= min(ctx.config.phone_numbers, ctx.config.prospects) else None
    rels = {"prospect": ("prospect", prospect), "user": ("user", owner), "phoneNumber": ref("phoneNumber", phone),
            "callDisposition": ("callDisposition", disposition),
            "callPurpose": ("callPurpose", rng.roll(1, len(vocab.CALL_PURPOSES))),
            "opportunity": ref("opportunity", every_third(ctx.config.opportunities, i)),
            **call_sequence_links(ctx, i)}
    return make(i, attrs, rels)


def every_third(count: int, i: int) -> int | None:
    """Every third record of a kind relates to one of ``count`` others (an opportunity), in turn."""
    return (i // 3 - 1) % count + 1 if count and i % 3 == 0 else None


def call_task(ctx: SeedContext, call_id: int) -> int | None:
    """Every second call is the call of a sequence-step call task: call 2k belongs to task 4k."""
    task_id = 2 * call_id
    return task_id if call_id % 2 == 0 and ctx.state_count and task_id <= ctx.config.tasks else None


def task_call(ctx: SeedContext, task_id: int) -> int | None:
    """The inverse of :func:`call_task`."""
    call_id = task_id // 2
    return call_id if task_id % 4 == 0 and ctx.state_count and call_id <= ctx.config.calls else None


def step_task_state(ctx: SeedContext, task_id: int) -> int:
    """The sequence state a sequence-step task (ids 4, 8, ...) works on."""
    return (task_id // 4 - 1) % ctx.state_count + 1


def call_sequence_links(ctx: SeedContext, call_id: int) -> dict:
    """A call made for a sequence-step task: its task, that task's prospect, sequence, state and step."""
    task_id = call_task(ctx, call_id)
    if task_id is None:
        return {"task": None, "sequence": None, "sequenceState": None, "sequenceStep": None}
    state = step_task_state(ctx, task_id)
    links = ctx.state_links(state)
    return {"task": ("task", task_id), "prospect": ("prospect", links.prospect),
            "sequence": ("sequence", links.sequence), "sequenceState": ("sequenceState", state),
            "sequenceStep": ref("sequenceStep", ctx.first_step(links.sequence))}


def _task_kind(ctx: SeedContext, rng: Dice, i: int) -> tuple[dict, dict]:
    """What a seeded task is about: a sequence step, a call, a meeting or an e-mail (attributes, links)."""
    kind = i % 4
    if kind == 0 and ctx.state_count:
        state = step_task_state(ctx, i)
        links = ctx.state_links(state)
        return ({"action": "call", "taskType": "sequence_step_call"},
                {"prospect": links.prospect, "sequence": links.sequence, "sequenceState": state,
                 "sequenceStep": ctx.first_step(links.sequence)})
    prospect = rng.roll(1, ctx.config.prospects)
    if kind == 3 and ctx.config.mailings >= 5:
        mailing_id = 5 * ((i // 4) % (ctx.config.mailings // 5) + 1)
        return {"action": "email", "taskType": "follow_up"}, {"prospect": prospect, "mailing": mailing_id}
    action = "in_person" if kind == 2 else rng.choice(("call", "action_item"))
    return {"action": action, "taskType": "follow_up"}, {"prospect": prospect}


def task(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("task", i)
    attrs, links = _task_kind(ctx, rng, i)
    account_id, owner, stage_id = ctx.prospect_links(links["prospect"])
    stamps = ctx.stamps("task", i, ctx.config.tasks)
    done = i % 5 == 0
    attrs |= {"state": "complete" if done else "incomplete", "completed": done,
              "completedAt": stamps["updatedAt"] if done else None, "stateChangedAt": stamps["updatedAt"],
              "dueAt": iso(SEED_EPOCH + rng.roll(-5, 10) * DAY), "note": rng.choice(
                  ("Follow up on proposal", "Send case study", "Confirm meeting agenda", "Check budget timing")),
              **stamps}
    rels = {"owner": ("user", owner), "prospect": ("prospect", links["prospect"]),
            "subject": ("prospect", links["prospect"]), "account": ref("account", account_id),
            "prospectAccount": ref("account", account_id), "prospectOwner": ("user", owner),
            "prospectStage": ("stage", stage_id), "taskPriority": ("taskPriority", rng.roll(1, 3)),
            "creator": ("user", owner), "completer": ("user", owner) if done else None,
            **{name: ref(name, links.get(name)) for name in ("sequence", "sequenceState", "sequenceStep", "mailing")},
            "call": ref("call", task_call(ctx, i)),
            "opportunity": ref("opportunity", every_third(ctx.config.opportunities, i)),
            **task_templates(ctx, links)}
    return make(i, attrs, rels)


SEQUENCE_TEMPLATES = 4  # seed_extended's fixed count; sequence template n is the template of step n


def task_templates(ctx: SeedContext, links: dict) -> dict:
    """The template a task sends: its mailing's, or its sequence step's (through the step's sequence template)."""
    if links.get("mailing"):
        return {"template": mailing(ctx, links["mailing"]).relationships.get("template"), "sequenceTemplate": None}
    step = links.get("sequenceStep")
    if step and step <= min(SEQUENCE_TEMPLATES, ctx.step_count) and ctx.config.templates:
        return {"template": ("template", min(step, ctx.config.templates)),
                "sequenceTemplate": ("sequenceTemplate", step)}
    return {"template": None, "sequenceTemplate": None}


def event(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("event", i)
    name = vocab.EVENT_NAMES[(i - 1) % len(vocab.EVENT_NAMES)]
    prospect = rng.roll(1, ctx.config.prospects)
    stamps = ctx.stamps("event", i, ctx.config.events)
    mailing_id = pick(rng, ctx.config.mailings) if name.startswith("mailing") else None
    attrs = {"name": name, "eventAt": stamps["createdAt"], "createdAt": stamps["createdAt"],
             "payload": {"source": "sandbox", "name": name}, "requestCity": rng.choice(vocab.LOCALITIES)[0],
             "requestDevice": rng.choice(("desktop", "mobile")), "requestProxied": False}
    calls, tasks = ctx.config.calls, ctx.config.tasks
    call_id = (i - 1) % calls + 1 if name == "call_completed" and calls else None
    task_id = 5 * ((i - 1) % (tasks // 5) + 1) if name == "task_completed" and tasks >= 5 else None  # completed ones
    subject = call(ctx, call_id) if call_id else task(ctx, task_id) if task_id else None
    if subject is not None:  # the event is about that call or task: its prospect is theirs
        prospect = subject.relationships["prospect"][1]
    rels = {"prospect": ("prospect", prospect), "user": ("user", ctx.prospect_links(prospect)[1]),
            "mailing": ref("mailing", mailing_id), "account": ref("account", ctx.prospect_links(prospect)[0]),
            "call": ref("call", call_id), "task": ref("task", task_id),
            "opportunity": ref("opportunity", every_third(ctx.config.opportunities, i))}
    return make(i, attrs, rels)


def recipient(ctx: SeedContext, i: int) -> Record:
    prospect = (i - 1) % ctx.config.prospects + 1
    email = ctx.prospect_email(prospect)
    attrs = {"value": email, "emailHash": email_hash(email), "recipientType": ("to", "cc", "bcc")[(i - 1) % 3],
             "primary": i % 3 == 1, **ctx.stamps("recipient", i, ctx.config.recipients)}
    return make(i, attrs, {"prospect": ("prospect", prospect), "user": None})


def compliance_request(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("complianceRequest", i)
    attrs = {"batchComplianceRequestUuid": _uuid(rng), "uuid": _uuid(rng), "objectType": "Prospect",
             "pii": {"email": f"former.contact{i}@example.org"}, "requestType": "Delete", "requesterId": 1,
             "state": "done", **ctx.stamps("complianceRequest", i, ctx.config.compliance_requests)}
    return make(i, attrs, {"requester": ("user", 1)})


def audit(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("audit", i)
    user_id = (i - 1) % ctx.config.users + 1
    attrs = {"user": ctx.user_email(user_id), "userId": user_id,
             "requestIp": f"10.{20 + user_id % 200}.{rng.roll(0, 255)}.{rng.roll(1, 254)}",
             "timestamp": iso(ctx.created_at("audit", i, ctx.config.audits)),
             "eventName": rng.weighted(vocab.AUDIT_EVENTS, weights=(8, 5, 1, 1, 1, 1)), "orgId": ctx.org_id}
    return make(i, attrs, {})


def _needs_prospects(count):
    return lambda ctx: count(ctx) if ctx.config.prospects else 0


ACTIVITY_FACTORIES = {
    "sequenceState": (lambda ctx: ctx.state_count, sequence_state),
    "mailing": (_needs_prospects(lambda ctx: ctx.config.mailings), mailing),
    "call": (_needs_prospects(lambda ctx: ctx.config.calls), call),
    "task": (_needs_prospects(lambda ctx: ctx.config.tasks), task),
    "event": (_needs_prospects(lambda ctx: ctx.config.events), event),
    "recipient": (_needs_prospects(lambda ctx: ctx.config.recipients), recipient),
    "complianceRequest": (lambda ctx: ctx.config.compliance_requests, compliance_request),
    "audit": (lambda ctx: ctx.config.audits, audit),
}

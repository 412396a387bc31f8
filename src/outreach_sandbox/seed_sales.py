"""Seed factories for the org's set-up: stages, dispositions, priorities, templates, sequences, opportunities."""
from __future__ import annotations

from . import vocab
from .clock import SEED_EPOCH, iso
from .seed import SeedContext, make, pick, ref
from .store import Record

DAY = 86400.0


def stage(ctx: SeedContext, i: int) -> Record:
    name, color = vocab.STAGES[i - 1]
    attrs = {"name": name, "color": color, "order": i, **ctx.stamps("stage", i, len(vocab.STAGES))}
    return make(i, attrs, {"creator": ("user", 1), "updater": ("user", 1)})


def opportunity_stage(ctx: SeedContext, i: int) -> Record:
    name, closed = vocab.OPPORTUNITY_STAGES[i - 1]
    colors = ("#9aa5b1", "#5951ff", "#2b90d9", "#f5a623", "#e86a1c", "#2bb673", "#d0021b")
    attrs = {"name": name, "isClosed": closed, "order": i, "color": colors[i - 1],
             **ctx.stamps("opportunityStage", i, len(vocab.OPPORTUNITY_STAGES))}
    return make(i, attrs, {"creator": ("user", 1)})


def call_disposition(ctx: SeedContext, i: int) -> Record:
    name, outcome = vocab.CALL_DISPOSITIONS[i - 1]
    attrs = {"name": name, "outcome": outcome, "order": i,
             **ctx.stamps("callDisposition", i, len(vocab.CALL_DISPOSITIONS))}
    return make(i, attrs, {"creator": ("user", 1)})


def call_purpose(ctx: SeedContext, i: int) -> Record:
    attrs = {"name": vocab.CALL_PURPOSES[i - 1], "order": i,
             **ctx.stamps("callPurpose", i, len(vocab.CALL_PURPOSES))}
    return make(i, attrs, {"creator": ("user", 1)})


def task_priority(ctx: SeedContext, i: int) -> Record:
    name, color, weight = vocab.TASK_PRIORITIES[i - 1]
    attrs = {"name": name, "color": color, "weight": weight,
             **ctx.stamps("taskPriority", i, len(vocab.TASK_PRIORITIES))}
    return make(i, attrs, {})


def template(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("template", i)
    subject = vocab.TEMPLATE_SUBJECTS[(i - 1) % len(vocab.TEMPLATE_SUBJECTS)]
    delivered = rng.roll(20, 900)
    opened = int(delivered * rng.uniform(0.3, 0.7))
    body = "Hi {{first_name}},\n\nI noticed {{account.name}} is growing its team. Open to a short call?"
    attrs = {
        "name": f"{subject.replace('{company}', 'your company')} (v{(i - 1) // 8 + 1})", "subject": subject,
        "bodyHtml": "<p>" + body.replace("\n\n", "</p><p>") + "</p>", "bodyText": body,
        "tags": rng.sample(("Sequencing", "Quick Response", "Event", "Follow-up"), k=rng.roll(1, 2)),
        "shareType": "shared", "trackLinks": True, "trackOpens": True, "archived": False,
        "deliverCount": delivered, "openCount": opened, "clickCount": opened // 4, "replyCount": opened // 6,
        "bounceCount": delivered // 50, "lastUsedAt": iso(SEED_EPOCH - rng.roll(1, 60) * DAY),
        "toRecipients": [], "ccRecipients": [], "bccRecipients": [], **ctx.stamps("template", i, ctx.config.templates),
    }
    owner = rng.roll(1, ctx.config.users)
    return make(i, attrs, {"owner": ("user", owner), "creator": ("user", owner), "updater": ("user", owner)})


def sequence(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("sequence", i)
    names = vocab.SEQUENCE_NAMES
    enabled = i % 4 != 0
    stamps = ctx.stamps("sequence", i, ctx.config.sequences)
    delivered = rng.roll(50, 2000)
    attrs = {
        "name": names[(i - 1) % len(names)] + (f" #{(i - 1) // len(names) + 1}" if i > len(names) else ""),
        "description": "Multi-touch cadence mixing e-mail and calls.", "enabled": enabled,
        "enabledAt": stamps["createdAt"] if enabled else None, "locked": False, "sequenceType": "interval",
        "scheduleIntervalType": "calendar", "shareType": "shared", "primaryReplyAction": "finish",
        "secondaryReplyAction": "continue", "finishOnReply": True, "throttlePaused": False,
        "transactional": False, "tags": rng.sample(("Outbound", "Inbound", "Events", "Q1"), k=rng.roll(1, 2)),
        "sequenceStepCount": ctx.config.steps_per_sequence, "durationInDays": 2 * ctx.config.steps_per_sequence,
        "deliverCount": delivered, "openCount": delivered // 2, "clickCount": delivered // 9,
        "replyCount": delivered // 12, "bounceCount": delivered // 60, "automationPercentage": 50.0,
        "lastUsedAt": iso(SEED_EPOCH - rng.roll(1, 30) * DAY), **stamps,
    }
    owner = rng.roll(1, ctx.config.users)
    return make(i, attrs, {"owner": ("user", owner), "creator": ("user", owner), "updater": ("user", owner)})


def sequence_step(ctx: SeedContext, i: int) -> Record:
    per = ctx.config.steps_per_sequence
    sequence_id, order = (i - 1) // per + 1, (i - 1) % per + 1
    step_type = vocab.STEP_TYPES[(order - 1) % len(vocab.STEP_TYPES)]
    attrs = {"order": order, "stepType": step_type, "interval": (order - 1) * 2 * int(DAY),
             "displayName": f"Step #{order} ({step_type.replace('_', ' ')})",
             "deliverCount": 0 if step_type in ("call", "task") else 40 * order,
             **ctx.stamps("sequenceStep", i, ctx.step_count)}
    rels = {"sequence": ("sequence", sequence_id), "creator": ("user", 1), "updater": ("user", 1),
            "taskPriority": ("taskPriority", 2) if step_type in ("call", "task") else None}
    return make(i, attrs, rels)


def opportunity(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("opportunity", i)
    account_id = pick(rng, ctx.config.accounts)
    stage_id = rng.roll(1, len(vocab.OPPORTUNITY_STAGES))
    amount = rng.roll(8, 400) * 500
    product = rng.choice(vocab.PRODUCTS)
    attrs = {
        "name": f"{ctx.account_name(account_id) if account_id else 'New Logo'} — {product}",
        "amount": amount, "amountPrecise": f"{amount}.00", "currencyType": "USD",
        "closeDate": iso(SEED_EPOCH + rng.roll(-60, 180) * DAY), "probability": stage_id * 12,
        "opportunityType": "Expansion" if product == "Expansion" else "New Business",
        "forecastCategory": rng.choice(("Pipeline", "Best Case", "Commit")), "leadSource": rng.choice(vocab.SOURCES),
        "nextStep": "Schedule technical review", "tags": [product], "custom1": rng.choice(("Direct", "Partner")),
        **ctx.stamps("opportunity", i, ctx.config.opportunities),
    }
    owner = rng.roll(1, ctx.config.users)
    rels = {"account": ref("account", account_id), "owner": ("user", owner),
            "opportunityStage": ("opportunityStage", stage_id), "stage": ("opportunityStage", stage_id),
            "primaryProspect": ref("prospect", pick(rng, ctx.config.prospects)), "creator": ("user", owner),
            "updater": ("user", owner)}
    return make(i, attrs, rels)


def opportunity_prospect_role(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("opportunityProspectRole", i)
    opportunities = ctx.config.opportunities
    attrs = {"role": rng.choice(vocab.ROLES), "primary": i <= opportunities,
             **ctx.stamps("opportunityProspectRole", i, ctx.config.opportunity_prospect_roles)}
    rels = {"opportunity": ("opportunity", (i - 1) % opportunities + 1),
            "prospect": ref("prospect", pick(rng, ctx.config.prospects))}
    return make(i, attrs, rels)


SALES_FACTORIES = {
    "stage": (lambda ctx: len(vocab.STAGES), stage),
    "opportunityStage": (lambda ctx: len(vocab.OPPORTUNITY_STAGES), opportunity_stage),
    "callDisposition": (lambda ctx: len(vocab.CALL_DISPOSITIONS), call_disposition),
    "callPurpose": (lambda ctx: len(vocab.CALL_PURPOSES), call_purpose),
    "taskPriority": (lambda ctx: len(vocab.TASK_PRIORITIES), task_priority),
    "template": (lambda ctx: ctx.config.templates, template),
    "sequence": (lambda ctx: ctx.config.sequences, sequence),
    "sequenceStep": (lambda ctx: ctx.step_count, sequence_step),
    "opportunity": (lambda ctx: ctx.config.opportunities, opportunity),
    "opportunityProspectRole": (lambda ctx: ctx.config.opportunity_prospect_roles
                                if ctx.config.opportunities else 0, opportunity_prospect_role),
}

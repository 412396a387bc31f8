"""Seed factories for the resource types served beyond the connector seed's 24: notes, teams, content, settings.

A handful of records per type (enough to list, get, update, delete and run actions on), each a pure function
of (seed, type, id) like the rest of the seed. Counts are fixed rather than configurable: these types are
set-up records and history, not the volume the pagination and performance tests need. A factory another seed
module defines for the same type wins (``sandbox.build_tables`` merges these first).
"""
from __future__ import annotations

from collections.abc import Callable

from .clock import SEED_EPOCH, iso
from .seed import SeedContext, make
from .store import Record

DAY = 86400.0
TEAMS = (("Enterprise AEs", "#5951ff"), ("Mid-Market AEs", "#2b90d9"), ("SDR East", "#2bb673"),
         ("SDR West", "#f5a623"))
PERSONAS = (("Economic buyer", "Signs off on budget."), ("Champion", "Sells us internally."),
            ("Technical evaluator", "Runs the proof of concept."), ("End user", "Uses the product daily."),
            ("Procurement", "Negotiates terms."))
SNIPPETS = (("Pricing page", "<p>Our pricing: <a href=\"https://sandbox-sales.example/pricing\">plans</a>.</p>"),
            ("Calendar link", "<p>Grab a slot: <a href=\"https://sandbox-sales.example/meet\">my calendar</a>.</p>"),
            ("Case study", "<p>How a peer cut ramp time by 30%.</p>"),
            ("Security overview", "<p>SOC 2 Type II, SSO and data residency options.</p>"),
            ("Intro video", "<p>A two-minute product tour.</p>"))
PRODUCTS = (("Platform seat", "PLT-001", "seat"), ("Analytics add-on", "ANL-010", "seat"),
            ("Onboarding package", "SRV-100", "package"), ("Premium support", "SUP-200", "year"))
ROLES = ("Chief Revenue Officer", "VP Sales", "Sales Manager", "Account Executive", "Sales Development Rep")
PROFILES = (("Admin", True), ("Default", False), ("Manager", False))
RULESETS = ("Default ruleset", "Strict opt-out")
TASK_DISPOSITIONS = (("Completed", "completed"), ("No answer", "no_answer"), ("Rescheduled", "rescheduled"))
TASK_PURPOSES = ("Follow-up", "Intro", "Demo prep")
CONTENT_CATEGORIES = (("Onboarding", "#2bb673"), ("Pricing", "#f5a623"), ("Competitive", "#d0021b"))
DUTIES = (("account_executive", "Account Executive"), ("sales_development_rep", "Sales Development Rep"),
          ("sales_manager", "Sales Manager"), ("customer_success", "Customer Success"))
NOTES = ("Asked for a pricing follow-up next quarter.", "Prefers e-mail over calls.",
         "Budget approved; legal review pending.", "Met at the spring conference.")
AUDIT_EVENTS = (("prospect.created", "create"), ("sequence.updated", "update"), ("user.login", "login"))


def stamped(ctx: SeedContext, kind: str, i: int, count: int, *, updated: bool = True, **attrs) -> dict:
    """Attributes with createdAt (and updatedAt, for the types that have one)."""
    stamps = ctx.stamps(kind, i, count)
    return {**attrs, **(stamps if updated else {"createdAt": stamps["createdAt"]})}


def team(ctx: SeedContext, i: int) -> Record:
    name, color = TEAMS[i - 1]
    return make(i, stamped(ctx, "team", i, len(TEAMS), name=name, color=color),
                {"creator": ("user", 1), "updater": ("user", 1)})


def persona(ctx: SeedContext, i: int) -> Record:
    name, description = PERSONAS[i - 1]
    return make(i, stamped(ctx, "persona", i, len(PERSONAS), name=name, description=description), {})


def snippet(ctx: SeedContext, i: int) -> Record:
    name, html = SNIPPETS[i - 1]
    text = html.replace("<p>", "").replace("</p>", "")
    owner = ctx.rng("snippet", i).roll(1, ctx.config.users)
    # Real snippets' tags come as a string as well as the documented list (tools/observed_overlay.yaml): both.
    tags = "Quick Response" if i % 2 else ["Quick Response"]
    attrs = stamped(ctx, "snippet", i, len(SNIPPETS), name=name, bodyHtml=html, bodyText=text, shareType="shared",
                    tags=tags)
    return make(i, attrs, {"owner": ("user", owner), "creator": ("user", owner), "updater": ("user", owner)})


def product(ctx: SeedContext, i: int) -> Record:
    name, code, unit = PRODUCTS[i - 1]
    attrs = stamped(ctx, "product", i, len(PRODUCTS), name=name, code=code, unitOfMeasure=unit, status=True,
                    deleted=False, classification="software", productFamily="Core",
                    description=f"{name}, billed per {unit}.")
    return make(i, attrs, {"owner": ("user", 1), "creator": ("user", 1), "updater": ("user", 1)})


def purchase(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("purchase", i)
    quantity = rng.roll(5, 200)
    start = SEED_EPOCH - rng.roll(30, 300) * DAY
    attrs = stamped(ctx, "purchase", i, 6, currency="USD", totalQuantity=quantity, totalValue=quantity * 600.0,
                    status=True, source="crm", startDate=iso(start)[:10], endDate=iso(start + 365 * DAY)[:10])
    relationships = {"account": ("account", (i - 1) % max(ctx.config.accounts, 1) + 1),
                     "product": ("product", (i - 1) % len(PRODUCTS) + 1), "owner": ("user", 1),
                     "creator": ("user", 1), "updater": ("user", 1)}
    return make(i, attrs, relationships)


def role(ctx: SeedContext, i: int) -> Record:
    attrs = stamped(ctx, "role", i, len(ROLES), name=ROLES[i - 1], externalId=f"role-{i}")
    return make(i, attrs, {"parentRole": ("role", i - 1) if i > 1 else None})


def profile(ctx: SeedContext, i: int) -> Record:
    name, admin = PROFILES[i - 1]
    return make(i, stamped(ctx, "profile", i, len(PROFILES), name=name, isAdmin=admin), {})


def ruleset(ctx: SeedContext, i: int) -> Record:
    attrs = stamped(ctx, "ruleset", i, len(RULESETS), name=RULESETS[i - 1], autoResumeOotoProspects=True,
                    includeUnsubscribeLinks=i == 2, permitDuplicateProspects="onlyIfActive",
                    sequenceExclusivity="all_sequences", clicksNeededBeforeCallTaskCreated=2,
                    opensNeededBeforeCallTaskCreated=3)
    return make(i, attrs, {"owner": ("user", 1), "finishedStage": ("stage", 1)})


def task_disposition(ctx: SeedContext, i: int) -> Record:
    name, value = TASK_DISPOSITIONS[i - 1]
    attrs = stamped(ctx, "taskDisposition", i, len(TASK_DISPOSITIONS), name=name, value=value, order=i,
                    taskType="call")
    return make(i, attrs, {"creator": ("user", 1)})


def task_purpose(ctx: SeedContext, i: int) -> Record:
    attrs = stamped(ctx, "taskPurpose", i, len(TASK_PURPOSES), name=TASK_PURPOSES[i - 1], order=i, taskType="call")
    return make(i, attrs, {"creator": ("user", 1)})


def content_category(ctx: SeedContext, i: int) -> Record:
    name, color = CONTENT_CATEGORIES[i - 1]
    attrs = stamped(ctx, "contentCategory", i, len(CONTENT_CATEGORIES), name=name, color=color,
                    allowSequences=True, allowSnippets=True, allowTemplates=True)
    return make(i, attrs, {"creator": ("user", 1), "teams": [("team", i)]})


def content_category_membership(ctx: SeedContext, i: int) -> Record:
    attrs = stamped(ctx, "contentCategoryMembership", i, 3)
    return make(i, attrs, {"contentCategory": ("contentCategory", i), "content": ("snippet", i),
                           "creator": ("user", 1)})


def content_category_ownership(ctx: SeedContext, i: int) -> Record:
    attrs = stamped(ctx, "contentCategoryOwnership", i, 3)
    return make(i, attrs, {"contentCategory": ("contentCategory", i), "owner": ("team", i), "creator": ("user", 1)})


def sequence_template(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("sequenceTemplate", i)
    delivered = rng.roll(20, 400)
    attrs = stamped(ctx, "sequenceTemplate", i, 4, isReply=i % 2 == 0, enabled=i != 4,
                    deliverCount=delivered, openCount=delivered // 2, clickCount=delivered // 8,
                    replyCount=delivered // 10, bounceCount=delivered // 50, failureCount=0)
    attrs["enabledAt"] = attrs["createdAt"] if attrs["enabled"] else None
    step = min(i, ctx.step_count) or None
    return make(i, attrs, {"sequenceStep": ("sequenceStep", step) if step else None,
                           "template": ("template", min(i, ctx.config.templates)) if ctx.config.templates else None,
                           "creator": ("user", 1), "updater": ("user", 1)})


def note(kind: str, owner: str) -> Callable[[SeedContext, int], Record]:
    """Account and prospect notes: the same shape, pointing at a different record."""
    def factory(ctx: SeedContext, i: int) -> Record:
        attrs = stamped(ctx, kind, i, len(NOTES), updated=False, message=NOTES[i - 1], noteType="general",
                        pinned=i == 1)
        return make(i, attrs, {owner: (owner, i), "creator": ("user", 1)})
    return factory


def email_address(ctx: SeedContext, i: int) -> Record:
    attrs = stamped(ctx, "emailAddress", i, 6, email=ctx.prospect_email(i), emailType="work", order=0,
                    status="active")
    return make(i, attrs, {"prospect": ("prospect", i)})


def favorite(ctx: SeedContext, i: int) -> Record:
    target = (("prospect", i), ("account", i), ("sequence", i))[(i - 1) % 3]
    attrs = stamped(ctx, "favorite", i, 3, targetType=target[0], targetId=target[1])
    return make(i, attrs, {"target": target, "user": ("user", 1), "creator": ("user", 1)})


def webhook(ctx: SeedContext, i: int) -> Record:
    """Seeded webhooks are inactive (Outreach disabled them: their URLs do not answer), so that a sandbox never
    delivers anywhere until a test or a host creates a webhook of its own."""
    resource, action = (("prospect", "*"), ("sequenceState", "created"), ("task", "updated"))[i - 1]
    attrs = stamped(ctx, "webhook", i, 3, resource=resource, action=action, active=False, payloadVersion=2,
                    disabledReason="The URL did not answer for 7 days",
                    url=f"https://hooks.sandbox-sales.example/outreach/{i}", secret=f"whsec-sandbox-{i}")
    return make(i, attrs, {"authorizer": ("user", 1), "creator": ("user", 1), "updater": ("user", 1)})


def batch(ctx: SeedContext, i: int) -> Record:
    states = ("finished", "pending", "pending")
    attrs = stamped(ctx, "batch", i, 3, action="prospectsAddTags", state=states[i - 1], total=2,
                    pending=0 if i == 1 else 2, failures=0, confirmCount=2, confirmedCountRequired=i == 3,
                    payload={"tags": ["webinar"]})
    return make(i, attrs, {"creator": ("user", 1)})


def batch_item(ctx: SeedContext, i: int) -> Record:
    parent = (i - 1) // 2 + 1
    attrs = stamped(ctx, "batchItem", i, 6, updated=False, batchId=parent, data=f'{{"prospectId": {i}}}', failed=False,
                    state="finished" if parent == 1 else "pending")
    return make(i, attrs, {"batch": ("batch", parent)})


def import_(ctx: SeedContext, i: int) -> Record:
    total = ctx.rng("import", i).roll(20, 500)
    attrs = stamped(ctx, "import", i, 2, importType="prospects", state="finished", fileName=f"leads-{i}.csv",
                    fileSize=total * 180, total=total, dupes=total // 20, failures=0, dupeMethod="skip",
                    source="csv", timeZone="America/New_York")
    return make(i, attrs, {"creator": ("user", 1)})


def kaia_recording(ctx: SeedContext, i: int) -> Record:
    start = SEED_EPOCH - ctx.rng("kaiaRecording", i).roll(1, 60) * DAY
    attrs = stamped(ctx, "kaiaRecording", i, 3, title=f"Discovery call #{i}", provider="zoom", state="processed",
                    startTime=iso(start), endTime=iso(start + 1800), participantCount=2, format="video",
                    mediaDurationSeconds="1800", topics=[{"name": "pricing"}, {"name": "timeline"}],
                    participants=[{"type": "user", "id": 1}, {"type": "prospect", "id": i}],
                    recordingUrl=f"https://recordings.sandbox-sales.example/{i}.mp4")
    return make(i, attrs, {"account": ("account", i), "owner": ("user", 1)})


def org_setting(_ctx: SeedContext, i: int) -> Record:
    return make(i, {"contactExclusions": "competitor.example", "prospectEmailExclusions": "noreply@",
                    "sendExclusions": ""}, {})


def duty(_ctx: SeedContext, i: int) -> Record:
    symbolic, name = DUTIES[i - 1]
    return make(i, {"symbolicName": symbolic, "dutyType": name}, {})


def audit_log(ctx: SeedContext, i: int) -> Record:
    event, action = AUDIT_EVENTS[i - 1]
    attrs = {"eventName": event, "action": action, "result": "success", "orgId": ctx.org_id,
             "requestId": f"req-{i:04d}", "timestamp": ctx.stamps("auditLog", i, 3)["createdAt"],
             "agent": {"type": "user", "id": 1}, "changes": [], "additionalInfo": []}
    return make(i, attrs, {})


def fixed(count: int) -> Callable[[SeedContext], int]:
    return lambda _ctx: count


EXTENDED_FACTORIES = {
    "team": (fixed(len(TEAMS)), team), "persona": (fixed(len(PERSONAS)), persona),
    "snippet": (fixed(len(SNIPPETS)), snippet), "product": (fixed(len(PRODUCTS)), product),
    "purchase": (fixed(6), purchase), "role": (fixed(len(ROLES)), role), "profile": (fixed(len(PROFILES)), profile),
    "ruleset": (fixed(len(RULESETS)), ruleset), "taskDisposition": (fixed(len(TASK_DISPOSITIONS)), task_disposition),
    "taskPurpose": (fixed(len(TASK_PURPOSES)), task_purpose),
    "contentCategory": (fixed(len(CONTENT_CATEGORIES)), content_category),
    "contentCategoryMembership": (fixed(3), content_category_membership),
    "contentCategoryOwnership": (fixed(3), content_category_ownership),
    "sequenceTemplate": (fixed(4), sequence_template),
    "accountNote": (fixed(len(NOTES)), note("accountNote", "account")),
    "prospectNote": (fixed(len(NOTES)), note("prospectNote", "prospect")), "emailAddress": (fixed(6), email_address),
    "favorite": (fixed(3), favorite), "webhook": (fixed(3), webhook), "batch": (fixed(3), batch),
    "batchItem": (fixed(6), batch_item), "import": (fixed(2), import_), "kaiaRecording": (fixed(3), kaia_recording),
    "orgSetting": (fixed(1), org_setting), "duty": (fixed(len(DUTIES)), duty), "auditLog": (fixed(3), audit_log),
}

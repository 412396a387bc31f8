"""Seed factories for the people side of the org: users and their mailboxes, accounts, prospects, phones."""
from __future__ import annotations

from . import vocab
from .clock import SEED_EPOCH, iso
from .seed import ORG_DOMAIN, SeedContext, email_hash, make, ref
from .seed_extended import DUTIES, PERSONAS
from .store import Record


def user(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("user", i)
    first, last, _ = ctx.person_name("user", i)
    email = ctx.user_email(i)
    stamps = ctx.stamps("user", i, ctx.config.users)
    attrs = {
        "firstName": first, "lastName": last, "name": f"{first} {last}", "email": email,
        "username": email.split("@")[0], "title": "Sales Director" if i == 1 else rng.choice(vocab.USER_TITLES),
        "locked": False, "notificationsEnabled": True, "dailyDigestEmailEnabled": rng.random() < 0.5,
        "phoneNumber": f"+1 206 555 02{i % 100:02d}", "phoneCountryCode": "US",
        "currentSignInAt": iso(SEED_EPOCH - rng.roll(1, 72) * 3600.0),
        "lastSignInAt": iso(SEED_EPOCH - rng.roll(73, 400) * 3600.0),
        # Real Outreach sends duties as a list (the vendor documents say object) and attributes its documents
        # lack, such as the time zones (see tools/observed_overlay.yaml). The ids are those of /duties.
        "duties": [user_duty(i)],
        "primaryTimezone": "America/Los_Angeles", "languagePreference": "en", **stamps,
    }
    rels = {"mailbox": ("mailbox", i), "creator": ref("user", 1), "updater": ref("user", 1),
            "role": ("role", user_role(i)), "profile": ("profile", 1 if i == 1 else 3 if i == 2 else 2)}
    return make(i, attrs, rels)


def user_role(i: int) -> int:
    """The head of sales, a VP, then account executives and SDRs in turn (ids of ``ROLES``)."""
    return i if i <= 2 else 4 + i % 2


def user_duty(i: int) -> dict:
    """The user's duty as a /duties record (sales manager for the two leads, else by role)."""
    ident = 3 if i <= 2 else 1 if user_role(i) == 4 else 2
    symbolic, name = DUTIES[ident - 1]
    return {"id": ident, "name": name, "duty_type": symbolic}


def mailbox_exclusions(i: int) -> str | list[str] | None:
    """Both shapes real data shows: the documented newline-delimited string, and a list (as Airbyte saw)."""
    excluded = [f"noreply@{ORG_DOMAIN}", "bounces@mailer.example"]
    return None if i % 3 == 0 else "\n".join(excluded) if i % 3 == 1 else excluded


def mailbox(ctx: SeedContext, i: int) -> Record:
    email = ctx.user_email(i)
    provider = "gmail_api" if i % 3 else "exchange_online"
    attrs = {
        "email": email, "emailHash": email_hash(email), "username": email, "userId": i,
        "emailProvider": provider, "sendMethod": "smtp" if i % 3 else "ews",
        "syncMethod": "gmail_api" if i % 3 else "ews", "maxMailingsPerDay": 500, "maxMailingsPerWeek": 5000,
        "sendThreshold": 2, "sendPeriod": 60, "sendMaxRetries": 3, "sendDisabled": False,
        "syncDisabled": False, "sendRequiresSync": False, "editable": True,
        "syncActiveFrequency": 300, "syncPassiveFrequency": 3600, "providerType": provider,
        "sendSuccessAt": iso(SEED_EPOCH - 1800.0 * i), "syncSuccessAt": iso(SEED_EPOCH - 600.0 * i),
        "emailSignature": f"<p>{ctx.person_name('user', i)[0]} · Sandbox Sales</p>",
        "prospectEmailExclusions": mailbox_exclusions(i),
        **ctx.stamps("mailbox", i, ctx.config.users),
    }
    rels = {"user": ("user", i), "creator": ref("user", 1), "updater": ref("user", 1)}
    return make(i, attrs, rels)


def mail_alias(ctx: SeedContext, i: int) -> Record:
    first = ctx.person_name("user", i)[0].lower()
    email = f"{first}.sales@{ORG_DOMAIN}"
    attrs = {"email": email, "emailHash": email_hash(email), "canSend": True,
             **ctx.stamps("mailAlias", i, ctx.mail_aliases)}
    return make(i, attrs, {"mailbox": ("mailbox", i)})


def account(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("account", i)
    name, domain = ctx.account_name(i), ctx.account_domain(i)
    city, state, country, _ = rng.choice(vocab.LOCALITIES)
    attrs = {
        "name": name, "naturalName": name.split(" ")[0], "domain": domain, "websiteUrl": f"https://www.{domain}",
        "industry": rng.choice(vocab.INDUSTRIES), "numberOfEmployees": rng.choice((40, 120, 450, 1800, 9000)),
        "locality": f"{city}, {state}", "companyType": rng.choice(("Private Company", "Public Company")),
        "named": True, "customId": f"CRM-{10000 + i}", "tags": rng.sample(("Enterprise", "Tier 1", "Partner",
                                                                          "Mid-Market"), k=rng.roll(0, 2)),
        "description": f"{name} is a {city}-based company.", "linkedInUrl": f"https://www.linkedin.com/company/{domain}",
        "foundedAt": iso(SEED_EPOCH - rng.roll(3, 40) * 365 * 86400.0), "buyerIntentScore": round(rng.random(), 2),
        "custom1": rng.choice(("Gold", "Silver", "Bronze")), "custom2": country,
        **ctx.stamps("account", i, ctx.config.accounts),
    }
    owner = rng.roll(1, ctx.config.users)
    rels = {"owner": ("user", owner), "creator": ref("user", 1), "updater": ref("user", owner)}
    return make(i, attrs, rels)


def prospect(ctx: SeedContext, i: int) -> Record:
    rng = ctx.rng("prospect", i)
    first, last, suffix = ctx.person_name("prospect", i)
    account_id, owner, stage = ctx.prospect_links(i)
    city, state, country, zone = rng.choice(vocab.LOCALITIES)
    stamps = ctx.stamps("prospect", i, ctx.config.prospects)
    slug = f"{first}-{last}{suffix}".lower()
    history = rng.getrandbits(60)  # 12 months of (inbound 0..3, outbound 0..7) in one draw
    attrs = {
        "firstName": first, "lastName": last, "name": f"{first} {last}", "emails": [ctx.prospect_email(i)],
        "title": rng.choice(vocab.TITLES), "company": ctx.account_name(account_id) if account_id else None,
        "tags": rng.sample(vocab.PROSPECT_TAGS, k=rng.roll(0, 3)), "workPhones": [ctx.prospect_phone(i)],
        "mobilePhones": [f"+1 206 555 03{rng.roll(0, 99):02d}"] if rng.random() < 0.4 else [],
        "addressCity": city, "addressState": state, "addressCountry": country, "timeZone": zone,
        "timeZoneIana": zone, "linkedInUrl": f"https://www.linkedin.com/in/{slug}", "linkedInSlug": slug,
        "source": rng.choice(vocab.SOURCES), "externalSource": "outreach-api",
        "engagedScore": round(rng.random() * 100, 1), "openCount": rng.roll(0, 12),
        "clickCount": rng.roll(0, 4), "replyCount": rng.roll(0, 2), "optedOut": False,
        "emailOptedOut": False, "callOptedOut": False, "emailsOptStatus": "opted_in",
        "addedAt": stamps["createdAt"], "touchedAt": stamps["updatedAt"],
        "contactHistogram": [[(history >> (5 * m)) & 3, (history >> (5 * m + 2)) & 7] for m in range(12)],
        "custom1": rng.choice(("Gold", "Silver", "Bronze")), "custom2": str(rng.roll(1, 100)),
        "custom3": country, "custom4": rng.choice(("Q1", "Q2", "Q3", "Q4")),
        "custom5": rng.choice(("Yes", "No")), "custom6": f"EXT-{i:06d}", **observed_dates(rng), **stamps,
    }
    rels = {"account": ref("account", account_id), "owner": ("user", owner), "stage": ("stage", stage),
            "creator": ("user", 1), "updater": ("user", owner),
            "persona": None if i % 5 == 0 else ("persona", (i - 1) % len(PERSONAS) + 1)}
    return make(i, attrs, rels)


def observed_dates(rng) -> dict[str, str]:
    """Half the prospects carry dates, as real Outreach sends them: date-times at a time zone's midnight
    (``1990-12-30T21:00:00.000Z``), where the vendor documents promise plain dates."""
    if rng.random() < 0.5:
        return {}
    midnight = SEED_EPOCH - SEED_EPOCH % 86400 - 3 * 3600.0
    born, started = rng.roll(9000, 22000), rng.roll(30, 3000)
    return {"dateOfBirth": iso(midnight - born * 86400.0), "jobStartDate": iso(midnight - started * 86400.0)}


def phone_number(ctx: SeedContext, i: int) -> Record:
    prospect_id = (i - 1) % ctx.config.prospects + 1
    number = ctx.prospect_phone(prospect_id)
    attrs = {"number": number.replace(" ", ""), "rawNumber": number, "countryCode": "US", "phoneType": "work",
             "status": "valid", "order": 0, **ctx.stamps("phoneNumber", i, ctx.config.phone_numbers)}
    return make(i, attrs, {"prospect": ("prospect", prospect_id)})


# type -> (how many seed records, factory)
PEOPLE_FACTORIES = {
    "user": (lambda ctx: ctx.config.users, user),
    "mailbox": (lambda ctx: ctx.config.users, mailbox),
    "mailAlias": (lambda ctx: ctx.mail_aliases, mail_alias),
    "account": (lambda ctx: ctx.config.accounts, account),
    "prospect": (lambda ctx: ctx.config.prospects, prospect),
    "phoneNumber": (lambda ctx: ctx.config.phone_numbers if ctx.config.prospects else 0, phone_number),
}

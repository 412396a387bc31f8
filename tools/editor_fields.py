"""What the solution editor shows of an input schema: readable titles, and which fields of a long form fold.

``annotate`` is called by ``gen_operation_schemas`` on each generated input schema:
* every property gets a ``title`` a person reads ("Prospect ID", "First name", "Website URL"), made from its
  name where it has none or only the name itself (a title someone wrote stays);
* a long attribute list (more than ``LONG_FORM`` members) of the types below gets ``advanced``: every member
  that is neither required nor among the ones people fill most (``COMMON``). ``advanced`` is the Connectors
  API's own UI extra for fields a form may fold; the editor folds them behind "More fields". The lists are
  hand-written: Outreach publishes no usage data.
"""
from __future__ import annotations

import re
from typing import Any

LONG_FORM = 12
COMMON = {
    "prospect": ["firstName", "lastName", "emails", "title", "company", "workPhones", "mobilePhones",
                 "linkedInUrl", "websiteUrl1", "addressCity", "addressState", "addressCountry", "timeZone", "tags",
                 "source"],
    "account": ["name", "domain", "websiteUrl", "industry", "numberOfEmployees", "locality", "linkedInUrl",
                "description", "tags"],
    "opportunity": ["name", "amount", "closeDate", "probability", "nextStep", "opportunityType", "description",
                    "tags"],
    "user": ["email", "firstName", "lastName", "username", "title", "phoneNumber", "locked"],
    "mailbox": ["email", "username", "emailProvider", "sendMethod", "syncMethod", "maxEmailsPerDay",
                "emailSignature"],
    "call": ["direction", "outcome", "from", "to", "note", "answeredAt", "completedAt", "tags"],
    "sequence": ["name", "description", "sequenceType", "shareType", "scheduleIntervalType", "tags"],
    "product": ["name", "code", "description", "status", "productFamily"],
    "purchase": ["status", "startDate", "endDate", "totalQuantity", "totalValue", "currency", "description"],
    "ruleset": ["name", "permitDuplicateProspects", "sequenceExclusivity", "includeUnsubscribeLinks"],
}
# words written as people write them, whatever the case in the name
WORDS = {"id": "ID", "ids": "IDs", "url": "URL", "urls": "URLs", "api": "API", "html": "HTML", "sms": "SMS",
         "crm": "CRM", "ip": "IP", "imap": "IMAP", "smtp": "SMTP", "ews": "EWS", "ssl": "SSL", "scim": "SCIM",
         "naics": "NAICS", "sic": "SIC", "voip": "VoIP", "ooto": "OOTO", "oce": "OCE", "ddl": "DDL",
         "github": "GitHub", "gmail": "Gmail", "linkedin": "LinkedIn"}
PHRASES = {"Linked in": "LinkedIn", "Git hub": "GitHub", "Stack overflow": "Stack Overflow", "linked in": "LinkedIn",
           "git hub": "GitHub", "stack overflow": "Stack Overflow", "Angel list": "AngelList",
           "Google plus": "Google Plus", "Sendgrid": "SendGrid", "sendgrid": "SendGrid"}


def readable(name: str) -> str:
    """``prospect_id`` -> ``Prospect ID``, ``websiteUrl1`` -> ``Website URL 1``, ``custom12`` -> ``Custom 12``."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Za-z])|(?<=[A-Z])(?=[A-Z][a-z])", " ",
                    name.replace("_", " ")).split()
    words = [WORDS.get(w.lower(), w.lower()) for w in spaced]
    if words and words[0].islower():
        words[0] = words[0][:1].upper() + words[0][1:]
    text = " ".join(words)
    for phrase, written in PHRASES.items():
        text = re.sub(rf"\b{phrase}\b", written, text)
    return text


def is_raw(title: Any, name: str) -> bool:
    """A title that only repeats the name (``owner``, ``Mailbox id``): made by a generator, not written."""
    return not isinstance(title, str) or title in (name, name.replace("_", " ").capitalize())


def titled(schema: Any) -> None:
    """Give every named property (at any depth, array items too) a readable title, in place."""
    if isinstance(schema, list):
        for item in schema:
            titled(item)
        return
    if not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and is_raw(sub.get("title"), name):
            sub["title"] = readable(name)
    for key, value in schema.items():
        if key not in ("enum", "const", "default", "examples", "lookup"):
            titled(value)


def annotate(resource: str | None, kind: str, schema: dict) -> dict:
    """The input schema with readable titles and, on a long create/update attribute list, ``advanced``."""
    titled(schema)
    attributes = (schema.get("properties") or {}).get("attributes")
    if kind in ("create", "update") and resource in COMMON and isinstance(attributes, dict) \
            and len(attributes.get("properties", {})) > LONG_FORM:
        kept = set(COMMON[resource]) | set(attributes.get("required", []))
        attributes["advanced"] = [name for name in attributes["properties"] if name not in kept]
    return schema

"""The non-standard ``POST /complianceRequests`` endpoint (GDPR/CCPA deletion requests).

The request carries four snake_case attributes; the answer is a 201 with ``{"data":
{"batch_compliance_request_id": "<uuid>"}}`` instead of a resource. The stored record is an ordinary
camelCase ``complianceRequest`` resource that GET list/get return. Requests stay ``pending``: the sandbox does
not run Outreach's asynchronous deletion.
"""
from __future__ import annotations

import random
import re
import uuid

from .errors import Issue, validation_failed
from .lifecycle import WriteContext, email_keys, on_create
from .store import Record

FIELDS = ("requester_email", "request_type", "object_type", "request_object_email")
REQUEST_TYPES = ("Delete",)
OBJECT_TYPES = ("Prospect", "Recipient")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _issues(attributes: dict) -> list[Issue]:
    issues = [Issue(f"/data/attributes/{name}", f"Unknown attribute '{name}' for a compliance request.")
              for name in attributes if name not in FIELDS]
    for name in FIELDS:
        value, pointer = attributes.get(name), f"/data/attributes/{name}"
        if not isinstance(value, str) or not value:
            issues.append(Issue(pointer, f"{name} is required and must be a string."))
        elif name.endswith("email") and not _EMAIL.match(value):
            issues.append(Issue(pointer, f"{name} must be an e-mail address."))
    if isinstance(attributes.get("request_type"), str) and attributes["request_type"] not in REQUEST_TYPES:
        issues.append(Issue("/data/attributes/request_type", "request_type must be 'Delete'."))
    if isinstance(attributes.get("object_type"), str) and attributes["object_type"] not in OBJECT_TYPES:
        issues.append(Issue("/data/attributes/object_type", "object_type must be 'Prospect' or 'Recipient'."))
    return issues


def _find_user(ctx: WriteContext, email: str) -> int | None:
    for user in ctx.store.table("user").records():
        if str(user.attributes.get("email", "")).lower() == email.lower():
            return user.id
    return None


def _object_id(ctx: WriteContext, object_type: str, email: str) -> str | None:
    """For a Prospect, its id (when one has the address); for a Recipient, the address itself."""
    if object_type == "Recipient":
        return email
    index = ctx.store.table("prospect").index("emails", email_keys)
    ids = index.lookup(ctx.store.table("prospect"), email.lower())
    return str(ids[0]) if ids else None


def create(ctx: WriteContext, rng: random.Random, data: dict) -> tuple[Record, str]:
    """Validate and store one compliance request; return it and its batch id."""
    attributes = data.get("attributes") or {}
    issues = _issues(attributes)
    if issues:
        raise validation_failed(issues)
    batch = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    requester = _find_user(ctx, attributes["requester_email"])
    record = Record(0, {
        "batchComplianceRequestUuid": batch, "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "objectType": attributes["object_type"], "pii": {"email": attributes["request_object_email"]},
        "requestObjectId": _object_id(ctx, attributes["object_type"], attributes["request_object_email"]),
        "requestType": attributes["request_type"], "requesterId": requester, "state": "pending",
    }, {"requester": ("user", requester) if requester else None})
    on_create(ctx, ctx.catalogue["complianceRequest"], record)
    ctx.store.table("complianceRequest").insert(record)
    return record, batch

"""Sandbox configuration: seed, data volume, credentials, limits and the injectable clock."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# Every collection the sandbox serves, as Outreach names scopes (``<collection>.all``): a sandbox token may use
# them all, so its token answer lists them all (tests/sandbox check this list against the served types).
SCOPED_COLLECTIONS = (
    "accountNotes", "accounts", "auditLogs", "audits", "batchItems", "batches", "callDispositions", "callPurposes",
    "calls", "complianceRequests", "contentCategories", "contentCategoryMemberships", "contentCategoryOwnerships",
    "duties", "emailAddresses", "events", "favorites", "imports", "kaiaRecordings", "kaiaVoiceImports",
    "mailAliases", "mailboxes", "mailings", "opportunities", "opportunityProspectRoles", "opportunityStages",
    "orgSettings", "personas", "phoneNumbers", "products", "profiles", "prospectNotes", "prospects", "purchases",
    "recipients", "roles", "rulesets", "sequenceStates", "sequenceSteps", "sequenceTemplates", "sequences",
    "snippets", "stages", "taskDispositions", "taskPriorities", "taskPurposes", "tasks", "teams", "templates",
    "users", "webhooks",
)
DEFAULT_SCOPES = " ".join(f"{collection}.all" for collection in SCOPED_COLLECTIONS)


class SandboxConfig(BaseModel):
    """Everything that shapes one sandbox. All fields are overridable; defaults suit tests and demos."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    seed: int = 1
    # Volume of seeded records. Only prospects are meant to scale (to 50,000 and beyond): they are generated
    # lazily from (seed, id), so a large org costs no time or memory until records are read.
    prospects: int = Field(40, ge=0)
    accounts: int = Field(12, ge=0)
    users: int = Field(8, ge=1)
    opportunities: int = Field(10, ge=0)
    opportunity_prospect_roles: int = Field(10, ge=0)
    sequences: int = Field(5, ge=0)
    steps_per_sequence: int = Field(3, ge=0)
    sequence_states: int = Field(20, ge=0)
    mailings: int = Field(20, ge=0)
    calls: int = Field(12, ge=0)
    tasks: int = Field(20, ge=0)
    templates: int = Field(8, ge=0)
    events: int = Field(20, ge=0)
    phone_numbers: int = Field(40, ge=0)
    recipients: int = Field(10, ge=0)
    compliance_requests: int = Field(2, ge=0)
    audits: int = Field(25, ge=0)

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    refresh_token: str = "sandbox-refresh-token"  # initial; rotated on first use, as Outreach does
    access_token: str | None = "sandbox-access-token"  # never expires; None disables it
    authorization_code: str = "sandbox-auth-code"
    access_token_ttl: float = Field(7200, gt=0)
    scope: str = DEFAULT_SCOPES
    require_auth: bool = True

    rate_limit: int = Field(10000, ge=1)
    rate_window: float = Field(3600, gt=0)
    max_page_size: int = Field(1000, ge=1)
    default_page_size: int = Field(50, ge=1)
    # The request log keeps at most this many entries (the oldest half goes when it is full), so a
    # long-running served sandbox does not grow without bound.
    max_logged_requests: int = Field(100_000, ge=2)

    # Epoch seconds. None: a deterministic clock starting at 2025-01-15T09:00:00Z that moves one second per
    # request (see clock.TickingClock). Pass time.time for wall-clock behaviour.
    clock: Callable[[], float] | None = None
    # Webhook deliveries: seconds between the retries of a delivery that met a network failure (Outreach: 1).
    webhook_retry_delay: float = Field(1.0, ge=0)
    schema_dir: Path | None = None

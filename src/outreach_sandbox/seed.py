"""Deterministic seed data: who is in the org and how records point at each other.

Every seed record is a pure function of (seed, type, id): factories draw from a :class:`~.dice.Dice` stream
keyed by that triple, so values depend neither on ``PYTHONHASHSEED`` nor on the order records are read in.
Facts shared between types (a prospect's account, owner and e-mail; a sequence state's prospect and sequence)
come from the small functions below, so no factory needs to build another.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from . import vocab
from .clock import SEED_EPOCH, iso
from .config import SandboxConfig
from .dice import Dice
from .store import Record

ORG_DOMAIN = "sandbox-sales.example"
SEED_SPAN = 730 * 86400.0  # seed records were created during the two years before the clock starts
NAME_COMBOS = len(vocab.FIRST_NAMES) * len(vocab.LAST_NAMES)
_STRIDES = (7, 11, 13, 17, 19, 23, 29, 31)  # coprime with NAME_COMBOS: a permutation of name pairs


@dataclass(frozen=True, slots=True)
class StateLinks:
    """Who a seeded sequence state binds together."""

    prospect: int
    sequence: int


class SeedContext:
    """Counts, random streams and the cross-type facts of one seeded org."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.seed = config.seed
        self.state_count = min(config.sequence_states, config.prospects * config.sequences)
        self.step_count = config.sequences * config.steps_per_sequence
        self.mail_aliases = max(1, config.users // 2)
        self.org_id = self.org_id_for(self.seed)

    @staticmethod
    def org_id_for(seed: int) -> str:
        return str(uuid.UUID(int=Dice(f"{seed}:org").getrandbits(128), version=4))

    def rng(self, kind: str, ident: int) -> Dice:
        return Dice(f"{self.seed}:{kind}:{ident}")

    def created_at(self, kind: str, ident: int, count: int) -> float:
        """Creation time: ids ascend with time, spread over the seed span, with a little jitter."""
        return self._times(kind, ident, count)[0]

    def stamps(self, kind: str, ident: int, count: int) -> dict[str, str]:
        created, updated = self._times(kind, ident, count)
        return {"createdAt": iso(created), "updatedAt": iso(updated)}

    def _times(self, kind: str, ident: int, count: int) -> tuple[float, float]:
        rng = self.rng(f"{kind}-time", ident)
        slot = SEED_SPAN / max(count, 1)
        created = round(SEED_EPOCH - SEED_SPAN + slot * (ident - 1 + rng.random() * 0.5), 3)
        return created, max(created, created + rng.random() * (SEED_EPOCH - 3600 - created))

    def person_name(self, kind: str, ident: int) -> tuple[str, str, str]:
        """First name, last name and a disambiguating suffix: unique per (kind, id)."""
        offset = {"user": 1801, "prospect": 0}.get(kind, 0) + self.seed * 97
        slot = ((ident - 1) * _STRIDES[self.seed % len(_STRIDES)] + offset) % NAME_COMBOS
        suffix = "" if ident <= NAME_COMBOS else str((ident - 1) // NAME_COMBOS + 1)
        first = vocab.FIRST_NAMES[slot % len(vocab.FIRST_NAMES)]
        return first, vocab.LAST_NAMES[slot // len(vocab.FIRST_NAMES)], suffix

    def user_email(self, ident: int) -> str:
        first, last, suffix = self.person_name("user", ident)
        return f"{first}.{last}{suffix}@{ORG_DOMAIN}".lower()

    def account_name(self, ident: int) -> str:
        stems, suffixes = vocab.COMPANY_STEMS, vocab.COMPANY_SUFFIXES
        slot = ident - 1 + self.seed
        name = f"{stems[slot % len(stems)]} {suffixes[(slot // len(stems)) % len(suffixes)]}"
        extra = (ident - 1) // (len(stems) * len(suffixes))
        return f"{name} {extra + 1}" if extra else name

    def account_domain(self, ident: int) -> str:
        return self.account_name(ident).lower().replace(" ", "") + ".example"

    def prospect_links(self, ident: int) -> tuple[int | None, int, int]:
        """A seeded prospect's account, owner and stage ids."""
        rng = self.rng("prospect-links", ident)
        return (pick(rng, self.config.accounts), rng.roll(1, self.config.users), rng.roll(1, len(vocab.STAGES)))

    def prospect_email(self, ident: int) -> str:
        first, last, suffix = self.person_name("prospect", ident)
        account = self.prospect_links(ident)[0]
        domain = self.account_domain(account) if account else "gmail.example"
        return f"{first}.{last}{suffix}@{domain}".lower()

    def prospect_phone(self, ident: int) -> str:
        rng = self.rng("prospect-phone", ident)
        return f"+1 {rng.choice((206, 312, 415, 512, 617, 720))} 555 01{rng.roll(0, 99):02d}"

    def state_links(self, ident: int) -> StateLinks:
        """Distinct (prospect, sequence) pairs, so no seeded prospect is twice in one sequence."""
        k, prospects = ident - 1, self.config.prospects
        p0 = k % prospects
        return StateLinks(prospect=p0 + 1, sequence=(k // prospects + p0) % self.config.sequences + 1)

    def first_step(self, sequence: int) -> int | None:
        per = self.config.steps_per_sequence
        return (sequence - 1) * per + 1 if per else None


def pick(rng: Dice, count: int) -> int | None:
    """A random id in 1..count, or None when the type has no records."""
    return rng.roll(1, count) if count else None


def ref(type_name: str, ident: int | None) -> tuple[str, int] | None:
    return (type_name, ident) if ident else None


def make(ident: int, attributes: dict, relationships: dict) -> Record:
    """A record with null attributes left out (absent means null)."""
    return Record(ident, {k: v for k, v in attributes.items() if v is not None}, relationships)


def email_hash(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()

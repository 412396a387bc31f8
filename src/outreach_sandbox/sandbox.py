"""The :class:`Sandbox`: one emulated Outreach org, with its state, credentials, limits and faults."""
from __future__ import annotations

import random
import threading

from .api import Api
from .app import build_app
from .clock import TickingClock
from .config import SandboxConfig
from .faults import Faults
from .gate import RecordedRequest
from .oauth import TokenRegistry
from .ratelimit import RateLimiter
from .resources import Resources
from .schema import load_catalogue
from .seed import SeedContext
from .seed_activity import ACTIVITY_FACTORIES
from .seed_extended import EXTENDED_FACTORIES
from .seed_people import PEOPLE_FACTORIES
from .seed_sales import SALES_FACTORIES
from .store import Store, Table
from .transport import SandboxTransport
from .webhooks import Webhooks


class Sandbox:
    """An in-memory Outreach API v2. ``app`` is the ASGI app; ``transport()`` runs it in-process for httpx."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.catalogue = load_catalogue(self.config.schema_dir)
        self.lock = threading.RLock()  # one request's state changes at a time, whichever loop or thread runs it
        self.requests: list[RecordedRequest] = []
        self.faults = Faults(self.config.seed)
        self.rng = random.Random(self.config.seed)
        self._clock = self._fresh_clock()
        self.store = Store(lambda: build_tables(self.config, list(self.catalogue.types)))
        self.tokens = TokenRegistry(self.config, self.rng)
        self.limiter = RateLimiter(self.config.rate_limit, self.config.rate_window)
        resources = Resources(self.catalogue, self.store, self.config, self.rng)
        self.api = Api(self.config, self.now, self.tokens, self.limiter, resources)
        # Deliveries go out over the network, to the host's receiver, on a background thread.
        self.webhooks = Webhooks(self.store, resources.renderer, org_id(self.config.seed),
                                 self.config.webhook_retry_delay)
        resources.on_write = self.webhooks.written
        self.app = build_app(self)

    def _fresh_clock(self):
        return self.config.clock or TickingClock()

    def now(self) -> float:
        """One reading of the sandbox clock (the default clock advances one second per reading)."""
        return self._clock()

    @property
    def token_refreshes(self) -> int:
        """How many refresh-token grants succeeded (tests use it to prove a client refreshes once)."""
        return self.tokens.refreshes

    def transport(self) -> SandboxTransport:
        """An httpx transport (sync and async) that runs this sandbox in-process."""
        return SandboxTransport(self.app)

    def reset(self) -> None:
        """Back to the seed state: data, write log, tokens, rate-limit windows, faults, request log, clock."""
        with self.lock:
            self.store.reset()
            self.webhooks.reset()
            self.tokens.reset()
            self.limiter.reset()
            self.faults.clear()
            self.requests.clear()
            self.rng.seed(self.config.seed)
            self._clock = self._fresh_clock()


def org_id(seed: int) -> str:
    """The org's id (``Outreach-Org-Id``), the one the seed data carries."""
    return SeedContext.org_id_for(seed)


def build_tables(config: SandboxConfig, type_names: list[str]) -> dict[str, Table]:
    """One table per served type, seeded with the configured number of records. It lives here, above the
    seed modules, so the factories import seed.py's helpers and seed.py imports no factory (no cycle)."""
    ctx = SeedContext(config)
    factories = {**EXTENDED_FACTORIES, **PEOPLE_FACTORIES, **SALES_FACTORIES, **ACTIVITY_FACTORIES}
    tables = {}
    for name in type_names:
        count_of, factory = factories.get(name, (lambda _ctx: 0, None))
        bound = (lambda i, f=factory: f(ctx, i)) if factory else None
        tables[name] = Table(name, count_of(ctx), bound)
    return tables

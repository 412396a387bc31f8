"""The API pipeline for one request: clock, authentication, rate limit, then the resource handlers.

Every response to an authenticated request carries ``X-RateLimit-*`` headers, errors included. The acting
user is always user 1 (the seeded admin): Outreach tokens belong to one user, and the sandbox has one.
"""
from __future__ import annotations

from collections.abc import Callable

from .config import SandboxConfig
from .errors import ApiError, unauthorized
from .lifecycle import WriteContext
from .oauth import TokenRegistry
from .ratelimit import RateLimiter
from .resources import ApiRequest, ApiResponse, Resources, error_response

ACTING_USER_ID = 1
ANONYMOUS = "anonymous"


class Api:
    def __init__(self, config: SandboxConfig, clock: Callable[[], float], tokens: TokenRegistry,
                 limiter: RateLimiter, resources: Resources):
        self.config = config
        self.clock = clock
        self.tokens = tokens
        self.limiter = limiter
        self.resources = resources

    def authenticate(self, headers: dict[str, str], now: float) -> str:
        """The rate-limit key of the caller: its access token (401 when there is no valid one)."""
        if not self.config.require_auth:
            return ANONYMOUS
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("An 'Authorization: Bearer <access token>' header is required.")
        problem = self.tokens.check(token.strip(), now)
        if problem:
            raise unauthorized(problem)
        return token.strip()

    def handle(self, request: ApiRequest) -> ApiResponse:
        now = self.clock()
        try:
            caller = self.authenticate(request.headers, now)
        except ApiError as error:
            return error_response(error)
        decision = self.limiter.hit(caller, now)
        if not decision.allowed:
            return error_response(decision.error())
        ctx = WriteContext(self.resources.store, self.resources.catalogue, now, ACTING_USER_ID)
        try:
            response = self.resources.dispatch(request, ctx)
        except ApiError as error:
            response = error_response(error)
        response.headers.update(decision.headers())
        return response

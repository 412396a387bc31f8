"""Retry, wait and pacing decisions, driven through the connector against a scripted fake Outreach.

Every wait runs on a virtual clock, so the assertions are about the seconds the connector chose to wait.
"""
from __future__ import annotations

import asyncio

import httpx
import pytest

from conftest import BASE_URL, TOKEN, FakeOutreach, jsonapi
from outreach_connector.errors import (NotFound, OutcomeUnknown, RateLimited, TransportError, UpstreamError)
from outreach_connector.retry import (RatePacer, RetryPolicy, parse_remaining, reset_time,
                                      retry_after_seconds)
from outreach_connector.wire import parse_timeout

from .conftest import START, VirtualClock, virtual_connector

STAGE = {"data": {"type": "stage", "id": 1}}
PROSPECT = {"data": {"type": "prospect", "id": 7}}
NO_JITTER = RetryPolicy(jitter=0.0)


def scripted(*answers):
    """A fake Outreach answering with ``answers`` in turn (an exception instance is raised instead)."""
    queue = list(answers)

    def respond(request):
        answer = queue.pop(0)
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer("scripted failure", request=request)
        return answer

    return FakeOutreach(respond)


def connector(fake, clock, retry=NO_JITTER, reserve=50):
    return virtual_connector(fake.transport, clock, retry, reserve, base_url=BASE_URL, token=TOKEN)


# --- reading Outreach's hints -----------------------------------------------------------------------------

@pytest.mark.parametrize("headers,expected", [
    pytest.param({"retry-after": "7"}, 7.0, id="seconds"),
    pytest.param({"retry-after": "Wed, 15 Jan 2025 09:01:00 GMT"}, 60.0, id="http-date"),
    pytest.param({"retry-after": "2025-01-15T09:02:00Z"}, 120.0, id="iso-timestamp"),
    pytest.param({"retry-after": "-5"}, 0.0, id="negative-is-now"),
    pytest.param({"retry-after": "soon"}, None, id="garbage"),
    pytest.param({"x-ratelimit-reset": str(int(START) + 30)}, 30.0, id="reset-epoch-seconds"),
    pytest.param({"x-ratelimit-reset": str(int(START + 30) * 1000)}, 30.0, id="reset-epoch-ms"),
    pytest.param({"x-ratelimit-reset": "45"}, 45.0, id="reset-as-delta"),
    pytest.param({"retry-after": "3", "x-ratelimit-reset": str(int(START) + 30)}, 3.0, id="retry-after-wins"),
])
def test_wait_hints(headers, expected):
    assert retry_after_seconds(headers, START) == expected


def test_reset_only_speaks_for_429():
    headers = {"x-ratelimit-reset": str(int(START) + 3000)}
    assert retry_after_seconds(headers, START, use_reset=False) is None
    assert reset_time("nan", START) is None and reset_time("", START) is None


@pytest.mark.parametrize("value,expected", [
    pytest.param("9999", 9999, id="one"), pytest.param("9999, 19988", 9999, id="two-values"),
    pytest.param("19988,12", 12, id="second-smaller"), pytest.param("x", None, id="garbage"),
    pytest.param(None, None, id="absent"),
])
def test_remaining_header(value, expected):
    assert parse_remaining(value) == expected


# --- what is retried, and how long it waits --------------------------------------------------------------

def test_get_backs_off_exponentially_with_jitter_then_succeeds(clock):
    fake = scripted(*[jsonapi(502)] * 4, jsonapi(200, STAGE))
    sleeps = []
    conn = connector(fake, clock, RetryPolicy(jitter=0.25))
    conn.sender.sleep = lambda s: (sleeps.append(s), clock.sleep(s))
    assert conn.call("get_stage", {"stage_id": 1}) == STAGE
    assert len(fake.requests) == 5
    for got, nominal in zip(sleeps, [0.5, 1, 2, 4], strict=True):
        assert nominal * 0.75 <= got <= nominal * 1.25


def test_a_503_does_not_wait_for_the_rate_limit_window(clock):
    """Every Outreach answer carries X-RateLimit-Reset; only a 429 means "wait for it"."""
    reset = {"X-RateLimit-Reset": str(int(START) + 3500), "X-RateLimit-Remaining": "9000"}
    fake = scripted(jsonapi(503, None, reset), jsonapi(200, STAGE))
    assert connector(fake, clock).call("get_stage", {"stage_id": 1}) == STAGE
    assert clock.slept == 0.5


def test_a_429_without_retry_after_waits_until_the_reset(clock):
    reset = {"X-RateLimit-Reset": str(int(START) + 40), "X-RateLimit-Remaining": "0"}
    fake = scripted(jsonapi(429, {"errors": [{"id": "rateLimitExceeded"}]}, reset), jsonapi(200, STAGE))
    assert connector(fake, clock).call("get_stage", {"stage_id": 1}) == STAGE
    assert clock.slept == 40


def test_a_429_with_an_http_date_retry_after(clock):
    fake = scripted(jsonapi(429, None, {"Retry-After": "Wed, 15 Jan 2025 09:00:12 GMT"}), jsonapi(200, STAGE))
    connector(fake, clock).call("get_stage", {"stage_id": 1})
    assert clock.slept == 12


def test_past_the_budget_a_429_is_rate_limited_with_the_wait_it_needed(clock):
    fake = scripted(jsonapi(429, {"errors": [{"id": "rateLimitExceeded", "detail": "try again at 10:00"}]},
                            {"Retry-After": "900"}))
    with pytest.raises(RateLimited) as caught:
        connector(fake, clock, RetryPolicy(max_total_wait=60)).call("list_stages", {})
    error = caught.value
    assert error.retry_after == 900 and len(fake.requests) == 1 and clock.slept == 0
    assert "900.0 s wait, beyond the retry budget of 60 s" in str(error)
    assert error.to_dict()["retry_after"] == 900
    assert error.errors == [{"id": "rateLimitExceeded", "detail": "try again at 10:00"}]


def test_past_the_budget_a_5xx_is_upstream_error_with_the_wait_it_needed(clock):
    fake = scripted(jsonapi(503, {"errors": [{"id": "scheduledServerMaintenance"}]}, {"Retry-After": "600"}))
    with pytest.raises(UpstreamError) as caught:
        connector(fake, clock, RetryPolicy(max_total_wait=30)).call("get_stage", {"stage_id": 1})
    assert type(caught.value) is UpstreamError
    assert caught.value.status_code == 503 and caught.value.retry_after == 600
    assert caught.value.to_dict()["retry_after"] == 600


def test_the_total_wait_is_bounded(clock):
    fake = FakeOutreach(lambda r: jsonapi(502))
    policy = RetryPolicy(max_attempts=50, max_total_wait=10, jitter=0)
    with pytest.raises(UpstreamError, match="gave up after 5 attempt"):
        connector(fake, clock, policy).call("get_stage", {"stage_id": 1})
    assert clock.slept == 0.5 + 1 + 2 + 4 <= 10  # the next (8 s) would have passed the budget
    assert len(fake.requests) == 5


def test_time_spent_in_failed_attempts_uses_the_budget_too(clock):
    def slow_failure(request):
        clock.now += 4  # an attempt that ran into a 4 s timeout-like delay before failing
        return jsonapi(502)

    fake = FakeOutreach(slow_failure)
    policy = RetryPolicy(max_attempts=50, max_total_wait=10, jitter=0)
    with pytest.raises(UpstreamError, match="gave up after 3 attempt"):
        connector(fake, clock, policy).call("get_stage", {"stage_id": 1})
    # 4 + 0.5 + 4 + 1 + 4 = 13.5 s spent: no third wait (2 s); counting waits alone it would go on to 5 attempts
    assert clock.slept == 0.5 + 1 and len(fake.requests) == 3


def test_attempts_are_bounded(clock):
    fake = FakeOutreach(lambda r: jsonapi(500))
    with pytest.raises(UpstreamError, match="gave up after 3 attempt"):
        connector(fake, clock, RetryPolicy(max_attempts=3, jitter=0)).call("get_stage", {"stage_id": 1})
    assert len(fake.requests) == 3


# --- writes: never applied twice --------------------------------------------------------------------------

CREATE = ("create_prospect", {"attributes": {"firstName": "Ada"}})


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_create_is_not_repeated_after_a_5xx_and_says_so(status, clock):
    fake = scripted(jsonapi(status))
    with pytest.raises(UpstreamError, match="not repeated: Outreach may have applied it"):
        connector(fake, clock).call(*CREATE)
    assert len(fake.requests) == 1


def test_a_create_is_repeated_after_429_and_after_503_with_retry_after(clock):
    fake = scripted(jsonapi(429, None, {"Retry-After": "2"}), jsonapi(503, None, {"Retry-After": "3"}),
                    jsonapi(201, PROSPECT))
    assert connector(fake, clock).call(*CREATE) == PROSPECT
    assert len(fake.requests) == 3 and clock.slept == 5


def test_a_create_is_not_repeated_after_a_503_without_retry_after(clock):
    fake = scripted(jsonapi(503))
    with pytest.raises(UpstreamError):
        connector(fake, clock).call(*CREATE)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("exc", [httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout,
                                 httpx.WriteTimeout, httpx.WriteError])
@pytest.mark.parametrize("operation,data", [
    pytest.param(*CREATE, id="create"),
    pytest.param("set_task_action", {"task_id": 1, "action": "markComplete"}, id="member-action"),
    pytest.param("create_compliance_request", {"requester_email": "a@example.com", "request_type": "Delete",
                                               "object_type": "Prospect", "request_object_email": "b@example.com"},
                 id="compliance-request"),
])
def test_an_ambiguous_failure_of_a_post_is_outcome_unknown(exc, operation, data, clock):
    fake = scripted(exc)
    with pytest.raises(OutcomeUnknown, match="may or may not have applied it"):
        connector(fake, clock).call(operation, data)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_a_post_that_never_left_is_repeated(exc, clock):
    fake = scripted(exc, jsonapi(201, PROSPECT))
    assert connector(fake, clock).call(*CREATE) == PROSPECT


def test_an_update_is_repeated_after_a_drop(clock):
    fake = scripted(httpx.RemoteProtocolError, jsonapi(200, STAGE))
    assert connector(fake, clock).call("update_stage", {"stage_id": 1, "attributes": {"name": "x"}}) == STAGE
    assert [r.method for r in fake.requests] == ["PATCH", "PATCH"]


def test_a_delete_repeated_after_a_drop_that_finds_nothing_succeeded(clock):
    fake = scripted(httpx.RemoteProtocolError, jsonapi(404, {"errors": [{"id": "resourceNotFound"}]}))
    assert connector(fake, clock).call("delete_stage", {"stage_id": 1}) == {"deleted": True}
    assert len(fake.requests) == 2


def test_a_delete_of_a_missing_record_is_still_not_found(clock):
    fake = scripted(jsonapi(404, {"errors": [{"id": "resourceNotFound"}]}))
    with pytest.raises(NotFound):
        connector(fake, clock).call("delete_stage", {"stage_id": 1})


def test_a_get_that_keeps_dropping_is_a_transport_error_naming_the_attempts(clock):
    fake = FakeOutreach(lambda r: (_ for _ in ()).throw(httpx.ReadError("reset", request=r)))
    with pytest.raises(TransportError, match="gave up after 2 attempt") as caught:
        connector(fake, clock, RetryPolicy(max_attempts=2)).call("get_stage", {"stage_id": 1})
    assert type(caught.value) is TransportError


@pytest.mark.anyio
async def test_async_calls_take_the_same_decisions(clock):
    fake = scripted(jsonapi(429, None, {"Retry-After": "4"}), httpx.ReadError, jsonapi(200, STAGE),
                    httpx.RemoteProtocolError)
    conn = connector(fake, clock)
    assert await conn.acall("get_stage", {"stage_id": 1}) == STAGE
    assert clock.slept == 4 + 1.0  # Retry-After, then the second backoff step
    with pytest.raises(OutcomeUnknown):
        await conn.acall(*CREATE)
    await conn.aclose()


# --- pacing -----------------------------------------------------------------------------------------------

def limit_headers(remaining: str, reset_in: float, now: float = START) -> dict[str, str]:
    return {"x-ratelimit-remaining": remaining, "x-ratelimit-reset": str(int(now + reset_in))}


def test_pacer_is_idle_with_plenty_left(clock):
    pacer = RatePacer(reserve=50, clock=clock)
    pacer.observe(limit_headers("9000", 3000))
    assert [pacer.delay() for _ in range(100)] == [0.0] * 100


def test_pacer_spreads_the_last_requests_over_the_time_left(clock):
    pacer = RatePacer(reserve=50, clock=clock)
    pacer.observe(limit_headers("4, 19988", 8))  # the smaller value binds
    delays = [pacer.delay() for _ in range(4)]  # four callers at the same instant (concurrent)
    assert delays == [0.0, 2.0, 4.0, 6.0]
    assert pacer.delay() == 8.0  # none left: wait for the reset


def test_pacer_forgets_a_window_that_has_rolled_over(clock):
    pacer = RatePacer(reserve=50, clock=clock)
    pacer.observe(limit_headers("0", 10))
    assert pacer.delay() == 10
    clock.sleep(10)
    assert pacer.delay() == 0.0 and pacer.remaining is None


def test_pacer_keeps_the_lowest_count_of_a_window(clock):
    pacer = RatePacer(clock=clock)
    pacer.observe(limit_headers("5", 60))
    pacer.observe(limit_headers("9", 60))  # an older answer arriving late
    assert pacer.remaining == 5
    pacer.observe(limit_headers("1000", 3660))  # a new window
    assert pacer.remaining == 1000


def test_reserve_zero_bursts_to_the_limit_then_waits_for_the_reset(clock):
    pacer = RatePacer(reserve=0, clock=clock)
    pacer.observe(limit_headers("2", 60))
    assert [pacer.delay(), pacer.delay(), pacer.delay()] == [0.0, 0.0, 60.0]


def test_a_pacing_wait_longer_than_the_caller_affords_reserves_nothing(clock):
    pacer = RatePacer(reserve=50, clock=clock)
    pacer.observe(limit_headers("2", 100))
    assert pacer.delay() == 0.0  # slot now; the next is 50 s later
    assert pacer.delay(limit=10) == 50.0 and pacer.remaining == 1  # refused: nothing counted
    assert pacer.delay() == 50.0 and pacer.remaining == 0


def test_a_pacing_wait_past_the_retry_budget_is_rate_limited_and_sends_nothing(clock):
    fake = FakeOutreach(lambda r: jsonapi(200, STAGE, limit_headers("0", 3000)))
    conn = connector(fake, clock, RetryPolicy(max_total_wait=60))
    conn.call("get_stage", {"stage_id": 1})  # learns that nothing is left for 3,000 s
    with pytest.raises(RateLimited, match="not sent: Outreach's rate limit leaves no request for 3000 s") as caught:
        conn.call("get_stage", {"stage_id": 1})
    assert caught.value.retry_after == 3000 and len(fake.requests) == 1 and clock.slept == 0


def test_the_sender_paces_from_the_headers_it_reads(clock):
    remaining = iter(range(5, -1, -1))

    def respond(request):
        return jsonapi(200, STAGE, limit_headers(str(next(remaining)), 12, START))

    conn = connector(FakeOutreach(respond), clock)
    for _ in range(6):
        conn.call("get_stage", {"stage_id": 1})
    assert clock.slept == pytest.approx(12 * 4 / 5, abs=0.01)  # 5 left over 12 s: slots every 2.4 s


@pytest.mark.anyio
async def test_concurrent_async_calls_are_spread_too(clock):
    sent_at = []

    def respond(request):
        sent_at.append(clock.now)
        return jsonapi(200, STAGE, limit_headers("4", 8))

    conn = connector(FakeOutreach(respond), clock)
    await conn.acall("get_stage", {"stage_id": 1})  # learn the budget: 4 left, 8 s to go

    async def sleeper(seconds):  # a real concurrent sleep, on virtual time
        await asyncio.sleep(seconds / 1000)
        clock.now = max(clock.now, START + seconds)

    conn.sender.asleep = sleeper
    await asyncio.gather(*(conn.acall("get_stage", {"stage_id": 1}) for _ in range(4)))
    assert sorted(sent_at[1:]) == [START, START + 2, START + 4, START + 6]
    await conn.aclose()


# --- timeouts ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    pytest.param("30", httpx.Timeout(30.0), id="all-phases"),
    pytest.param("connect=5, read=90", httpx.Timeout(connect=5.0, read=90.0, write=60.0, pool=10.0),
                 id="per-phase"),
])
def test_timeouts_from_text(text, expected):
    assert parse_timeout(text) == expected


@pytest.mark.parametrize("text", ["0", "-1", "soon", "connect=5,reed=9", "inf"])
def test_bad_timeouts_are_refused(text):
    with pytest.raises(ValueError, match="invalid timeout"):
        parse_timeout(text)


def test_settings_read_timeouts_and_the_retry_budget_from_flags_or_environment():
    from outreach_connector.settings import Settings, SettingsInvalid

    settings = Settings.from_env({"OUTREACH_TIMEOUT": "connect=2,read=20", "OUTREACH_MAX_RETRY_WAIT": "5"})
    assert settings.timeout == httpx.Timeout(connect=2.0, read=20.0, write=60.0, pool=10.0)
    assert settings.retry.max_total_wait == 5
    assert Settings.from_env({"OUTREACH_TIMEOUT": "99"}, timeout="7").timeout == httpx.Timeout(7.0)
    with pytest.raises(SettingsInvalid):
        Settings.from_env({}, timeout="x")


def test_the_configured_timeout_reaches_the_http_client():
    from outreach_connector import Connector

    conn = Connector(base_url=BASE_URL, access_token=TOKEN, timeout=httpx.Timeout(3.0, connect=1.0),
                     transport=FakeOutreach(lambda r: jsonapi(200, STAGE)).transport)
    conn.call("get_stage", {"stage_id": 1})
    assert conn.sender._client.timeout == httpx.Timeout(3.0, connect=1.0)
    conn.close()


def test_default_timeouts_are_finite():
    from outreach_connector.wire import DEFAULT_TIMEOUT

    assert all(0 < t <= 120 for t in (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.read, DEFAULT_TIMEOUT.write,
                                      DEFAULT_TIMEOUT.pool))


def test_virtual_clock_starts_where_the_hints_are_computed():
    assert VirtualClock()() == START

"""The flow through real httpx clients on a MockTransport: single flight under concurrency, no leaks."""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from outreach_connector.oauth import OAuthRefreshAuth, TokenSet

from .fakes import API_URL, CLIENT_ID, CLIENT_SECRET, TOKEN_URL, FakeOutreach

CALLS = 50


def make_auth(persisted: list[TokenSet], **overrides) -> OAuthRefreshAuth:
    options = dict(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="refresh-0",
                   token_url=TOKEN_URL, on_refresh=persisted.append)
    options.update(overrides)
    return OAuthRefreshAuth(**options)


async def fire_async(fake: FakeOutreach, auth: OAuthRefreshAuth, calls: int = CALLS) -> list[httpx.Response]:
    transport = httpx.MockTransport(fake.async_handler)
    async with httpx.AsyncClient(transport=transport, auth=auth) as client:
        return await asyncio.gather(*(client.get(API_URL) for _ in range(calls)))


def fire_threads(fake: FakeOutreach, auth: OAuthRefreshAuth, calls: int = CALLS) -> list[httpx.Response]:
    with httpx.Client(transport=httpx.MockTransport(fake.handler), auth=auth) as client, \
            ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(lambda _: client.get(API_URL), range(calls)))


def test_concurrent_async_calls_without_a_token_refresh_once():
    fake, persisted = FakeOutreach(delay=0.05), []
    responses = asyncio.run(fire_async(fake, make_auth(persisted)))
    assert [r.status_code for r in responses] == [200] * CALLS
    assert fake.refreshes == 1 and len(fake.token_requests) == 1
    assert [t.refresh_token for t in persisted] == ["refresh-1"]


def test_concurrent_async_401s_refresh_once():
    fake, persisted = FakeOutreach(delay=0.05), []
    fake.valid_access_tokens.add("access-revoked-soon")
    auth = make_auth(persisted, access_token="access-revoked-soon", expires_at=None)
    fake.revoke_access_tokens()
    responses = asyncio.run(fire_async(fake, auth))
    assert {r.json()["token"] for r in responses} == {"access-1"}
    assert fake.refreshes == 1
    assert fake.api_calls == 2 * CALLS  # each call: one 401, one retry


def test_concurrent_threads_with_an_expired_token_refresh_once():
    fake, persisted = FakeOutreach(delay=0.05), []
    auth = make_auth(persisted, access_token="access-old", expires_at=0.0)
    responses = fire_threads(fake, auth)
    assert [r.status_code for r in responses] == [200] * CALLS
    assert fake.refreshes == 1
    assert persisted[-1].refresh_token == fake.live_refresh_token == "refresh-1"


def test_threads_and_event_loops_share_one_refresh():
    """Sync and async callers of one auth object never refresh concurrently (rotation would kill one)."""
    fake, persisted = FakeOutreach(delay=0.05), []
    auth = make_auth(persisted)
    results: list[list[httpx.Response]] = []
    loops = [threading.Thread(target=lambda: results.append(asyncio.run(fire_async(fake, auth, 20))))
             for _ in range(2)]
    for thread in loops:
        thread.start()
    results.append(fire_threads(fake, auth, 20))
    for thread in loops:
        thread.join()
    assert sorted(r.status_code for batch in results for r in batch) == [200] * 60
    assert fake.refreshes == 1


def test_dead_refresh_token_fails_every_caller_clearly_without_hammering():
    from outreach_connector.errors import ReconnectRequired

    fake = FakeOutreach(refresh_token="someone-else-rotated-it")

    async def run() -> list[BaseException | httpx.Response]:
        transport = httpx.MockTransport(fake.async_handler)
        async with httpx.AsyncClient(transport=transport, auth=make_auth([])) as client:
            return await asyncio.gather(*(client.get(API_URL) for _ in range(10)), return_exceptions=True)

    outcomes = asyncio.run(run())
    assert all(isinstance(o, ReconnectRequired) for o in outcomes)
    assert len(fake.token_requests) == 10  # one at a time; each caller learns the token is dead


def test_expiry_by_clock_triggers_a_refresh_on_the_next_call():
    fake, persisted, now = FakeOutreach(expires_in=100), [], [1000.0]
    auth = make_auth(persisted, clock=lambda: now[0])
    with httpx.Client(transport=httpx.MockTransport(fake.handler), auth=auth) as client:
        assert client.get(API_URL).json()["token"] == "access-1"
        now[0] += 60
        assert client.get(API_URL).json()["token"] == "access-2"  # within min(margin, life/2) of expiry
    assert fake.refreshes == 2


def test_no_secret_reaches_a_log_record(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeOutreach(delay=0.01)
    fake.queued_token_answers.append(httpx.Response(429, headers={"Retry-After": "0"}))
    asyncio.run(fire_async(fake, make_auth([]), calls=5))
    fire_threads(fake, make_auth([], refresh_token=fake.live_refresh_token, access_token="access-x"), calls=5)
    text = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "refreshed the Outreach access token" in text
    for secret in (CLIENT_SECRET, "refresh-0", "refresh-1", "access-1", "access-x"):
        assert secret not in text


@pytest.mark.parametrize("retry_after", [pytest.param("0", id="delta"),
                                         pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", id="past-http-date")])
def test_retry_after_forms(retry_after):
    fake = FakeOutreach()
    fake.queued_token_answers.append(httpx.Response(429, headers={"Retry-After": retry_after}))
    with httpx.Client(transport=httpx.MockTransport(fake.handler), auth=make_auth([])) as client:
        assert client.get(API_URL).status_code == 200
    assert len(fake.token_requests) == 2

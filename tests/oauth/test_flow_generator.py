"""The OAuth flow driven step by step through its generator, as httpx's own auth tests do."""
from __future__ import annotations

import httpx
import pytest

from outreach_connector.errors import AuthError, RateLimited, ReconnectRequired
from outreach_connector.client import BearerToken
from outreach_connector.oauth import OAuthRefreshAuth, TokenSet

from .fakes import CLIENT_ID, CLIENT_SECRET, TOKEN_URL
from tests.clocks import ManualClock

API = "https://api.outreach.test/api/v2/prospects"


def make_auth(events=None, **overrides) -> OAuthRefreshAuth:
    def on_refresh(tokens: TokenSet) -> None:
        if events is not None:
            events.append(("persisted", tokens))

    options = dict(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token="refresh-0",
                   token_url=TOKEN_URL, on_refresh=on_refresh, clock=ManualClock())
    options.update(overrides)
    return OAuthRefreshAuth(**options)


def token_answer(request: httpx.Request, n: int = 1, status: int = 200, **extra) -> httpx.Response:
    body = {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}", "expires_in": 7200, **extra}
    return httpx.Response(status, json=body, request=request)


def form_of(request: httpx.Request) -> dict[str, str]:
    return dict(httpx.QueryParams(request.content.decode()))


def test_without_access_token_refreshes_first_and_persists_before_use():
    events: list = []
    auth = make_auth(events)
    flow = auth.sync_auth_flow(httpx.Request("GET", API))

    token_request = next(flow)
    assert (token_request.method, str(token_request.url)) == ("POST", TOKEN_URL)
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(token_request) == {"grant_type": "refresh_token", "refresh_token": "refresh-0",
                                      "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    api_request = flow.send(token_answer(token_request))
    assert events == [("persisted", TokenSet("access-1", "refresh-1", 1_000_000.0 + 7200, None))]
    assert api_request.headers["Authorization"] == "Bearer access-1"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200, request=api_request))


def test_valid_token_is_sent_without_refresh():
    auth = make_auth(access_token="access-live", expires_at=1_000_000.0 + 3600)
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    request = next(flow)
    assert str(request.url) == API
    assert request.headers["Authorization"] == "Bearer access-live"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200, request=request))
    assert auth.refresh_count == 0


def test_refreshes_within_the_margin_before_expiry():
    clock = ManualClock()
    auth = make_auth(access_token="access-old", expires_at=clock.now + 59, clock=clock, refresh_margin=60)
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    assert str(next(flow).url) == TOKEN_URL


def test_a_margin_longer_than_the_token_life_does_not_refresh_every_call():
    clock = ManualClock()
    auth = make_auth(clock=clock, refresh_margin=60)
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    token_request = next(flow)
    flow.send(token_answer(token_request, expires_in=10))  # Outreach hands out a 10-second token
    clock.now += 4
    second = auth.sync_auth_flow(httpx.Request("GET", API))
    assert str(next(second).url) == API
    clock.now += 2  # past half its life: time to refresh
    third = auth.sync_auth_flow(httpx.Request("GET", API))
    assert str(next(third).url) == TOKEN_URL


def test_401_refreshes_once_and_retries_once():
    auth = make_auth(access_token="access-stale", expires_at=None)
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    first = next(flow)
    assert first.headers["Authorization"] == "Bearer access-stale"
    token_request = flow.send(httpx.Response(401, request=first))
    assert str(token_request.url) == TOKEN_URL
    retried = flow.send(token_answer(token_request, n=7))
    assert (str(retried.url), retried.headers["Authorization"]) == (API, "Bearer access-7")
    with pytest.raises(StopIteration):  # a second 401 is the caller's to report: no refresh loop
        flow.send(httpx.Response(401, request=retried))
    assert auth.refresh_count == 1


def test_request_body_is_replayed_on_the_retry():
    auth = make_auth(access_token="access-stale")
    flow = auth.sync_auth_flow(httpx.Request("POST", API, json={"data": {"type": "prospect"}}))
    first = next(flow)
    token_request = flow.send(httpx.Response(401, request=first))
    retried = flow.send(token_answer(token_request))
    assert retried.content == first.content == b'{"data":{"type":"prospect"}}'


@pytest.mark.parametrize("status", [pytest.param(400, id="400"), pytest.param(401, id="401")])
def test_invalid_grant_is_reconnect_required(status):
    auth = make_auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    token_request = next(flow)
    with pytest.raises(ReconnectRequired) as caught:
        flow.send(httpx.Response(status, json={"error": "invalid_grant", "error_description": "revoked"},
                                 request=token_request))
    error = caught.value
    assert error.status_code == status
    assert error.body == {"error": "invalid_grant"}  # the code only: the free text is the endpoint's
    assert "Reconnect" in error.message and "invalid_grant" in error.message
    assert not any(secret in repr(error) + str(error) for secret in (CLIENT_SECRET, "refresh-0"))


def test_invalid_client_is_an_auth_error_naming_the_app_credentials():
    auth = make_auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    token_request = next(flow)
    with pytest.raises(AuthError) as caught:
        flow.send(httpx.Response(401, json={"error": "invalid_client"}, request=token_request))
    assert not isinstance(caught.value, ReconnectRequired)
    assert "client id" in caught.value.message


def test_429_from_the_token_endpoint_is_waited_out():
    auth = make_auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    first_try = next(flow)
    second_try = flow.send(httpx.Response(429, headers={"Retry-After": "0.01"}, request=first_try))
    assert str(second_try.url) == TOKEN_URL and form_of(second_try)["refresh_token"] == "refresh-0"
    api_request = flow.send(token_answer(second_try))
    assert api_request.headers["Authorization"] == "Bearer access-1"


def test_429_longer_than_the_budget_is_rate_limited_without_waiting():
    auth = make_auth(max_token_wait=120)
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    token_request = next(flow)
    with pytest.raises(RateLimited) as caught:
        flow.send(httpx.Response(429, headers={"Retry-After": "3600"}, request=token_request))
    assert caught.value.retry_after == 3600
    assert "Retry-After 3600s exceeds the 120s budget" in caught.value.message


def test_persist_failure_keeps_the_rotated_tokens_and_retries_the_handover():
    calls: list[TokenSet] = []

    def flaky_persist(tokens: TokenSet) -> None:
        calls.append(tokens)
        if len(calls) == 1:
            raise OSError("disk full")

    auth = make_auth(on_refresh=flaky_persist)
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    token_request = next(flow)
    with pytest.raises(OSError):  # the new access token is not used before the host has it
        flow.send(token_answer(token_request))
    again = auth.sync_auth_flow(httpx.Request("GET", API))
    request = next(again)  # no second token request: Outreach already rotated, only the hand-over was missing
    assert (str(request.url), request.headers["Authorization"]) == (API, "Bearer access-1")
    assert [t.refresh_token for t in calls] == ["refresh-1", "refresh-1"]


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one():
    auth = make_auth()
    flow = auth.sync_auth_flow(httpx.Request("GET", API))
    token_request = next(flow)
    flow.send(httpx.Response(200, json={"access_token": "a", "expires_in": 60}, request=token_request))
    assert auth.token_set.refresh_token == "refresh-0"


def test_nothing_secret_in_reprs():
    tokens = TokenSet("access-canary", "refresh-canary", 1.0, "prospects.all")
    auth = make_auth(access_token="access-canary")
    text = repr(tokens) + str(tokens) + repr(auth) + repr(BearerToken("access-canary"))
    for secret in ("access-canary", "refresh-canary", CLIENT_SECRET, "refresh-0"):
        assert secret not in text
    assert "prospects.all" in repr(tokens)

"""OAuth token endpoint, bearer checks, token expiry, and rate limiting."""
from __future__ import annotations

import base64

import httpx
import pytest

from outreach_sandbox import Sandbox, SandboxConfig

from .conftest import AUTH, BASE

CLIENT = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}


def token_client(sb: Sandbox) -> httpx.Client:
    return httpx.Client(transport=sb.transport(), base_url="http://sandbox.test")


def refresh(sb: Sandbox, token: str, **extra) -> httpx.Response:
    with token_client(sb) as c:
        return c.post("/oauth/token", data={**CLIENT, "grant_type": "refresh_token", "refresh_token": token,
                                            "redirect_uri": "https://app.example/callback", **extra})


def get_user(sb: Sandbox, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(transport=sb.transport(), base_url=BASE, headers=headers) as c:
        return c.get("/users/1")


def test_code_grant(sb):
    with token_client(sb) as c:
        response = c.post("/oauth/token", data={**CLIENT, "grant_type": "authorization_code",
                                                "code": "sandbox-auth-code", "redirect_uri": "http://anything/cb"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope", "created_at"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 7200)
    assert "prospects.all" in body["scope"].split()
    assert response.headers["cache-control"] == "no-store"
    assert get_user(sb, body["access_token"]).status_code == 200
    assert refresh(sb, body["refresh_token"]).status_code == 200


def test_wrong_code_is_invalid_grant(sb):
    with token_client(sb) as c:
        response = c.post("/oauth/token", data={**CLIENT, "grant_type": "authorization_code", "code": "nope"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_refresh_rotates_and_the_old_refresh_token_dies(sb):
    first = refresh(sb, "sandbox-refresh-token")
    assert first.status_code == 200
    reused = refresh(sb, "sandbox-refresh-token")
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    second = refresh(sb, first.json()["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first.json()["refresh_token"]
    assert second.json()["access_token"] != first.json()["access_token"]
    assert sb.token_refreshes == 2


@pytest.mark.parametrize("credentials", [
    pytest.param({"client_id": "sandbox-client-id", "client_secret": "wrong"}, id="wrong-secret"),
    pytest.param({"client_id": "other", "client_secret": "sandbox-client-secret"}, id="wrong-id"),
    pytest.param({}, id="none"),
])
def test_bad_client_credentials_are_401_invalid_client(sb, credentials):
    with token_client(sb) as c:
        response = c.post("/oauth/token", data={**credentials, "grant_type": "refresh_token",
                                                "refresh_token": "sandbox-refresh-token"})
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert sb.token_refreshes == 0
    assert refresh(sb, "sandbox-refresh-token").status_code == 200  # the failed attempt did not spend it


def test_basic_client_authentication(sb):
    basic = base64.b64encode(b"sandbox-client-id:sandbox-client-secret").decode()
    with token_client(sb) as c:
        response = c.post("/oauth/token", headers={"Authorization": f"Basic {basic}"},
                          data={"grant_type": "refresh_token", "refresh_token": "sandbox-refresh-token"})
    assert response.status_code == 200


@pytest.mark.parametrize(("data", "error"), [
    pytest.param({"grant_type": "password"}, "unsupported_grant_type", id="grant"),
    pytest.param({}, "invalid_request", id="no-grant"),
    pytest.param({"grant_type": "refresh_token"}, "invalid_request", id="no-refresh-token"),
])
def test_malformed_token_requests_are_400(sb, data, error):
    with token_client(sb) as c:
        response = c.post("/oauth/token", data={**CLIENT, **data})
    assert (response.status_code, response.json()["error"]) == (400, error)


def test_minted_tokens_expire(clocked, clock):
    token = refresh(clocked, "sandbox-refresh-token").json()["access_token"]
    clock.advance(99)
    assert get_user(clocked, token).status_code == 200
    clock.advance(1)
    expired = get_user(clocked, token)
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["detail"] == "The access token has expired."
    assert get_user(clocked, "sandbox-access-token").status_code == 200  # the long-lived one never expires


@pytest.mark.parametrize("token", [None, "made-up", ""])
def test_missing_or_unknown_bearer_is_401_jsonapi(sb, token):
    response = get_user(sb, token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["id"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "x-ratelimit-limit" not in response.headers


def test_auth_can_be_switched_off():
    sb = Sandbox(SandboxConfig(require_auth=False))
    assert get_user(sb, None).status_code == 200


def test_the_long_lived_token_can_be_disabled():
    assert get_user(Sandbox(SandboxConfig(access_token=None)), "sandbox-access-token").status_code == 401


def test_request_log_never_keeps_secrets(sb):
    refresh(sb, "sandbox-refresh-token")
    get_user(sb, "sandbox-access-token")
    logged = repr(sb.requests) + "".join(r.body.decode() for r in sb.requests)
    assert "sandbox-client-secret" not in logged and "sandbox-refresh-token" not in logged
    assert "sandbox-access-token" not in logged
    assert sb.requests[-1].bearer is True and "authorization" not in sb.requests[-1].headers


def test_rate_limit_headers_and_429(clocked, clock):
    with httpx.Client(transport=clocked.transport(), base_url=BASE, headers=AUTH) as c:
        responses = [c.get("/stages/1") for _ in range(5)]
        assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["4", "3", "2", "1", "0"]
        assert {r.headers["x-ratelimit-limit"] for r in responses} == {"5"}
        reset = int(clock.now) + 60
        assert {r.headers["x-ratelimit-reset"] for r in responses} == {str(reset)}
        clock.advance(15)
        limited = c.get("/stages/1")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "45"
        assert limited.json()["errors"][0]["id"] == "rateLimitExceeded"
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert c.get("/nonsense").status_code == 429  # every API request counts, errors too
        clock.advance(45)
        fresh = c.get("/stages/1")
        assert fresh.status_code == 200 and fresh.headers["x-ratelimit-remaining"] == "4"


def test_rate_limits_are_per_token(clocked):
    minted = refresh(clocked, "sandbox-refresh-token").json()["access_token"]
    for _ in range(5):
        get_user(clocked, "sandbox-access-token")
    assert get_user(clocked, "sandbox-access-token").status_code == 429
    assert get_user(clocked, minted).status_code == 200


def test_error_responses_carry_rate_limit_headers(client):
    response = client.get("/prospects/99999")
    assert response.status_code == 404
    assert response.headers["x-ratelimit-limit"] == "10000"

"""The consent page at /oauth/authorize and the codes it issues (single use, 10 minutes, bound to redirect_uri)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from outreach_sandbox import Sandbox, SandboxConfig

from tests.clocks import ManualClock

CLIENT = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}
REDIRECT = "https://host.example/oauth/callback?tenant=a"


def page_client(sb: Sandbox) -> httpx.Client:
    return httpx.Client(transport=sb.transport(), base_url="http://sandbox.test")


def authorize_query(**overrides: str | None) -> str:
    params = {"client_id": "sandbox-client-id", "redirect_uri": REDIRECT, "response_type": "code",
              "scope": "prospects.read accounts.all", "state": "st<ate>", **overrides}
    return urlencode({k: v for k, v in params.items() if v is not None})


def decide(sb: Sandbox, decision: str, **overrides: str | None) -> httpx.Response:
    with page_client(sb) as c:
        return c.post(f"/oauth/authorize?{authorize_query(**overrides)}", data={"decision": decision})


def redirect_params(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 302
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def exchange(sb: Sandbox, code: str, redirect_uri: str = REDIRECT) -> httpx.Response:
    with page_client(sb) as c:
        return c.post("/oauth/token", data={**CLIENT, "grant_type": "authorization_code", "code": code,
                                            "redirect_uri": redirect_uri})


def allowed_code(sb: Sandbox) -> str:
    _, params = redirect_params(decide(sb, "allow"))
    return params["code"][0]


def test_the_page_shows_the_client_and_scopes_with_a_form_posting_to_the_same_url(sb):
    query = authorize_query()
    with page_client(sb) as c:
        response = c.get(f"/oauth/authorize?{query}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<code>sandbox-client-id</code>" in html
    assert re.findall(r"<li>(.*?)</li>", html) == ["prospects.read", "accounts.all"]
    form = re.search(r'<form method="post" action="([^"]*)">', html)
    assert form and form.group(1).replace("&amp;", "&") == f"/oauth/authorize?{query}"
    assert '<button type="submit" name="decision" value="allow" data-testid="allow">Allow</button>' in html
    assert '<button type="submit" name="decision" value="deny" data-testid="deny">Deny</button>' in html


def test_allow_redirects_with_a_code_and_the_state_keeping_the_redirect_query(sb):
    target, params = redirect_params(decide(sb, "allow"))
    assert target == "https://host.example/oauth/callback"
    assert params["tenant"] == ["a"] and params["state"] == ["st<ate>"]
    assert re.fullmatch(r"sbx_code_[0-9a-f]{40}", params["code"][0])


def test_deny_redirects_with_access_denied_and_no_code(sb):
    _, params = redirect_params(decide(sb, "deny"))
    assert params == {"tenant": ["a"], "error": ["access_denied"], "state": ["st<ate>"]}


def test_an_issued_code_exchanges_once(sb):
    code = allowed_code(sb)
    first = exchange(sb, code)
    assert first.status_code == 200 and first.json()["refresh_token"]
    replay = exchange(sb, code)
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant",
                             "error_description": "The authorization code is invalid or has already been used."}
    assert sb.tokens.code_exchanges == 1


def test_a_code_is_bound_to_its_redirect_uri_and_spent_by_a_wrong_one(sb):
    code = allowed_code(sb)
    wrong = exchange(sb, code, "https://attacker.example/cb")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert "redirect_uri does not match" in wrong.json()["error_description"]
    assert exchange(sb, code).status_code == 400  # spent by the failed attempt


def test_a_code_expires_after_ten_minutes():
    clock = ManualClock(1_736_931_600.0)
    sb = Sandbox(SandboxConfig(clock=clock))
    fresh, stale = allowed_code(sb), allowed_code(sb)
    clock.advance(599)
    assert exchange(sb, fresh).status_code == 200
    clock.advance(1)
    expired = exchange(sb, stale)
    assert expired.status_code == 400
    assert expired.json()["error_description"] == "The authorization code has expired."


def test_the_fixed_code_stays_reusable_with_any_redirect_uri(sb):
    assert exchange(sb, "sandbox-auth-code", "http://anything/cb").status_code == 200
    assert exchange(sb, "sandbox-auth-code", "http://other/cb").status_code == 200


def test_an_exchange_without_a_code_is_invalid_request(sb):
    with page_client(sb) as c:
        response = c.post("/oauth/token", data={**CLIENT, "grant_type": "authorization_code"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_pending_codes_are_bounded_oldest_first(sb, monkeypatch):
    monkeypatch.setattr("outreach_sandbox.oauth.MAX_PENDING_CODES", 2)
    oldest, middle, newest = allowed_code(sb), allowed_code(sb), allowed_code(sb)
    assert exchange(sb, oldest).status_code == 400
    assert exchange(sb, middle).status_code == 200 and exchange(sb, newest).status_code == 200


@pytest.mark.parametrize(("overrides", "message"), [
    pytest.param({"client_id": "someone-else"}, "Unknown client_id", id="unknown-client"),
    pytest.param({"client_id": None}, "Unknown client_id", id="no-client"),
    pytest.param({"redirect_uri": None}, "redirect_uri is required", id="no-redirect"),
    pytest.param({"redirect_uri": "javascript:alert(1)"}, "absolute http(s) URL", id="script-redirect"),
    pytest.param({"redirect_uri": "https://host.example/cb#frag"}, "without a fragment", id="fragment"),
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_client_or_redirect_uri_is_an_error_page_never_a_redirect(sb, overrides, message, method):
    with page_client(sb) as c:
        response = c.request(method, f"/oauth/authorize?{authorize_query(**overrides)}",
                             data={"decision": "allow"} if method == "POST" else None)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert message in response.text and 'role="alert"' in response.text
    assert sb.tokens._codes == {}


def test_another_response_type_is_redirected_as_unsupported(sb):
    with page_client(sb) as c:
        response = c.get(f"/oauth/authorize?{authorize_query(response_type='token')}")
    _, params = redirect_params(response)
    assert params["error"] == ["unsupported_response_type"] and params["state"] == ["st<ate>"]


def test_a_decision_other_than_allow_or_deny_is_an_error_page(sb):
    response = decide(sb, "maybe")
    assert response.status_code == 400 and "decision must be" in response.text


def test_an_oversized_decision_form_is_refused(sb):
    with page_client(sb) as c:
        response = c.post(f"/oauth/authorize?{authorize_query()}", content=b"decision=allow&" + b"x" * 2000,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_the_page_escapes_what_it_shows(sb):
    with page_client(sb) as c:
        html = c.get(f"/oauth/authorize?{authorize_query(scope='<script>x</script>')}").text
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_state_is_left_out_when_none_was_given(sb):
    _, params = redirect_params(decide(sb, "allow", state=None))
    assert set(params) == {"tenant", "code"}

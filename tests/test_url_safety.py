"""The token goes only to the configured Outreach API origin: hostile URLs are refused before sending."""
from __future__ import annotations

import pytest

from conftest import FakeOutreach, jsonapi
from outreach_connector.errors import InputInvalid, UnsafeURL
from outreach_connector.server.consent import return_url_allowed
from outreach_connector.server.credentials import OAuthCredentials
from outreach_connector.server.settings import ServerSettings
from outreach_connector.settings import Settings
from outreach_connector.urls import plain_http_url

REFUSED = (UnsafeURL, InputInvalid)  # a non-http scheme is already refused by the input schema

HOSTILE = [
    pytest.param("https://api.outreach.io.evil.com/api/v2/prospects", id="look-alike-suffix"),
    pytest.param("https://evil-api.outreach.io/api/v2/prospects", id="other-subdomain"),
    pytest.param("https://api.outreach.io@evil.com/api/v2/prospects", id="userinfo-host"),
    pytest.param("https://user:pw@api.outreach.io/api/v2/prospects", id="userinfo-on-real-host"),
    pytest.param("http://api.outreach.io/api/v2/prospects", id="http-downgrade"),
    pytest.param("https://api.outreach.io:8443/api/v2/prospects", id="other-port"),
    pytest.param("https://api.outreach.io%2eevil.com/api/v2/prospects", id="encoded-dot"),
    pytest.param("https://api.outreach.io\\@evil.com/api/v2", id="backslash"),
    pytest.param("https://api.outreach.io /api/v2", id="space"),
    pytest.param("https://evil.com/?next=https://api.outreach.io/api/v2", id="origin-in-query"),
    pytest.param("ftp://api.outreach.io/api/v2/prospects", id="other-scheme"),
    pytest.param("https://[::1]/api/v2", id="ipv6-literal"),
    pytest.param("https://api.outreach.io\t.evil.com/", id="tab"),
]


@pytest.mark.parametrize("url", HOSTILE)
def test_execute_link_refuses_hostile_urls_and_sends_nothing(url, make_connector):
    fake = FakeOutreach()  # fails the test on any request
    with pytest.raises(REFUSED):
        make_connector(fake).call("execute_link", {"link": url})
    assert fake.requests == []


@pytest.mark.parametrize("url", HOSTILE)
def test_raw_http_refuses_hostile_full_urls_and_sends_nothing(url, make_connector):
    fake = FakeOutreach()
    with pytest.raises(REFUSED):
        make_connector(fake).call("raw_http_request", {"method": "GET", "url": {"full_url": url}})
    assert fake.requests == []


@pytest.mark.parametrize("endpoint", [
    pytest.param("//evil.com/api/v2", id="protocol-relative"),
    pytest.param("@evil.com/x", id="at-sign"),
])
def test_raw_http_endpoint_cannot_escape_the_origin(endpoint, make_connector):
    fake = FakeOutreach(lambda r: jsonapi(200, {}))
    conn = make_connector(fake)
    try:
        conn.call("raw_http_request", {"method": "GET", "url": {"endpoint": endpoint}})
    except UnsafeURL:
        pass
    assert all(r.url.host == "api.outreach.io" for r in fake.requests)


def test_execute_link_on_the_api_origin_is_followed_with_a_get(make_connector):
    fake = FakeOutreach(lambda r: jsonapi(200, {"data": [], "links": {}}))
    make_connector(fake).call("execute_link", {"link": "HTTPS://API.OUTREACH.IO:443/api/v2/stages?page[size]=1"})
    [request] = fake.requests
    assert (request.method, request.url.host, request.url.path) == ("GET", "api.outreach.io", "/api/v2/stages")


def test_raw_http_returns_error_statuses_instead_of_raising(make_connector):
    fake = FakeOutreach(lambda r: jsonapi(404, {"errors": [{"id": "resourceNotFound"}]}, {"X-Request-Id": "r1"}))
    out = make_connector(fake).call("raw_http_request", {"method": "GET", "url": {"endpoint": "/stages/9"}})
    assert out == {"response": {"status_code": 404, "headers": {
        "content-type": "application/vnd.api+json", "x-request-id": "r1", "content-length": "40"},
        "body": {"errors": [{"id": "resourceNotFound"}]}}}


def test_redirects_are_not_followed(make_connector):
    fake = FakeOutreach(lambda r: jsonapi(302, None, {"Location": "https://evil.com/steal"}))
    out = make_connector(fake).call("raw_http_request", {"method": "GET", "url": {"endpoint": "/stages"}})
    assert out["response"]["status_code"] == 302
    assert [r.url.host for r in fake.requests] == ["api.outreach.io"]


NOT_PLAIN = [
    pytest.param("https://user@login.test/token", id="user-info"),
    pytest.param("https://login.test/token#part", id="fragment"),
    pytest.param("https://login .test/token", id="space"),
    pytest.param("https://login.test\\@evil.test/", id="backslash"),
    pytest.param("ftp://login.test/token", id="other-scheme"),
    pytest.param("https:///token", id="no-host"),
    pytest.param("/token", id="relative"),
    pytest.param("https://[::1/token", id="unclosed-bracket"),
]
KEY = "an-api-key-long-enough"


def oauth_credentials(**urls: str) -> OAuthCredentials:
    return OAuthCredentials(client_id="c", client_secret="s", refresh_token="r", **urls)


# Every place a URL is configured or named as a destination, each as a call that raises on a refused URL.
CONFIGURED = [
    pytest.param(lambda url: Settings(base_url=url), id="base-url"),
    pytest.param(lambda url: Settings(token_url=url), id="token-url"),
    pytest.param(lambda url: ServerSettings(api_keys=(KEY,), allowed_token_urls=(url,)), id="allowed-token-url"),
    pytest.param(lambda url: ServerSettings(api_keys=(KEY,), public_url=url), id="public-url"),
    pytest.param(lambda url: oauth_credentials(token_url=url), id="credentials-token-url"),
    pytest.param(lambda url: oauth_credentials(redirect_uri=url), id="credentials-redirect-uri"),
]


@pytest.mark.parametrize("url", NOT_PLAIN)
@pytest.mark.parametrize("configure", CONFIGURED)
def test_every_configured_url_refuses_the_same_urls(configure, url):
    assert plain_http_url(url) is False
    with pytest.raises(ValueError, match="absolute http\\(s\\) URL"):
        configure(url)
    assert return_url_allowed(url, (url,)) is False


@pytest.mark.parametrize("url", ["https://login.test/oauth/token", "http://127.0.0.1:8080/t?x=1", "HTTPS://Login.test"])
@pytest.mark.parametrize("configure", CONFIGURED)
def test_every_configured_url_takes_a_plain_http_url(configure, url):
    assert plain_http_url(url) is True
    configure(url)

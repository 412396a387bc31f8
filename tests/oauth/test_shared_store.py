"""The flow with a shared token store (the server's database): tokens another process rotated are used, a
rotation is stored before the lock is released, time bounds hold, absurd lifetimes are clamped."""
from __future__ import annotations

import asyncio
import gzip
import math
import os
import threading

import httpx
import pytest

from outreach_connector.errors import ReconnectRequired, TransportError, UpstreamError
from outreach_connector.retry import BUDGET_LEFT
from outreach_connector.oauth import MAX_TOKEN_LIFETIME, OAuthRefreshAuth, TokenSet, token_lifetime

from .fakes import API_URL, CLIENT_ID, CLIENT_SECRET, TOKEN_URL, FakeOutreach


class MemoryStore:
    """A TokenStore in memory: one lock, a row that other 'processes' may rewrite, a log of what happened."""

    def __init__(self, tokens: TokenSet) -> None:
        self.tokens = tokens
        self.lock_ = threading.Lock()
        self.events: list[str] = []
        self.waits: list[float] = []  # how long each lock() was allowed to wait

    def lock(self, max_wait: float) -> "MemoryStore.Lease":
        self.waits.append(max_wait)
        if not self.lock_.acquire(timeout=max_wait):
            raise TransportError("the row lock was not had in time")
        self.events.append("lock")
        return MemoryStore.Lease(self)

    class Lease:
        def __init__(self, store: "MemoryStore") -> None:
            self.store, self.tokens = store, store.tokens

        def save(self, tokens: TokenSet) -> None:
            self.store.tokens = tokens
            self.store.events.append(f"save {tokens.refresh_token}")
            self.store.lock_.release()

        def release(self) -> None:
            self.store.events.append("release")
            self.store.lock_.release()


def make_auth(store: MemoryStore, **overrides) -> OAuthRefreshAuth:
    options = dict(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=store.tokens.refresh_token,
                   token_url=TOKEN_URL, access_token=store.tokens.access_token or None, token_store=store)
    options.update(overrides)
    return OAuthRefreshAuth(**options)


def test_a_rotation_is_stored_before_the_lock_is_released_and_before_use():
    fake, store = FakeOutreach(), MemoryStore(TokenSet("", "refresh-0"))
    with httpx.Client(transport=httpx.MockTransport(fake.handler), auth=make_auth(store)) as client:
        assert client.get(API_URL).json()["token"] == "access-1"
    assert store.events == ["lock", "save refresh-1"]
    assert store.tokens.refresh_token == fake.live_refresh_token == "refresh-1"


def test_tokens_another_process_rotated_are_used_without_refreshing():
    fake, store = FakeOutreach(), MemoryStore(TokenSet("", "refresh-0"))
    auth = make_auth(store)
    fake.valid_access_tokens.add("access-from-elsewhere")
    store.tokens = TokenSet("access-from-elsewhere", "refresh-elsewhere", None)  # the other process won
    with httpx.Client(transport=httpx.MockTransport(fake.handler), auth=auth) as client:
        assert client.get(API_URL).json()["token"] == "access-from-elsewhere"
    assert fake.refreshes == 0 and store.events == ["lock", "release"]


def test_on_invalid_grant_the_store_is_read_once_more():
    """A token rotated by a process that did not hold the lock (an older replica) is found, not given up on."""
    fake, store = FakeOutreach(refresh_token="refresh-rotated-elsewhere"), MemoryStore(TokenSet("", "refresh-0"))
    original_lock = store.lock

    def lock_then_rotate_elsewhere(max_wait):
        lease = original_lock(max_wait)
        if store.events.count("lock") == 1:
            store.tokens = TokenSet("", "refresh-rotated-elsewhere")  # lands after our read
        return lease

    store.lock = lock_then_rotate_elsewhere
    with httpx.Client(transport=httpx.MockTransport(fake.handler), auth=make_auth(store)) as client:
        assert client.get(API_URL).status_code == 200
    assert [f["refresh_token"] for f in fake.token_requests] == ["refresh-0", "refresh-rotated-elsewhere"]


def test_a_dead_grant_is_still_reconnect_required_after_the_second_read():
    fake, store = FakeOutreach(refresh_token="nobody-has-this"), MemoryStore(TokenSet("", "refresh-0"))
    with httpx.Client(transport=httpx.MockTransport(fake.handler), auth=make_auth(store)) as client:
        with pytest.raises(ReconnectRequired):
            client.get(API_URL)
    assert len(fake.token_requests) == 1 and store.events == ["lock", "release", "lock", "release"]


def test_token_requests_carry_the_timeout():
    fake, store = FakeOutreach(), MemoryStore(TokenSet("", "refresh-0"))
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.extensions.get("timeout")))
        return fake.handler(request)

    auth = make_auth(store, timeout=httpx.Timeout(2.5))
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.get(API_URL)
    assert seen[0] == ("/oauth/token", {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5})


def behind_a_refresh_that_never_ends(auth: OAuthRefreshAuth, extensions: dict | None = None) -> BaseException:
    """The error of a call that needs a refresh while another call holds the refresh lock for good."""

    async def run() -> BaseException:
        await auth._refresh_lock.aacquire(60.0)  # another call is refreshing and does not finish
        transport = httpx.MockTransport(FakeOutreach().async_handler)
        async with httpx.AsyncClient(transport=transport, auth=auth) as client:
            try:
                await client.send(client.build_request("GET", API_URL, extensions=extensions))
            except TransportError as exc:
                return exc
        raise AssertionError("the call did not give up")

    return asyncio.run(run())


def test_waiting_behind_another_calls_refresh_is_bounded():
    store = MemoryStore(TokenSet("", "refresh-0"))
    auth = make_auth(store, max_token_wait=0.1, timeout=httpx.Timeout(0.05))  # at most 0.1 + 4 x 0.05 s
    error = behind_a_refresh_that_never_ends(auth)
    assert str(error) == "gave up after 0.3 s waiting for another call's token refresh to finish"


# (budget the call has left, what it may wait for another call's refresh) with an auth bound of 1.2 + 4 x 0.05 s
BUDGET_LEFT_AND_WAIT = [pytest.param(0.0, 1.0, id="spent-budget-still-waits-a-second"),
                        pytest.param(1.2, 1.2, id="what-the-call-has-left"),
                        pytest.param(60.0, 1.4, id="never-beyond-the-auth-bound")]


def auth_bounded_at_1_4_seconds(store: MemoryStore) -> OAuthRefreshAuth:
    return make_auth(store, max_token_wait=1.2, timeout=httpx.Timeout(0.05))


@pytest.mark.parametrize("left, waited", BUDGET_LEFT_AND_WAIT)
def test_a_call_waits_for_another_calls_refresh_only_as_long_as_its_budget_has_left(left, waited):
    store = MemoryStore(TokenSet("", "refresh-0"))
    auth = auth_bounded_at_1_4_seconds(store)
    error = behind_a_refresh_that_never_ends(auth, {BUDGET_LEFT: left})  # as the Sender sets it per attempt
    assert str(error) == f"gave up after {waited:.1f} s waiting for another call's token refresh to finish"


@pytest.mark.parametrize("left, allowed", BUDGET_LEFT_AND_WAIT)
def test_waiting_for_another_process_refresh_uses_what_the_budget_has_left(left, allowed):
    store = MemoryStore(TokenSet("", "refresh-0"))
    auth = auth_bounded_at_1_4_seconds(store)
    store.lock_.acquire()  # another process holds the row lock and does not finish
    with httpx.Client(transport=httpx.MockTransport(FakeOutreach().handler), auth=auth) as client:
        with pytest.raises(TransportError, match="row lock"):
            client.send(client.build_request("GET", API_URL, extensions={BUDGET_LEFT: left}))
    assert store.waits == [pytest.approx(allowed, abs=0.05)]  # what was left when the row lock was asked for


@pytest.mark.parametrize("expires_in, lifetime", [
    pytest.param(7200, 7200.0, id="normal"),
    pytest.param("3600", 3600.0, id="numeric-text"),
    pytest.param(10 ** 300, MAX_TOKEN_LIFETIME, id="absurdly-long"),
    pytest.param(math.inf, MAX_TOKEN_LIFETIME, id="infinite"),
    pytest.param(-50, 0.0, id="negative"),
    pytest.param(math.nan, None, id="nan"),
    pytest.param(True, None, id="boolean"),
    pytest.param("soon", None, id="text"),
    pytest.param(None, None, id="absent"),
])
def test_expires_in_is_clamped(expires_in, lifetime):
    assert token_lifetime(expires_in) == lifetime


def test_a_clamped_lifetime_reaches_the_stored_expiry():
    fake, store = FakeOutreach(expires_in=10 ** 12), MemoryStore(TokenSet("", "refresh-0"))
    auth = make_auth(store, clock=lambda: 1000.0)
    with httpx.Client(transport=httpx.MockTransport(fake.handler), auth=auth) as client:
        client.get(API_URL)
    assert store.tokens.expires_at == 1000.0 + MAX_TOKEN_LIFETIME


def test_a_token_answer_is_bounded_after_decompression():
    store = MemoryStore(TokenSet("", "refresh-0"))
    bomb = gzip.compress(b'{"access_token": "' + b"a" * (8 * 1024 * 1024) + b'"}')  # 8 KB on the wire, 8 MB inflated

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip",
                                                          "Content-Type": "application/json"})

    with httpx.Client(transport=httpx.MockTransport(handler), auth=make_auth(store)) as client:
        with pytest.raises(UpstreamError, match="the token endpoint's answer is larger than 65536 bytes"):
            client.get(API_URL)
    assert store.tokens == TokenSet("", "refresh-0")  # nothing adopted or stored


class Chunks(httpx.SyncByteStream):
    def __init__(self, body: bytes) -> None:
        self.body = body

    def __iter__(self):
        for start in range(0, len(self.body), 16384):
            yield self.body[start:start + 16384]


def answers_401_then(body_401: bytes, headers: dict[str, str] | None = None):
    """An API that answers ``body_401`` (401) to the first access token and {"ok": true} after a refresh."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if str(request.url) == TOKEN_URL:
            return httpx.Response(200, json={"access_token": "access-1", "refresh_token": "refresh-1",
                                             "expires_in": 7200})
        if request.headers["Authorization"] == "Bearer access-0":
            # A stream, as a network transport gives: httpx reads a body given as content= at once.
            return httpx.Response(401, stream=httpx.ByteStream(body_401) if headers is None else Chunks(body_401),
                                  headers=headers or {"Content-Type": "application/json"})
        return httpx.Response(200, json={"ok": True})

    return handler, sent


def test_the_401_a_refresh_goes_past_stays_in_the_history_as_read():
    store = MemoryStore(TokenSet("access-0", "refresh-0", 2e9))
    handler, sent = answers_401_then(b'{"errors": [{"id": "unauthorized"}]}')
    with httpx.Client(transport=httpx.MockTransport(handler), auth=make_auth(store)) as client:
        response = client.get(API_URL)
    assert response.json() == {"ok": True}
    assert [(r.status_code, r.content) for r in response.history] == [
        (401, b'{"errors": [{"id": "unauthorized"}]}'), (200, response.history[1].content)]
    assert response.history[1].json()["refresh_token"] == "refresh-1"  # the token answer, read within its cap


def test_a_compressed_401_too_large_to_go_past_ends_the_call_before_any_refresh():
    """Read the way httpx reads it (it keeps the answer), a compressed answer is capped on the wire: 64 KiB
    inflate to at most about the 64 MiB an API answer may be; an uncompressed one may be the 64 MiB itself."""
    store = MemoryStore(TokenSet("access-0", "refresh-0", 2e9))
    handler, sent = answers_401_then(gzip.compress(os.urandom(100_000)), {"Content-Encoding": "gzip"})
    with httpx.Client(transport=httpx.MockTransport(handler), auth=make_auth(store)) as client:
        with pytest.raises(UpstreamError) as caught:
            client.get(API_URL)
    assert caught.value.message == ("Outreach's 401 answer is larger than the 64 MiB the connector reads (counted "
                                    "after decompression; 64 KiB on the wire when compressed)")
    assert len(sent) == 1 and store.tokens == TokenSet("access-0", "refresh-0", 2e9)  # no token request


def test_no_module_writes_httpx_private_content():
    import pathlib

    import outreach_connector

    root = pathlib.Path(outreach_connector.__file__).parent
    writers = [str(path.relative_to(root)) for path in root.rglob("*.py") if "._content =" in path.read_text()]
    assert writers == []

"""The SQLite credential store: encryption at rest, public views, rotation-safe updates."""
from __future__ import annotations

import multiprocessing
import sqlite3
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from outreach_connector.server.credentials import (AccessTokenCredentials, AuthenticationNotFound, CredentialStore,
                                            OAuthCredentials, parse_credentials)
from outreach_connector.oauth import TokenSet
from outreach_connector.server.secrets_box import EncryptionKeyError, generate_key_text

CANARIES = ("canary-access-3b9f", "canary-secret-77aa", "canary-refresh-c0de", "canary-client-id-91")


def oauth_credentials(**overrides) -> OAuthCredentials:
    values = dict(client_id=CANARIES[3], client_secret=CANARIES[1], refresh_token=CANARIES[2],
                  token_url="http://127.0.0.1:8090/oauth/token")
    values.update(overrides)
    return OAuthCredentials(**values)


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    return CredentialStore(tmp_path / "auth.db")


def test_round_trip_and_public_view(store):
    token_auth = store.create("sales team", AccessTokenCredentials(access_token=CANARIES[0]))
    oauth = store.create("ops", oauth_credentials())
    assert token_auth.to_public_dict() == {"id": token_auth.id, "name": "sales team", "kind": "access_token",
                                           "created_at": token_auth.created_at}
    assert store.get(oauth.id).to_public_dict() == {"id": oauth.id, "name": "ops", "kind": "oauth",
                                                    "created_at": oauth.created_at,
                                                    "access_token_expires_at": None}
    loaded = store.load(oauth.id)
    assert loaded.credentials.client_secret.get_secret_value() == CANARIES[1]
    assert loaded.tokens == TokenSet("", CANARIES[2], None, None)
    assert store.load(token_auth.id).credentials.access_token.get_secret_value() == CANARIES[0]
    assert not any(c in repr(loaded) + repr(store.get(oauth.id)) for c in CANARIES)


def test_delete(store):
    auth = store.create("x", AccessTokenCredentials(access_token="t"))
    assert store.delete(auth.id) is True
    assert store.delete(auth.id) is False
    assert store.get(auth.id) is None
    with pytest.raises(AuthenticationNotFound):
        store.load(auth.id)


def test_secrets_are_not_in_the_files_and_files_are_private(tmp_path):
    store = CredentialStore(tmp_path / "auth.db")
    auth = store.create("ops", oauth_credentials())
    store.create("token", AccessTokenCredentials(access_token=CANARIES[0]))
    store.save_tokens(auth.id, TokenSet("canary-rotated-access", "canary-rotated-refresh", 2e9, "x"))
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"auth.db", "auth.db.key"}
    everything = b"".join(p.read_bytes() for p in files)
    for canary in (*CANARIES, "canary-rotated-access", "canary-rotated-refresh"):
        assert canary.encode() not in everything
    assert stat.S_IMODE((tmp_path / "auth.db.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "auth.db").stat().st_mode) == 0o600


def test_key_file_is_reused_and_an_explicit_key_must_match(tmp_path):
    first = CredentialStore(tmp_path / "a.db")
    auth = first.create("x", AccessTokenCredentials(access_token="t"))
    again = CredentialStore(tmp_path / "a.db")
    assert again.load(auth.id).credentials.access_token.get_secret_value() == "t"
    with pytest.raises(EncryptionKeyError, match="does not match"):
        CredentialStore(tmp_path / "a.db", encryption_key=generate_key_text())


def test_explicit_key_creates_no_key_file(tmp_path):
    key = generate_key_text()
    store = CredentialStore(tmp_path / "b.db", encryption_key=key)
    auth = store.create("x", AccessTokenCredentials(access_token="t"))
    assert not (tmp_path / "b.db.key").exists()
    assert CredentialStore(tmp_path / "b.db", encryption_key=key).get(auth.id).name == "x"


@pytest.mark.parametrize("key", [pytest.param("not base64 !!", id="not-base64"),
                                 pytest.param("c2hvcnQ=", id="too-short")])
def test_malformed_key_is_refused_without_echoing_it(tmp_path, key):
    with pytest.raises(EncryptionKeyError) as caught:
        CredentialStore(tmp_path / "c.db", encryption_key=key)
    assert key not in str(caught.value) and "generate one" in str(caught.value)


def test_a_secret_moved_to_another_row_does_not_decrypt(store):
    victim = store.create("victim", AccessTokenCredentials(access_token="victim-token"))
    attacker = store.create("attacker", AccessTokenCredentials(access_token="a"))
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE authentications SET secret = (SELECT secret FROM authentications WHERE id = ?) "
                   "WHERE id = ?", (victim.id, attacker.id))
    with pytest.raises(EncryptionKeyError):
        store.load(attacker.id)


def test_save_tokens_rotates_and_exposes_only_the_expiry(store):
    auth = store.create("ops", oauth_credentials())
    store.save_tokens(auth.id, TokenSet("access-1", "refresh-1", 1_900_000_000.0, "prospects.all"))
    assert store.load(auth.id).tokens == TokenSet("access-1", "refresh-1", 1_900_000_000.0, "prospects.all")
    assert store.get(auth.id).to_public_dict()["access_token_expires_at"] == "2030-03-17T17:46:40Z"
    with pytest.raises(AuthenticationNotFound):
        store.save_tokens("no-such-id", TokenSet("a", "r", None, None))


def test_concurrent_token_saves_from_threads_all_land(store):
    auth = store.create("ops", oauth_credentials())
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: store.save_tokens(auth.id, TokenSet(f"a{n}", f"r{n}", float(n), None)),
                      range(64)))
    final = store.load(auth.id).tokens
    assert final.access_token[1:] == final.refresh_token[1:] == str(int(final.expires_at))  # never torn


def _save_many(path: str, auth_id: str, worker: int) -> None:
    store = CredentialStore(path)
    for n in range(25):
        store.save_tokens(auth_id, TokenSet(f"a{worker}-{n}", f"r{worker}-{n}", None, None))


def test_concurrent_token_saves_from_processes_all_land(tmp_path):
    store = CredentialStore(tmp_path / "p.db")
    auth = store.create("ops", oauth_credentials())
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_save_many, args=(str(store.path), auth.id, w)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert [p.exitcode for p in workers] == [0, 0, 0]
    final = store.load(auth.id).tokens
    assert final.access_token[1:] == final.refresh_token[1:] and final.access_token.endswith("-24")


@pytest.mark.parametrize("raw, locations", [
    pytest.param({"access_token": ""}, [("access_token",)], id="empty-token"),
    pytest.param({"access_token": "t", "extra": 1}, [("extra",)], id="extra-key"),
    pytest.param({"client_id": "c"}, [("client_secret",), ("refresh_token",)], id="oauth-missing"),
    pytest.param({"client_id": "c", "client_secret": "s", "refresh_token": "r", "token_url": "ftp://x"},
                 [("token_url",)], id="bad-token-url"),
    pytest.param({"client_id": "c", "client_secret": "s", "refresh_token": "r",
                  "token_url": "https://user@evil.test/"}, [("token_url",)], id="userinfo-token-url"),
])
def test_parse_credentials_names_every_bad_field(raw, locations):
    with pytest.raises(ValidationError) as caught:
        parse_credentials(raw)
    assert [e["loc"] for e in caught.value.errors()] == locations

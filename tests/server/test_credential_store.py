"""The credential store on SQLite and on PostgreSQL: encryption at rest, tenants, public views, rotation-safe
updates under a row lock, versioned schema."""
from __future__ import annotations

import base64
import json
import multiprocessing
import sqlite3
import stat
import uuid
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import ValidationError

from outreach_connector.server.credentials import (AccessTokenCredentials, AuthenticationNotFound,
                                                   OAuthCredentials, parse_credentials)
from outreach_connector.errors import AuthenticationGone
from outreach_connector.oauth import TokenSet
from outreach_connector.server.opening import StartupError, open_store
from outreach_connector.server.secrets_box import EncryptionKeyError, generate_key_text
from outreach_connector.server.store import CredentialStore
from outreach_connector.server.store_sql import SCHEMA_VERSION, StoreUnavailable

TENANT_A, TENANT_B = "owner-of-key-a", "owner-of-key-b"  # owners are opaque to the store

CANARIES = ("canary-access-3b9f", "canary-secret-77aa", "canary-refresh-c0de", "canary-client-id-91")


def oauth_credentials(**overrides) -> OAuthCredentials:
    values = dict(client_id=CANARIES[3], client_secret=CANARIES[1], refresh_token=CANARIES[2],
                  token_url="http://127.0.0.1:8090/oauth/token")
    values.update(overrides)
    return OAuthCredentials(**values)


def CredentialStoreAt(path, encryption_key=None) -> CredentialStore:  # noqa: N802 - reads like the old class
    return open_store(path, encryption_key)


@pytest.fixture
def store(any_store) -> CredentialStore:
    return any_store


def test_round_trip_and_public_view(store):
    token_auth = store.create("sales team", AccessTokenCredentials(access_token=CANARIES[0]), owner=TENANT_A)
    oauth = store.create("ops", oauth_credentials(), owner=TENANT_A)
    assert token_auth.to_public_dict() == {"id": token_auth.id, "name": "sales team", "kind": "access_token",
                                           "created_at": token_auth.created_at, "status": "connected",
                                           "status_reason": None, "status_since": token_auth.created_at,
                                           "last_refreshed_at": None}
    assert store.get(oauth.id).to_public_dict() == {"id": oauth.id, "name": "ops", "kind": "oauth",
                                                    "created_at": oauth.created_at,
                                                    "access_token_expires_at": None, "status": "connected",
                                                    "status_reason": None, "status_since": oauth.created_at,
                                                    "last_refreshed_at": oauth.created_at}
    loaded = store.load(oauth.id)
    assert loaded.credentials.client_secret.get_secret_value() == CANARIES[1]
    assert loaded.tokens == TokenSet("", CANARIES[2], None, None)
    assert store.load(token_auth.id).credentials.access_token.get_secret_value() == CANARIES[0]
    assert not any(c in repr(loaded) + repr(store.get(oauth.id)) for c in CANARIES)


def test_delete(store):
    auth = store.create("x", AccessTokenCredentials(access_token="t"), owner=TENANT_A)
    assert store.delete(auth.id, TENANT_B) is False  # another tenant's row is not there for it
    assert store.delete(auth.id, TENANT_A) is True
    assert store.delete(auth.id) is False
    assert store.get(auth.id) is None
    with pytest.raises(AuthenticationNotFound):
        store.load(auth.id)


def test_tenants_see_only_their_own_rows(store):
    mine = store.create("mine", AccessTokenCredentials(access_token="t"), owner=TENANT_A)
    assert store.get(mine.id, TENANT_B) is None
    assert store.get(mine.id, TENANT_A).name == "mine"
    with pytest.raises(AuthenticationNotFound):
        store.load(mine.id, TENANT_B)
    assert store.page(TENANT_B) == ([], None)


def test_pages_list_the_owners_rows_in_creation_order(store):
    made = [store.create(f"auth {n}", AccessTokenCredentials(access_token=f"t{n}"), owner=TENANT_A) for n in range(5)]
    store.create("other tenant", AccessTokenCredentials(access_token="x"), owner=TENANT_B)
    seen, cursor, pages = [], None, 0
    while True:
        found, cursor = store.page(TENANT_A, cursor, limit=2)
        seen += found
        pages += 1
        if cursor is None:
            break
    assert [a.id for a in seen] == [a.id for a in made] and pages == 3  # as made, even within one second
    with pytest.raises(ValueError):
        store.page(TENANT_A, "not-a-cursor")


def test_authentications_made_in_the_same_second_list_in_the_order_they_were_made(store, monkeypatch):
    """Ids fall as time moves on within one second: listing by id would give the reverse order."""
    ticks = iter(datetime(2026, 5, 1, 12, 0, 0, 1000 * n, tzinfo=timezone.utc) for n in range(1, 9))
    ids = iter(uuid.UUID(int=n) for n in range(99, 0, -1))
    monkeypatch.setattr("outreach_connector.server.store.uuid.uuid4", lambda: next(ids))
    timed = CredentialStore(store.backend, store._box, clock=lambda: next(ticks))
    made = [timed.create(f"auth {n}", AccessTokenCredentials(access_token="t"), owner=TENANT_A) for n in range(8)]
    first, cursor = timed.page(TENANT_A, limit=3)
    rest, _ = timed.page(TENANT_A, cursor, limit=10)
    assert [a.name for a in first + rest] == [a.name for a in made]
    assert {a.created_at for a in first + rest} == {"2026-05-01T12:00:00Z"}  # shown to the second, as before


def undo_schema_5(db: sqlite3.Connection) -> None:
    """Take a database made by this code back to before schema 5 (status columns, pending consent states)."""
    for column in ("status", "status_reason", "status_since"):
        db.execute(f"ALTER TABLE authentications DROP COLUMN {column}")
    db.execute("DROP TABLE oauth_states")


def test_schema_5_gives_existing_rows_a_connected_status_since_their_creation(tmp_path):
    path, key = tmp_path / "v4.db", generate_key_text()
    store = open_store(path, key)
    old = store.create("old", AccessTokenCredentials(access_token="t"), owner=TENANT_A)
    with sqlite3.connect(path) as db:
        undo_schema_5(db)
        db.execute("UPDATE meta SET value = CAST('4' AS BLOB) WHERE key = 'schema_version'")
    migrated = open_store(path, key).get(old.id)
    assert (migrated.status, migrated.status_reason, migrated.status_since) == ("connected", None, old.created_at)


def test_rows_and_cursors_from_before_microseconds_keep_their_order(tmp_path):
    path, key = tmp_path / "v2.db", generate_key_text()
    store = open_store(path, key)
    old = [store.create(f"old {n}", AccessTokenCredentials(access_token="t"), owner=TENANT_A) for n in range(3)]
    with sqlite3.connect(path) as db:  # as schema 2 stored them: to the second, in the past
        undo_schema_5(db)
        db.execute("UPDATE authentications SET created_at = '2020-01-01T00:00:00Z'")
        db.execute("UPDATE meta SET value = CAST('2' AS BLOB) WHERE key = 'schema_version'")
        drop_schema_4_columns(db)
    by_id = sorted(old, key=lambda a: a.id)  # within one second, schema 2 listed by id
    old_cursor = base64.urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00Z", by_id[0].id]).encode()).decode()
    migrated = open_store(path, key)
    owner = "sha256:" + TENANT_A  # schema 4 marks the owners stored before it
    newer = migrated.create("new", AccessTokenCredentials(access_token="t"), owner=owner)
    listed, _ = migrated.page(owner, limit=10)
    assert [a.id for a in listed] == [a.id for a in by_id] + [newer.id]
    assert listed[0].created_at == "2020-01-01T00:00:00Z"
    assert [a.id for a in migrated.page(owner, old_cursor, limit=10)[0]] == [by_id[1].id, by_id[2].id, newer.id]


def drop_schema_4_columns(db) -> None:
    db.execute("ALTER TABLE authentications DROP COLUMN lease_until")
    db.execute("ALTER TABLE authentications DROP COLUMN lease_holder")


def test_a_lease_locks_the_row_until_saved(store):
    auth = store.create("ops", oauth_credentials(), owner=TENANT_A)
    lease = store.lock(auth.id)
    assert lease.tokens == TokenSet("", CANARIES[2], None, None)
    lease.save(TokenSet("access-1", "refresh-1", 2e9, None))
    again = store.lock(auth.id)  # would block if the first lease still held the lock
    assert again.tokens == TokenSet("access-1", "refresh-1", 2e9, None)
    again.release()
    assert store.lock(str(__import__("uuid").uuid4())).tokens is None  # a deleted row: nothing to refresh


def test_saving_a_refresh_for_a_row_deleted_meanwhile_is_authentication_gone(store):
    auth = store.create("ops", oauth_credentials(), owner=TENANT_A)
    lease = store.lock(auth.id)
    assert store.delete(auth.id, TENANT_A)  # deleted while its token was being refreshed
    with pytest.raises(AuthenticationGone) as caught:  # no Outreach status: not a 404 from Outreach
        lease.save(TokenSet("access-1", "refresh-1", 2e9, None))
    assert caught.value.message == "the authentication was deleted while its token was refreshed"
    assert store.get(auth.id, TENANT_A) is None  # nothing written back


def test_waiting_for_another_process_row_lock_takes_only_what_the_call_has_left(store):
    """The store's own bound (30 s here) is only the ceiling: a call with 0.2 s left gives up after that."""
    auth = store.create("ops", oauth_credentials(), owner=TENANT_A)
    held_elsewhere = store.lock(auth.id)  # another replica is refreshing and does not finish
    try:
        with pytest.raises(StoreUnavailable):
            store.lock(auth.id, max_wait=0.2)
    finally:
        held_elsewhere.release()
    store.lock(auth.id, max_wait=0.2).release()  # a free row is taken whatever the wait


def test_the_schema_is_versioned_and_migrating_twice_changes_nothing(store):
    assert store.backend.get_meta("schema_version") == str(SCHEMA_VERSION).encode()
    assert store.backend.migrate() == SCHEMA_VERSION


def test_secrets_are_not_in_the_files_and_files_are_private(tmp_path):
    store = CredentialStoreAt(tmp_path / "auth.db")
    auth = store.create("ops", oauth_credentials(), owner=TENANT_A)
    store.create("token", AccessTokenCredentials(access_token=CANARIES[0]), owner=TENANT_A)
    store.save_tokens(auth.id, TokenSet("canary-rotated-access", "canary-rotated-refresh", 2e9, "x"))
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"auth.db", "auth.db.key"}
    everything = b"".join(p.read_bytes() for p in files)
    for canary in (*CANARIES, "canary-rotated-access", "canary-rotated-refresh"):
        assert canary.encode() not in everything
    assert stat.S_IMODE((tmp_path / "auth.db.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "auth.db").stat().st_mode) == 0o600


def test_key_file_is_reused_and_an_explicit_key_must_match(tmp_path):
    first = CredentialStoreAt(tmp_path / "a.db")
    auth = first.create("x", AccessTokenCredentials(access_token="t"), owner=TENANT_A)
    again = CredentialStoreAt(tmp_path / "a.db")
    assert again.load(auth.id).credentials.access_token.get_secret_value() == "t"
    with pytest.raises(EncryptionKeyError, match="does not match"):
        CredentialStoreAt(tmp_path / "a.db", encryption_key=generate_key_text())


def test_the_wrong_key_is_refused_on_postgresql_too(postgres_url):
    CredentialStoreAt(postgres_url, generate_key_text()).close()
    with pytest.raises(EncryptionKeyError, match="does not match"):
        CredentialStoreAt(postgres_url, generate_key_text())


def test_explicit_key_creates_no_key_file(tmp_path):
    key = generate_key_text()
    store = CredentialStoreAt(tmp_path / "b.db", encryption_key=key)
    auth = store.create("x", AccessTokenCredentials(access_token="t"), owner=TENANT_A)
    assert not (tmp_path / "b.db.key").exists()
    assert CredentialStoreAt(tmp_path / "b.db", encryption_key=key).get(auth.id).name == "x"


def test_a_missing_key_file_for_an_existing_database_is_refused_not_replaced(tmp_path):
    CredentialStoreAt(tmp_path / "d.db").create("x", AccessTokenCredentials(access_token="t"), owner=TENANT_A)
    (tmp_path / "d.db.key").unlink()
    with pytest.raises(StartupError, match="key file .* is missing"):
        CredentialStoreAt(tmp_path / "d.db")
    assert not (tmp_path / "d.db.key").exists()


@pytest.mark.parametrize("where, message", [
    pytest.param("folder", "is a directory", id="a-directory"),
    pytest.param("missing/x.db", "does not exist", id="no-such-folder"),
])
def test_unusable_database_paths_are_refused_and_nothing_is_written(tmp_path, where, message):
    (tmp_path / "folder").mkdir()
    with pytest.raises(StartupError, match=message):
        CredentialStoreAt(tmp_path / where)
    assert [p.name for p in tmp_path.iterdir()] == ["folder"] and not any((tmp_path / "folder").iterdir())


def test_postgresql_needs_an_explicit_key(postgres_url):
    with pytest.raises(StartupError, match="needs the encryption key given explicitly"):
        CredentialStoreAt(postgres_url)


def test_a_database_from_before_tenants_is_migrated_and_given_to_the_only_key(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # schema version 1, as the first release wrote it
        db.executescript("CREATE TABLE authentications (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
                         "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, access_token_expires_at REAL, "
                         "secret BLOB NOT NULL); CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);")
    key = generate_key_text()
    store = open_store(path, key)
    row = store.create("legacy", AccessTokenCredentials(access_token="t"), owner=TENANT_A)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE authentications SET owner = NULL")
        db.execute("DELETE FROM meta WHERE key = 'schema_version'")
        undo_schema_5(db)
        db.execute("DROP INDEX authentications_by_owner")
        db.execute("ALTER TABLE authentications DROP COLUMN owner")
        drop_schema_4_columns(db)
    migrated = open_store(path, key, api_keys=("key-b",))
    assert migrated.get(row.id, migrated.owner_of("key-b")).name == "legacy"


@pytest.mark.parametrize("key", [pytest.param("not base64 !!", id="not-base64"),
                                 pytest.param("c2hvcnQ=", id="too-short")])
def test_malformed_key_is_refused_without_echoing_it(tmp_path, key):
    with pytest.raises(EncryptionKeyError) as caught:
        CredentialStoreAt(tmp_path / "c.db", encryption_key=key)
    assert key not in str(caught.value) and "generate one" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_secret_moved_to_another_row_does_not_decrypt(tmp_path):
    store = CredentialStoreAt(tmp_path / "auth.db")
    victim = store.create("victim", AccessTokenCredentials(access_token="victim-token"), owner=TENANT_A)
    attacker = store.create("attacker", AccessTokenCredentials(access_token="a"), owner=TENANT_A)
    with sqlite3.connect(tmp_path / "auth.db") as db:
        db.execute("UPDATE authentications SET secret = (SELECT secret FROM authentications WHERE id = ?) "
                   "WHERE id = ?", (victim.id, attacker.id))
    with pytest.raises(EncryptionKeyError):
        store.load(attacker.id)


def test_save_tokens_rotates_and_exposes_only_the_expiry(store):
    auth = store.create("ops", oauth_credentials(), owner=TENANT_A)
    store.save_tokens(auth.id, TokenSet("access-1", "refresh-1", 1_900_000_000.0, "prospects.all"))
    assert store.load(auth.id).tokens == TokenSet("access-1", "refresh-1", 1_900_000_000.0, "prospects.all")
    assert store.get(auth.id).to_public_dict()["access_token_expires_at"] == "2030-03-17T17:46:40Z"
    with pytest.raises(AuthenticationNotFound):
        store.save_tokens("no-such-id", TokenSet("a", "r", None, None))


def test_concurrent_token_saves_from_threads_all_land(store):
    auth = store.create("ops", oauth_credentials(), owner=TENANT_A)
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: store.save_tokens(auth.id, TokenSet(f"a{n}", f"r{n}", float(n), None)),
                      range(64)))
    final = store.load(auth.id).tokens
    assert final.access_token[1:] == final.refresh_token[1:] == str(int(final.expires_at))  # never torn


def _save_many(database: str, key: str, auth_id: str, worker: int) -> None:
    store = open_store(database, key)
    for n in range(25):
        store.save_tokens(auth_id, TokenSet(f"a{worker}-{n}", f"r{worker}-{n}", None, None))


def test_concurrent_token_saves_from_processes_all_land(database, encryption_key):
    store = open_store(database, encryption_key)
    auth = store.create("ops", oauth_credentials(), owner=TENANT_A)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_save_many, args=(database, encryption_key, auth.id, w)) for w in range(3)]
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
    pytest.param({"access_token": "line\r\nX-Injected: 1"}, [("access_token",)], id="crlf-token"),
    pytest.param({"access_token": "nul\x00"}, [("access_token",)], id="nul-token"),
    pytest.param({"access_token": "lone-\ud800"}, [("access_token",)], id="lone-surrogate"),
    pytest.param({"access_token": "emoji-\U0001f600"}, [("access_token",)], id="outside-latin-1"),
    pytest.param({"client_id": "c\n", "client_secret": "s\r", "refresh_token": "r\x00"},
                 [("client_id",), ("client_secret",), ("refresh_token",)], id="oauth-control-characters"),
])
def test_parse_credentials_names_every_bad_field(raw, locations):
    with pytest.raises(ValidationError) as caught:
        parse_credentials(raw)
    assert [e["loc"] for e in caught.value.errors()] == locations

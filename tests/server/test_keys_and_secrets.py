"""API keys and the secrets the server starts with (issue 17, items 15 and 16): long keys only, owners keyed
by a secret the database alone does not hold, secrets from files with a warning when they come on argv,
encryption keys that parse and can be rotated, and database passwords masked everywhere."""
from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3

import pytest

from outreach_connector.server import ServerSettings, main
from outreach_connector.server.credentials import AccessTokenCredentials, OAuthCredentials
from outreach_connector.server.opening import StartupError, open_store
from outreach_connector.server import secrets_box
from outreach_connector.server.secrets_box import EncryptionKeyError, SecretBox, generate_key_text
from outreach_connector.server.settings import secrets_on_argv, settings_from
from outreach_connector.server.store_sql import PostgresBackend, redact_url

from .helpers import API_KEY, OTHER_KEY, FakeOutreach, client_for, make_app

anyio = pytest.mark.anyio


def run_main(capsys, argv: list[str], monkeypatch, **env: str) -> tuple[int, list[str]]:
    monkeypatch.delenv("OUTREACH_CONNECTOR_API_KEYS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status = main(argv)
    return status, capsys.readouterr().err.strip().splitlines()


# --- item 15: API keys and owners -------------------------------------------------------------------------

def test_a_short_api_key_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch):
    (tmp_path / "d").mkdir()  # were the key accepted, the start would end here, with another line
    status, lines = run_main(capsys, ["--port", "0", "--database", str(tmp_path / "d")], monkeypatch,
                             OUTREACH_CONNECTOR_API_KEYS=f"{'k' * 16},short-key-canar")
    assert status == 2
    assert lines == ["outreach-connector serve: refusing an API key shorter than 16 characters (a short key can be "
                     "guessed); generate one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\""]
    assert [p.name for p in tmp_path.iterdir()] == ["d"] and list((tmp_path / "d").iterdir()) == []


def test_a_short_key_is_refused_by_create_app_too(tmp_path):
    with pytest.raises(ValueError, match="shorter than 16 characters"):
        make_app(tmp_path, FakeOutreach(), api_keys=("k",))


@anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_owner_column_is_an_hmac_under_a_secret_derived_from_the_encryption_key(tmp_path, anyio_backend):
    key = generate_key_text()
    app = make_app(tmp_path, FakeOutreach(), encryption_key=key)
    async with client_for(app) as client:
        await client.post("/authentications", json={"name": "a", "credentials": {"access_token": "t"}})
    with sqlite3.connect(tmp_path / "server.db") as db:
        (owner,), = db.execute("SELECT owner FROM authentications").fetchall()
    owner_secret = SecretBox.from_text(key).derive("outreach-connector api-key owner")
    assert owner == hmac.new(owner_secret, API_KEY.encode(), hashlib.sha256).hexdigest()
    assert owner != hashlib.sha256(b"outreach-connector api key\x00" + API_KEY.encode()).hexdigest()


def downgrade_to_schema_3(path) -> None:
    """The database as a server before owners were keyed left it: SHA-256 owners, no lease columns."""
    with sqlite3.connect(path) as db:
        for (auth_id,) in db.execute("SELECT id FROM authentications").fetchall():
            db.execute("UPDATE authentications SET owner = ? WHERE id = ?", (
                hashlib.sha256(b"outreach-connector api key\x00" + API_KEY.encode()).hexdigest(), auth_id))
        for column in ("status", "status_reason", "status_since"):  # schema 5
            db.execute(f"ALTER TABLE authentications DROP COLUMN {column}")
        db.execute("DROP TABLE oauth_states")
        db.execute("ALTER TABLE authentications DROP COLUMN lease_until")
        db.execute("ALTER TABLE authentications DROP COLUMN lease_holder")
        db.execute("DELETE FROM meta WHERE key = 'owner_key'")
        db.execute("UPDATE meta SET value = CAST('3' AS BLOB) WHERE key = 'schema_version'")


@anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_rows_stored_before_the_upgrade_stay_visible_to_their_key_only(tmp_path, anyio_backend):
    key = generate_key_text()
    before = make_app(tmp_path, FakeOutreach(), encryption_key=key, api_keys=(API_KEY,))
    async with client_for(before) as client:
        made = (await client.post("/authentications", json={"name": "old", "credentials": {
            "access_token": "t"}})).json()["id"]
    before.state.services.store.close()
    downgrade_to_schema_3(tmp_path / "server.db")

    first = make_app(tmp_path, FakeOutreach(), encryption_key=key, api_keys=(OTHER_KEY,))  # not the owner's key
    async with client_for(first, OTHER_KEY) as other:
        assert (await other.get("/authentications")).json()["elements"] == []
    first.state.services.store.close()
    after = make_app(tmp_path, FakeOutreach(), encryption_key=key)  # both keys
    async with client_for(after) as owner, client_for(after, OTHER_KEY) as other:
        assert [a["id"] for a in (await owner.get("/authentications")).json()["elements"]] == [made]
        assert (await owner.get(f"/authentications/{made}")).status_code == 200
        assert (await other.get("/authentications")).json()["elements"] == []
        assert (await other.get(f"/authentications/{made}")).status_code == 404
    with sqlite3.connect(tmp_path / "server.db") as db:
        (owner_column,), = db.execute("SELECT owner FROM authentications").fetchall()
    assert owner_column == after.state.services.store.owner_of(API_KEY)


# --- item 16: secrets on the command line, key generation, rotation, masking --------------------------------

def test_generated_keys_never_start_with_a_dash(monkeypatch):
    draws = iter([b"\xf8" + bytes(31), bytes(32)])  # 0xf8... encodes as "-..." in URL-safe base64
    monkeypatch.setattr(secrets_box.secrets, "token_bytes", lambda n: next(draws))
    assert base64.urlsafe_b64encode(b"\xf8" + bytes(31)).decode().startswith("-")
    assert generate_key_text() == base64.urlsafe_b64encode(bytes(32)).decode()


def test_a_key_issued_with_a_leading_dash_is_still_accepted_after_the_flag(tmp_path):
    issued = base64.urlsafe_b64encode(b"\xf8" + bytes(range(31))).decode()
    settings = settings_from(["--api-key", "-" + "a" * 20, "--encryption-key", issued], env={})
    assert settings.encryption_key.get_secret_value() == issued
    assert settings.api_keys[0].get_secret_value() == "-" + "a" * 20
    open_store(tmp_path / "x.db", issued).close()


def test_secrets_come_from_files(tmp_path):
    (tmp_path / "api-keys").write_text(f"{API_KEY}\n\n{OTHER_KEY}\n")
    key = generate_key_text()
    (tmp_path / "secret.key").write_text(key + "\n")
    settings = settings_from(["--api-key-file", str(tmp_path / "api-keys"),
                              "--encryption-key-file", str(tmp_path / "secret.key")], env={})
    assert [k.get_secret_value() for k in settings.api_keys] == [API_KEY, OTHER_KEY]
    assert settings.encryption_key.get_secret_value() == key
    from_env = settings_from([], env={"OUTREACH_CONNECTOR_API_KEYS_FILE": str(tmp_path / "api-keys"),
                                      "OUTREACH_CONNECTOR_SECRET_KEY_FILE": str(tmp_path / "secret.key")})
    assert (from_env.api_keys, from_env.encryption_key) == (settings.api_keys, settings.encryption_key)


def test_an_unreadable_secret_file_is_one_line_naming_the_flag(tmp_path, capsys, monkeypatch):
    status, lines = run_main(capsys, ["--api-key-file", str(tmp_path / "missing")], monkeypatch)
    assert (status, lines) == (2, [f"outreach-connector serve: --api-key-file {tmp_path / 'missing'}: cannot read "
                                   "it (No such file or directory)"])


def test_secrets_on_argv_are_warned_about_in_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "api-keys").write_text(API_KEY)
    (tmp_path / "d").mkdir()  # a directory as the database: the start ends with one error line
    status, quiet = run_main(capsys, ["--api-key-file", str(tmp_path / "api-keys"), "--database",
                                      str(tmp_path / "d"), "--port", "0"], monkeypatch)
    assert status == 2 and len(quiet) == 1
    status, warned = run_main(capsys, ["--api-key", API_KEY, "--database", str(tmp_path / "d"), "--port", "0"],
                              monkeypatch)
    assert status == 2 and len(warned) == 2 and not any("warning" in line for line in quiet)
    assert warned[0] == ("outreach-connector serve: warning: --api-key on the command line can be read by other "
                         "users (ps); use --api-key-file, --encryption-key-file, the environment, or PGPASSWORD "
                         "for the database password")
    assert API_KEY not in "".join(warned)
    assert secrets_on_argv(["--encryption-key=x", "--database", "postgresql://u:pw@h/db"]).startswith(
        "warning: --encryption-key, a password in --database on the command line")
    assert secrets_on_argv(["--database", "postgresql://u@h/db", "--api-key-file", "f"]) is None


def test_the_postgresql_password_can_come_from_pgpassword(postgres_url, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "pgpassword-canary")
    backend = PostgresBackend(postgres_url)
    try:
        with backend.transaction() as db:
            assert db.info.password == "pgpassword-canary"  # libpq took it from the environment, not the URL
    finally:
        backend.close()
    assert "pgpassword-canary" not in postgres_url


@pytest.mark.parametrize("url", ["postgresql://app:pw-canary@db.test:5432/connector",
                                 "postgresql://app@db.test/connector?sslmode=require&password=pw-canary",
                                 "postgres://db.test/connector?password=pw-canary"])
def test_the_database_password_is_masked_in_every_repr_and_message(url):
    settings = ServerSettings(api_keys=(API_KEY,), database=url)
    assert "pw-canary" not in repr(settings) + str(settings)
    assert "***" in repr(settings) and "pw-canary" not in redact_url(url)
    with pytest.raises(StartupError) as refused:
        open_store(url)  # no encryption key: refused before connecting, naming the database
    assert "pw-canary" not in str(refused.value) and "db.test" in str(refused.value)


def test_an_unreachable_database_with_a_query_password_is_masked(capsys, monkeypatch):
    url = "postgresql://nobody@127.0.0.1:1/x?connect_timeout=1&password=pw-canary"
    status, lines = run_main(capsys, ["--port", "0"], monkeypatch, OUTREACH_CONNECTOR_API_KEYS=API_KEY,
                             OUTREACH_CONNECTOR_DB=url, OUTREACH_CONNECTOR_SECRET_KEY=generate_key_text())
    assert status == 2 and len(lines) == 1 and "is not usable" in lines[0]
    assert "pw-canary" not in lines[0] and "password=***" in lines[0]


def test_rotating_the_encryption_key_reseals_every_row_and_keeps_owners(database):
    old, new = generate_key_text(), generate_key_text()
    store = open_store(database, old, api_keys=(API_KEY,))
    owner = store.owner_of(API_KEY)
    token = store.create("t", AccessTokenCredentials(access_token="token-canary"), owner=owner)
    oauth = store.create("o", OAuthCredentials(client_id="c", client_secret="s", refresh_token="refresh-canary",
                                               token_url="https://api.outreach.io/oauth/token"), owner=owner)
    store.close()
    rotating = open_store(database, new, api_keys=(API_KEY,), previous_keys=(old,))
    assert rotating.load(token.id).credentials.access_token.get_secret_value() == "token-canary"
    rotating.close()
    rotated = open_store(database, new, api_keys=(API_KEY,))  # the old key is no longer needed
    assert rotated.load(oauth.id).tokens.refresh_token == "refresh-canary"
    assert rotated.owner_of(API_KEY) == owner and rotated.get(token.id, owner).name == "t"
    rotated.close()
    with pytest.raises(EncryptionKeyError, match="does not match"):
        open_store(database, old)


def test_rotation_from_the_command_line(tmp_path):
    old, new = generate_key_text(), generate_key_text()
    (tmp_path / "old.key").write_text(old)
    (tmp_path / "new.key").write_text(new)
    settings = settings_from(["--encryption-key-file", str(tmp_path / "new.key"),
                              "--previous-encryption-key-file", str(tmp_path / "old.key")], env={})
    assert [k.get_secret_value() for k in settings.previous_encryption_keys] == [old]
    from_env = settings_from([], env={"OUTREACH_CONNECTOR_PREVIOUS_SECRET_KEY": f"{old},{new}"})
    assert [k.get_secret_value() for k in from_env.previous_encryption_keys] == [old, new]
    with pytest.raises(StartupError, match="needs the new key given explicitly"):
        open_store(tmp_path / "x.db", None, previous_keys=(old,))

"""What one tenant (API key) may hold: authentications, Outreach requests in flight, records in one answer."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from outreach_connector.server.credentials import AccessTokenCredentials
from outreach_connector.server.opening import open_store
from outreach_connector.server.store import TooManyAuthentications

from .helpers import OTHER_KEY, client_for, make_app

pytestmark = pytest.mark.anyio

TOO_MANY = ("This API key already holds 3 authentications, as many as the server allows "
            "(--max-authentications-per-key); delete one you no longer use first")


def token_body(name: str) -> dict:
    return {"name": name, "credentials": {"access_token": f"token-{name}"}}


async def test_authentications_beyond_the_cap_per_key_are_409(tmp_path, fake, database, encryption_key):
    app = make_app(tmp_path, fake, database=database, encryption_key=encryption_key, max_authentications_per_key=3)
    async with client_for(app) as client, client_for(app, OTHER_KEY) as other:
        created = [(await client.post("/authentications", json=token_body(f"a{n}"))) for n in range(3)]
        refused = await client.post("/authentications", json=token_body("a3"))
        others = await other.post("/authentications", json=token_body("b0"))  # another tenant has its own cap
        listed = (await client.get("/authentications")).json()["elements"]
        await client.delete(f"/authentications/{created[0].json()['id']}")
        after_delete = await client.post("/authentications", json=token_body("a4"))
    assert [r.status_code for r in created] == [201, 201, 201]
    assert (refused.status_code, refused.json()) == (409, {"message": TOO_MANY, "code": None})
    assert others.status_code == 201
    assert [auth["name"] for auth in listed] == ["a0", "a1", "a2"]  # the refused one was not stored
    assert after_delete.status_code == 201


def test_creates_racing_for_the_last_places_never_pass_the_cap(database, encryption_key):
    store = open_store(database, encryption_key)

    def create(n: int) -> bool:
        try:
            store.create(f"r{n}", AccessTokenCredentials(access_token=f"t{n}"), owner="tenant", max_per_owner=5)
            return True
        except TooManyAuthentications:
            return False

    try:
        with ThreadPoolExecutor(8) as workers:
            outcomes = list(workers.map(create, range(16)))
        stored, _ = store.page("tenant", limit=100)
    finally:
        store.close()
    assert outcomes.count(True) == 5 and len(stored) == 5

"""Every DDL, the 10 generated from Outreach's hyper-schema included, behaves alike: search anywhere in the
option's text ignoring case, every page reached once, saved ids labelled in the order asked."""
from __future__ import annotations

import pytest

from outreach_connector.catalogue_folders import load_entries
from outreach_sandbox import Sandbox, SandboxConfig

from .conftest import session
from .test_real_size_org import every_page

DDLS = {e.name: e for e in load_entries() if e.kind == "ddl"}


def folded(text: str) -> str:
    return " ".join(text.casefold().split())


@pytest.fixture(scope="module")
def small_org():
    return Sandbox(SandboxConfig())


def test_the_generated_ddls_are_among_them():
    generated = {name for name, entry in DDLS.items() if entry.origin == "outreach-schema"}
    assert len(generated) == 10 and len(DDLS) == 25


@pytest.mark.parametrize("name", sorted(DDLS))
def test_search_anywhere_ignoring_case_and_saved_values(small_org, name):
    with session(small_org) as conn:
        options = every_page(conn, name, {})
        first, last = options[0], options[-1]
        piece = last["text"][1:8].swapcase()  # from inside the text, in the other case
        found = every_page(conn, name, {"search": piece})
        assert last in found
        assert sorted(map(str, (o["value"] for o in found))) == \
            sorted(str(o["value"]) for o in options if folded(piece) in folded(o["text"]))
        assert conn.call(name, {"value": [last["value"], first["value"]]}) == \
            {"result": [last, first], "next_page_after": None}


@pytest.mark.parametrize("kind", ["persona", "team"])
def test_a_generated_ddl_pages_and_searches_past_one_page(kind):
    org = Sandbox(SandboxConfig())
    name = f"list_{kind}s_ddl"
    with session(org) as conn:
        conn.call(name, {"search": "audit"})  # an index, which the writes below must drop
        made = {conn.call(f"create_{kind}", {"attributes": {"name": f"Audit {kind} {i:03d}"}})["data"]["id"]
                for i in range(150)}
        options = every_page(conn, name, {})
        assert len(options) == len({o["value"] for o in options}) == org.store.count(kind)
        assert {o["value"] for o in every_page(conn, name, {"search": "AUDIT"})} == made

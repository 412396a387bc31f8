"""Value types live below their users: the modules that share them import the bottom layer, not each other."""
from __future__ import annotations

import ast
from importlib.util import resolve_name
from pathlib import Path

import pytest

import outreach_connector

PACKAGE = Path(outreach_connector.__file__).resolve().parent


def imported(relative: str) -> set[str]:
    """The package modules ``relative`` (a path under the package) imports, named under the package."""
    parent = ".".join(("outreach_connector", *Path(relative).parts[:-1]))
    names = set()
    for node in ast.walk(ast.parse((PACKAGE / relative).read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolve_name("." * node.level + (node.module or ""), parent) if node.level else node.module or ""
            names.update([base, *(f"{base}.{alias.name}" for alias in node.names)])  # from . import module
    return {name.removeprefix("outreach_connector.") for name in names if name.startswith("outreach_connector.")}


@pytest.mark.parametrize("module, above", [
    pytest.param("wire.py", {"retry", "oauth", "oauth_drivers", "client", "settings"}, id="wire-is-the-bottom"),
    pytest.param("settings.py", {"retry"}, id="settings-without-retry"),
    pytest.param("oauth_drivers.py", {"oauth"}, id="drivers-without-the-flow"),
    pytest.param("server/store.py", {"oauth", "oauth_drivers"}, id="store-without-oauth"),
    pytest.param("server/connect_store.py", {"oauth", "oauth_drivers"}, id="connect-store-without-oauth"),
    pytest.param("server/credentials.py", {"oauth", "oauth_drivers"}, id="credentials-without-oauth"),
    pytest.param("triggers.py", {"connector"}, id="triggers-poll-a-lister-not-the-connector"),
    pytest.param("server/services.py", {"server.routes", "server.consent", "server.subscriptions"},
                 id="services-below-the-routes"),
    pytest.param("server/consent.py", {"server.routes"}, id="consent-without-routes"),
    pytest.param("server/subscriptions.py", {"server.routes"}, id="subscriptions-without-routes"),
    pytest.param("mcp/http.py", {"server.routes"}, id="mcp-endpoint-without-routes"),
])
def test_a_module_imports_nothing_above_it(module, above):
    assert imported(module) & above == set()


def test_the_import_reader_sees_imports():  # the test above would pass on a reader that finds none
    assert {"wire", "retry", "oauth_drivers"} <= imported("oauth.py")


def test_the_shared_types_are_the_same_objects_on_every_public_path():
    from outreach_connector import RetryPolicy, oauth, retry, wire

    assert RetryPolicy is retry.RetryPolicy is wire.RetryPolicy
    assert oauth.TokenSet is wire.TokenSet and oauth.TokenStore is wire.TokenStore

"""The editor in Debian's Chromium (Playwright), against the server and the sandbox on loopback sockets."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import httpx
import pytest

from outreach_connector.server import ServerSettings, create_app
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

from server.helpers import CALL  # the call endpoint of the connector's version
from server.live import LiveServer  # tests/server/live.py: uvicorn on a loopback socket, in a thread

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
API_KEY = f"editor-key-{secrets.token_hex(6)}"
MANY_KEY = f"editor-many-{secrets.token_hex(6)}"    # a tenant with more authentications than one page lists
OTHER_KEY = f"editor-other-{secrets.token_hex(6)}"  # a tenant who must never see API_KEY's
CONNECT_KEY = f"editor-connect-{secrets.token_hex(6)}"  # a tenant whose authentications come from consent flows
AUTH_NAME = "Sandbox sales team"
PROSPECTS = 150  # more than one page of options (100)
SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET = "sandbox-client-id", "sandbox-client-secret"  # the sandbox's own app


def editor_settings(sandbox_url: str, database: Path, server_url: str, **overrides) -> ServerSettings:
    """The server in front of the sandbox, holding the sandbox's Outreach app (its consent page, its client)."""
    options = dict(api_keys=(API_KEY, MANY_KEY, OTHER_KEY, CONNECT_KEY), database=database,
                   outreach_base_url=sandbox_url, token_url=sandbox_url.replace("/api/v2", "/oauth/token"),
                   oauth_client_id=SANDBOX_CLIENT_ID, oauth_client_secret=SANDBOX_CLIENT_SECRET,
                   authorize_url=sandbox_url.replace("/api/v2", "/oauth/authorize"), public_url=server_url)
    options.update(overrides)
    return ServerSettings(**options)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """(sandbox, server URL): the sandbox served on a socket, the Connectors API server in front of it."""
    sandbox = Sandbox(SandboxConfig(prospects=PROSPECTS))
    with serving(sandbox) as sandbox_url:
        database = tmp_path_factory.mktemp("editor") / "server.db"
        with LiveServer(make_app=lambda url: create_app(editor_settings(sandbox_url, database, url))) as server_url:
            stored = httpx.post(f"{server_url}/authentications", headers={"Authorization": f"Bearer {API_KEY}"},
                                json={"name": AUTH_NAME, "credentials": {"access_token": "sandbox-access-token"}})
            assert stored.status_code == 201
            yield sandbox, server_url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        missing = "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)"
        pytest.fail(missing) if os.environ.get("CI") else pytest.skip(missing)
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Editor:
    """The page, with the JavaScript errors it raised."""

    def __init__(self, page, url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.console: list[str] = []  # every warning and error, the browser's "Failed to load resource" too
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        page.goto(f"{url}/editor")

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.console.append(message.text)
        # A 4xx answer the page handles (a validation error) is logged by Chromium itself, not by our script.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def connect(self, key: str = API_KEY, auth: str | None = AUTH_NAME) -> None:
        self.page.get_by_test_id("api-key").fill(key)
        self.page.get_by_test_id("connect").click()
        playwright.expect(self.page.locator("#status")).to_contain_text("Connected")
        if auth is not None:
            self.page.get_by_test_id("auth").select_option(label=auth)

    def operation(self, name: str) -> None:
        self.page.get_by_test_id("operation").select_option(name)

    def field(self, path: str):
        return self.page.locator(f'[data-field="{path}"]')

    def pick(self, path: str, search: str, text: str) -> None:
        """Type ``search`` into the lookup field and choose the option labelled ``text``."""
        box = self.field(path).locator("input").first
        box.click()
        box.fill(search)
        self.options(path).filter(has_text=text).first.click()

    def options(self, path: str):
        return self.field(path).get_by_test_id("option")

    def run(self) -> str:
        self.page.get_by_test_id("run").click()
        outcome = self.page.get_by_test_id("outcome")
        playwright.expect(outcome).to_have_text(re.compile("^(success|error)$"))
        return outcome.inner_text()


def snap(editor: "Editor", name: str) -> None:
    """With EDITOR_SCREENSHOTS=<folder> (tools/screenshots.py sets it): save the page as <folder>/<name>.png."""
    folder = os.environ.get("EDITOR_SCREENSHOTS")
    if folder:
        editor.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def editor(stack, browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    opened = Editor(page, stack[1])
    yield opened
    context.close()
    assert opened.errors == []


def listed_ids(server_url: str, key: str) -> list[str]:
    """The ids of ``key``'s authentications, as the server lists them."""
    reply = httpx.get(f"{server_url}/authentications?limit=100", headers={"Authorization": f"Bearer {key}"})
    assert reply.status_code == 200 and reply.json().get("next_page_after") is None
    return [auth["id"] for auth in reply.json()["elements"]]


def marked_authentication(server_url: str, key: str, name: str) -> str:
    """An OAuth authentication whose refresh the sandbox refuses: its first call marks it reconnect_required."""
    headers = {"Authorization": f"Bearer {key}"}
    created = httpx.post(f"{server_url}/authentications", headers=headers, json={"name": name, "credentials": {
        "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET, "refresh_token": "dead-refresh-token"}})
    assert created.status_code == 201, created.text
    auth_id = created.json()["id"]
    call = httpx.post(f"{server_url}{CALL}", headers=headers,
                      json={"operation": "get_user", "authId": auth_id, "input": {"user_id": 1}})
    assert call.status_code == 200 and call.json()["outcome"] == "error"
    shown = httpx.get(f"{server_url}/authentications/{auth_id}", headers=headers).json()
    assert (shown["status"], shown["status_reason"]) == ("reconnect_required", "invalid_grant")
    return auth_id

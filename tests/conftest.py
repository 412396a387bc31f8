"""Shared test helpers: paths, a recording fake Outreach on httpx.MockTransport, connectors wired to it."""
from __future__ import annotations

import logging

import json
import os
from pathlib import Path
from typing import Callable

import httpx
import pytest

from outreach_connector.client import HTTP_LIBRARY_LOGGERS

# The suite loads only the built-in plugin, whatever else is installed; a test that wants others asks for
# them (explicit plugin objects, or its own OUTREACH_CONNECTOR_PLUGINS in a subprocess).
os.environ["OUTREACH_CONNECTOR_PLUGINS"] = "none"

ROOT = Path(__file__).resolve().parents[1]
# The facts of Outreach's documents the generators read (tools/extract_vendor_facts.py keeps them current).
VENDOR_FACTS = ROOT / "tools" / "data" / "vendor-facts"
BASE_URL = "https://api.outreach.io/api/v2"
TOKEN = "test-token-not-secret"


def pytest_addoption(parser):
    parser.addoption("--reference", metavar="DIR", type=Path, default=None,
                     help="the shared folder (reference/ and spec/ inside): also run the maintainer's checks that "
                          "the project's copies of it are current (tests marked 'reference')")


def pytest_configure(config):
    config.addinivalue_line("markers", "reference: checks the project's copies against the shared folder "
                                       "(the maintainer's; run with --reference DIR)")


def pytest_report_header(config):
    folder = config.getoption("--reference")
    return f"reference checks: against {folder}" if folder else \
        "reference checks: not run (they need the shared folder: --reference DIR)"


def pytest_terminal_summary(terminalreporter, config):
    """Said even under -q: the checks against the shared folder did not run (nothing is wrong with the clone)."""
    if not config.getoption("--reference") and not hasattr(config, "workerinput"):
        terminalreporter.write_line("reference checks not run (the project's copies of the shared folder): "
                                    "./run test --reference DIR runs them")


def pytest_collection_modifyitems(config, items):
    """Without --reference the checks against the folder outside the project are not collected: a clone has
    everything else it needs inside it."""
    if config.getoption("--reference"):
        return
    outside = [item for item in items if item.get_closest_marker("reference")]
    if outside:
        config.hook.pytest_deselected(items=outside)
        items[:] = [item for item in items if not item.get_closest_marker("reference")]


@pytest.fixture
def shared_folder(request) -> Path:
    """The folder named by --reference (reference checks only run with it)."""
    return request.config.getoption("--reference")


class FakeOutreach:
    """A MockTransport app: records every request and answers with ``respond(request)``.

    With no ``respond`` it fails the test on any request: use it to prove nothing was sent.
    """

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.respond is None:
            pytest.fail(f"unexpected request {request.method} {request.url}")
        return self.respond(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def jsonapi(status: int, body: object | None = None, headers: dict | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content,
                          headers={"Content-Type": "application/vnd.api+json", **(headers or {})})


def stage_page(ids: list[int], next_cursor: str | None = None) -> dict:
    """A page of stage ids, with a ``links.next`` carrying ``next_cursor`` unless it is the last page."""
    links = {"next": f"{BASE_URL}/stages?page[size]=2&page[after]={next_cursor}"} if next_cursor else {}
    return {"data": [{"type": "stage", "id": i} for i in ids], "links": links, "meta": {}}


@pytest.fixture
def make_connector():
    from outreach_connector import Connector
    from outreach_connector.retry import RetryPolicy

    made = []

    def make(fake: FakeOutreach, **options):
        options.setdefault("retry", RetryPolicy(base_delay=0.0, max_total_wait=1.0))
        conn = Connector(base_url=BASE_URL, access_token=TOKEN, transport=fake.transport, **options)
        made.append(conn)
        return conn

    yield make
    for conn in made:
        conn.close()


@pytest.fixture
def snapshot_json(snapshot):
    from syrupy.extensions.json import JSONSnapshotExtension

    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def _http_library_log_levels():
    """The CLI's entry point quiets httpx and httpcore for its process (their INFO lines carry query strings);
    tests call it in-process, so each test starts from the levels a host would have."""
    yield
    for name in HTTP_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.fixture
def postgres_url():
    from tests.server.postgres import fresh_database  # PostgreSQL is needed only where a test asks

    yield from fresh_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path) -> str:
    """A test of the server's store runs on a SQLite file and on a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return str(tmp_path / "server.db")
    return request.getfixturevalue("postgres_url")

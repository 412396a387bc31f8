"""Every credential type × every answer size × sync and async, against the sandbox (issue 17, item 1).

OAuth calls once failed on any answer over 64 KiB: the token answer's bound was applied to every response the
OAuth flow saw, and no test crossed an OAuth credential with a large answer. This matrix crosses them all:

* credentials: a fixed access token and OAuth refresh credentials in the Python API, a CLI profile stored by
  ``auth login --profile`` (OAuth, over loopback), and a server authentication with OAuth refresh credentials;
* answers: one small record, one page over 64 KiB, a paginated walk of such pages, a DDL label index (pages
  of 1,000 sparse records);
* ``call`` and ``acall`` where the caller has both (the CLI is sync, the server async).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, Callable
from urllib.parse import parse_qs

import pytest

from outreach_connector import Connector
from outreach_connector.cli import main
from outreach_connector.cli.session import CREDENTIAL_VARIABLES
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

from outreach_connector.cli import SANDBOX_BASE_URL, SANDBOX_TOKEN

from .helpers import CALL, TOKEN_URL, client_for, make_app, run_call

PROSPECTS = 1200  # the label index takes two pages of 1,000
OAUTH = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret",
         "refresh_token": "sandbox-refresh-token"}
ANSWERS: dict[str, tuple[str, dict[str, Any]]] = {
    "small": ("get_stage", {"stage_id": 2}),
    "over-64KiB": ("list_prospects", {"page_size": 40}),
    "paginated": ("list_prospects", {"paginate": True, "page_size": 40, "max_records": 120}),
    "label-index": ("list_prospects_ddl", {"search": "an"}),
}


def check_answer(size: str, output: Any, sandbox: Sandbox) -> None:
    """The output is the whole answer, and the case really crossed the size it is named after."""
    if size == "small":
        assert output["data"]["id"] == 2
    elif size == "over-64KiB":
        assert len(output["data"]) == 40 and len(json.dumps(output)) > 64 * 1024
    elif size == "paginated":
        assert len(output["data"]) == 120 and output["meta"]["pages"] == 3  # three pages over 64 KiB each
    else:
        texts = [option["text"] for option in output["result"]]
        assert texts and all("an" in text.casefold() for text in texts)
        index_pages = [r for r in sandbox.requests if r.path == "/api/v2/prospects"
                       and parse_qs(r.query).get("page[size]") == ["1000"]]
        assert len(index_pages) == 2  # 1,200 labels read in two sparse pages, the first one over 64 KiB


def python_api(credentials: dict[str, Any], asynchronous: bool) -> Callable[[Sandbox, str, dict], Any]:
    def run(sandbox: Sandbox, name: str, data: dict) -> Any:
        connector = Connector(base_url=SANDBOX_BASE_URL, transport=sandbox.transport(), **credentials)
        return run_call(connector, name, data, asynchronous)
    return run


def server_oauth(tmp_path) -> Callable[[Sandbox, str, dict], Any]:
    def run(sandbox: Sandbox, name: str, data: dict) -> Any:
        async def go() -> Any:
            async with client_for(make_app(tmp_path, sandbox.transport())) as client:
                created = await client.post("/authentications", json={"name": "m", "credentials": OAUTH})
                assert created.status_code == 201, created.text
                answer = await client.post(CALL, json={"operation": name, "authId": created.json()["id"],
                                                       "input": data})
                assert (answer.status_code, answer.json()["outcome"]) == (200, "success"), answer.text
                return answer.json()["output"]
        return asyncio.run(go())
    return run


@pytest.fixture(scope="module")
def served_sandbox():
    sandbox = Sandbox(SandboxConfig(prospects=PROSPECTS, access_token=None))  # only OAuth-minted tokens work
    with serving(sandbox) as base_url:
        yield sandbox, base_url


def cli_profile(served_sandbox, tmp_path, monkeypatch, capsys) -> Callable[[Sandbox, str, dict], Any]:
    sandbox, base_url = served_sandbox
    monkeypatch.setenv("OUTREACH_CONNECTOR_CONFIG_DIR", str(tmp_path / "config"))
    for variable in CREDENTIAL_VARIABLES | {"OUTREACH_BASE_URL"}:
        monkeypatch.delenv(variable, raising=False)

    def run(_: Sandbox, name: str, data: dict) -> Any:
        with monkeypatch.context() as login_env:
            login_env.setenv("OUTREACH_CLIENT_SECRET", OAUTH["client_secret"])
            login_env.setenv("OUTREACH_REFRESH_TOKEN", OAUTH["refresh_token"])
            assert main(["auth", "login", "--profile", "matrix", "--client-id", OAUTH["client_id"], "--base-url",
                         base_url, "--token-url", base_url.removesuffix("/api/v2") + "/oauth/token"]) == 0
        capsys.readouterr()
        code = main(["call", name, json.dumps(data), "--profile", "matrix"])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out)
    return run


CALLERS = ["access-token-call", "access-token-acall", "oauth-call", "oauth-acall", "cli-profile", "server-oauth"]


@pytest.mark.parametrize("size", list(ANSWERS))
@pytest.mark.parametrize("caller", CALLERS)
def test_every_credential_type_reads_every_answer_size(caller, size, request, tmp_path, monkeypatch, capsys):
    if caller == "cli-profile":
        sandbox = request.getfixturevalue("served_sandbox")[0]
        sandbox.reset()
        run = cli_profile(request.getfixturevalue("served_sandbox"), tmp_path, monkeypatch, capsys)
    else:
        sandbox = Sandbox(SandboxConfig(prospects=PROSPECTS))
        credentials = {"access_token": SANDBOX_TOKEN} if caller.startswith("access-token") else {
            **OAUTH, "token_url": TOKEN_URL}
        run = (server_oauth(tmp_path) if caller == "server-oauth"
               else python_api(credentials, asynchronous=caller.endswith("acall")))
    name, data = ANSWERS[size]
    check_answer(size, run(sandbox, name, data), sandbox)
    assert sandbox.token_refreshes == (0 if caller.startswith("access-token") else 1)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["call", "acall"])
def test_a_large_401_before_a_refresh_is_read_under_the_api_cap_not_the_token_bound(asynchronous):
    """The answer the OAuth flow goes past (a 401, then a refresh and the same request again) is an API answer."""
    import httpx

    sent: list[str] = []

    def outreach(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path} {request.headers.get('Authorization', '')}")
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "fresh", "refresh_token": "next", "expires_in": 7200})
        if request.headers["Authorization"] == "Bearer stale":
            return httpx.Response(401, json={"errors": [{"detail": "x" * 100_000}]})
        return httpx.Response(200, json={"data": {"type": "stage", "id": 2, "attributes": {"name": "y" * 100_000}}})

    connector = Connector(base_url=SANDBOX_BASE_URL, transport=httpx.MockTransport(outreach), access_token="stale",
                          token_url=TOKEN_URL, **OAUTH)
    output = run_call(connector, "get_stage", {"stage_id": 2}, asynchronous)
    assert output["data"]["attributes"]["name"] == "y" * 100_000
    assert sent == ["GET /api/v2/stages/2 Bearer stale", "POST /oauth/token ",
                    "GET /api/v2/stages/2 Bearer fresh"]

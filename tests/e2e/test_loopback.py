"""The same connector over a real TCP socket: the sandbox under uvicorn on a free loopback port."""
from __future__ import annotations

import asyncio

import pytest

from outreach_connector import Connector
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving


@pytest.fixture(scope="module")
def served():
    sandbox = Sandbox(SandboxConfig())
    with serving(sandbox) as base_url:
        yield sandbox, base_url


def test_workflow_over_a_socket(served):
    sandbox, base_url = served
    with Connector(base_url=base_url, access_token="sandbox-access-token") as conn:
        account = conn.call("create_account", {"attributes": {"name": "Socket Co"}})
        prospect = conn.call("create_prospect", {"attributes": {"firstName": "Tess", "lastName": "Tcp"},
                                                 "relationships": {"account": account["data"]["id"]}})
        state = conn.call("add_prospect_to_sequence", {"prospect_id": prospect["data"]["id"], "sequence_id": 4,
                                                       "mailbox_id": 1})
        page = conn.call("list_prospects", {"page_size": 5})
        following = conn.call("execute_link", {"link": page["links"]["next"]})
        conn.call("delete_sequence_state", {"sequence_state_id": state["data"]["id"]})
    assert page["links"]["next"].startswith(base_url)
    assert [r["id"] for r in following["data"]] == [6, 7, 8, 9, 10]
    assert state["data"]["attributes"]["state"] == "active"


def test_concurrent_async_calls_over_a_socket(served):
    _, base_url = served

    async def main():
        async with Connector(base_url=base_url, access_token="sandbox-access-token") as conn:
            return await asyncio.gather(*(conn.acall("get_stage", {"stage_id": i % 7 + 1}) for i in range(30)))

    results = asyncio.run(main())
    assert [r["data"]["id"] for r in results] == [i % 7 + 1 for i in range(30)]


def test_a_bad_token_over_a_socket_is_an_auth_error(served):
    from outreach_connector.errors import AuthError

    _, base_url = served
    with Connector(base_url=base_url, access_token="not-a-token") as conn:
        with pytest.raises(AuthError) as caught:
            conn.call("list_stages", {})
    assert "not-a-token" not in str(caught.value)

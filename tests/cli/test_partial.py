"""``call`` with ``paginate`` that fails part-way: the error JSON keeps the records fetched and the cursor."""
from __future__ import annotations

import json

from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

LIST = {"paginate": True, "page_size": 10, "fields": ["firstName"]}


def test_a_failed_walk_prints_what_it_fetched_and_where_to_resume(cli, monkeypatch):
    monkeypatch.setenv("OUTREACH_ACCESS_TOKEN", "sandbox-access-token")
    sandbox = Sandbox(SandboxConfig())
    sandbox.faults.status(422, skip=2, times=1, path="/prospects")  # the third page, once
    with serving(sandbox) as url:
        failed = cli("call", "list_prospects", json.dumps(LIST), "--base-url", url)
        partial = failed.error["partial"]
        resumed = cli("call", "list_prospects", json.dumps({**LIST, "page_after": partial["resume_from"]}),
                      "--base-url", url)
    assert (failed.code, failed.out, failed.error["error"]) == (3, "", "ValidationFailed")
    assert (partial["pages"], partial["delivered"]) == (2, 20)
    assert [r["id"] for r in partial["records"]] == list(range(1, 21))
    assert resumed.code == 0 and [r["id"] for r in resumed.output["data"]] == list(range(21, 41))


def test_an_error_that_ended_no_walk_has_no_partial(cli):
    assert "partial" not in cli("call", "list_prospects", '{"page_size": 0}', "--sandbox").error

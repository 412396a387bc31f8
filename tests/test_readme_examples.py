"""The README's Python API example runs as written against a sandbox served on a port (issue 18 item 11).

The block is taken from the README itself, as a reader copies it; only the sandbox's port is swapped for the
free one this test serves it on.
"""
from __future__ import annotations

import contextlib
import io
import re

from conftest import ROOT
from outreach_sandbox import Sandbox, SandboxConfig
from server.live import LiveServer  # tests/server/live.py: uvicorn on a loopback socket, in a thread

README = (ROOT / "README.md").read_text(encoding="utf-8")
PORT_IN_README = "http://127.0.0.1:8090"


def python_api_block() -> str:
    section = README.split("## Python API\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```python\n(.*?)```", section, re.S)
    return block


def test_the_python_api_example_runs_as_written_against_the_sandbox():
    block = python_api_block()
    assert block.count(PORT_IN_README) == 1  # the one place the reader's sandbox is named
    sandbox = Sandbox(SandboxConfig())
    printed = io.StringIO()
    with LiveServer(sandbox.app) as url, contextlib.redirect_stdout(printed):
        exec(compile(block.replace(PORT_IN_README, url), "README.md (Python API)", "exec"), {"__name__": "readme"})
    lines = printed.getvalue().splitlines()
    assert lines[0] == ("invalid input for update_stage: attributes.nmae: unknown field (did you mean name?); "
                        "stage_id: required field is missing")  # InputInvalid: every bad field, nothing sent
    assert lines[1] == ("404 [{'id': 'resourceNotFound', 'title': 'Resource Not Found', "
                        "'detail': \"Could not find 'prospect' with ID '999999'.\"}]")  # NotFound: status, errors[]
    # The async part: stage 1's name, then every stage's, over pages of 5, the one the block created last.
    assert lines[2:] == ["Cold ['Cold', 'Approaching', 'Replied', 'Interested', 'Not Interested', 'Unresponsive', "
                         "'Qualified', 'Demo']"]
    writes = [(r.method, r.path) for r in sandbox.requests if r.method != "GET"]
    assert writes == [("POST", "/api/v2/stages")]  # the create_stage; the invalid update_stage sent nothing


LINK = re.compile(r"\]\((?!https?://|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)")


def anchors(markdown: str) -> set[str]:
    """The ids GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", text, re.M)}


def test_every_relative_link_in_the_readme_and_the_docs_lands_on_a_file_and_heading():
    broken, checked = [], 0
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for target, anchor in LINK.findall(re.sub(r"```.*?```", "", text, flags=re.S)):
            checked += 1
            landing = (page.parent / target).resolve() if target else page
            if not landing.exists() or (anchor and anchor not in anchors(landing.read_text(encoding="utf-8"))):
                broken.append(f"{page.name}: {target}#{anchor}")
    assert checked > 0 and broken == []


def test_the_readme_lists_every_docs_page():
    table = README.split("## Documentation\n", 1)[1]
    listed = set(re.findall(r"^\| \[docs/([\w-]+\.md)\]\(docs/\1\) \|", table, re.M))
    assert listed == {page.name for page in (ROOT / "docs").glob("*.md")}

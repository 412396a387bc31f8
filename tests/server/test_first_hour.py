"""What a person meets first on the server (issue 18, item 10): ``GET /`` says where things are, the start line
gives the editor's URL."""
from __future__ import annotations

import pytest

from .helpers import FakeOutreach, make_client
from .test_serve_process import free_port, output_of_a_start


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_root_without_a_key_says_what_is_here_and_what_needs_no_key(tmp_path, anyio_backend):
    async with make_client(tmp_path, FakeOutreach()) as client:
        client.headers.pop("Authorization")
        response = await client.get("/")
        editor = await client.get("/editor")
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")
    assert response.json() == {"code": None, "message": (
        "The request is unauthorized: send the server's API key as 'Authorization: Bearer <key>'. This is the "
        "Outreach Connectors API (it starts at /connectors); open /editor in a browser for the solution editor "
        "(the page asks for the key); /healthz and /readyz need no key")}
    assert editor.status_code == 200  # what the message sends a person to opens without the key


def test_the_start_line_gives_the_editors_url(tmp_path):
    port = free_port()
    started = [line for line in output_of_a_start(tmp_path / "s.db", port).splitlines()
               if "serving the Connectors API" in line]
    assert len(started) == 1 and started[0].endswith(f"; the solution editor: http://127.0.0.1:{port}/editor")

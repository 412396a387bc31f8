"""``serve`` startup (item 9) and the server's did-you-mean 404 (item 3)."""
from __future__ import annotations

import socket

import pytest

from outreach_connector.server.app import main as serve_main

from server.helpers import CALL, FakeOutreach, make_client, store_token
from server.test_serve_process import free_port, output_of_a_start


def test_a_busy_port_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OUTREACH_CONNECTOR_API_KEYS", "serve-test-api-key")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = serve_main(["--port", str(port), "--database", str(tmp_path / "s.db")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"outreach-connector serve: cannot listen on 127.0.0.1:{port}: Address already in use; "
                   "choose another with --port (nothing was written)\n")
    assert list(tmp_path.iterdir()) == []


def test_a_generated_key_file_is_announced_with_its_path(tmp_path):
    output = output_of_a_start(tmp_path / "s.db", free_port())
    assert (f"outreach-connector serve: generated the encryption key file {tmp_path / 's.db.key'} (mode 0600); "
            "back it up with the database") in output


def test_an_existing_key_file_is_not_announced_again(tmp_path, capsys):
    from outreach_connector.server.opening import announce_key_file, key_file_to_generate

    (tmp_path / "s.db.key").write_text("existing")
    assert key_file_to_generate(tmp_path / "s.db", None) is None
    announce_key_file(key_file_to_generate(tmp_path / "s.db", None))
    assert capsys.readouterr().err == ""
    assert key_file_to_generate(tmp_path / "new.db", None) == tmp_path / "new.db.key"
    assert key_file_to_generate(tmp_path / "new.db", "given-key") is None


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_unknown_operation_404_suggests_the_closest(tmp_path, anyio_backend):
    async with make_client(tmp_path, FakeOutreach()) as client:
        auth_id = await store_token(client)
        response = await client.post(CALL, json={"operation": "list_stagse", "authId": auth_id, "input": {}})
    assert response.status_code == 404
    assert response.json() == {"message": "The connector operation 'list_stagse' was not found "
                                          "(did you mean list_stages or list_stages_ddl?)", "code": None}

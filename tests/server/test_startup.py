"""Start-up problems are one line and a non-zero exit, and leave nothing behind; slow clients are cut off."""
from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest
import uvicorn

from outreach_connector.server import main
from outreach_connector.server.secrets_box import generate_key_text
from outreach_connector.server.serving import protocol_with_header_timeout
from outreach_connector.server.settings import settings_from


def run_main(capsys, *argv: str) -> tuple[int, list[str]]:
    with pytest.MonkeyPatch.context() as patch:  # the key from the environment: on argv it adds a warning line
        patch.setenv("OUTREACH_CONNECTOR_API_KEYS", "startup-test-api-key")
        status = main(list(argv))
    return status, capsys.readouterr().err.strip().splitlines()


def test_a_busy_port_is_one_line_and_creates_no_files(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        status, lines = run_main(capsys, "--port", str(port), "--database", str(tmp_path / "x.db"))
    assert status == 2 and len(lines) == 1
    assert lines[0].startswith(f"outreach-connector serve: cannot listen on 127.0.0.1:{port}: ")
    assert list(tmp_path.iterdir()) == []


def test_a_directory_as_database_is_one_line_and_leaves_no_stray_key(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    status, lines = run_main(capsys, "--port", "0", "--database", str(tmp_path / "data"))
    assert (status, lines) == (2, [f"outreach-connector serve: --database {tmp_path / 'data'} is a directory; "
                                   f"give a file path such as {tmp_path / 'data' / 'outreach-connector.db'}"])
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def test_a_missing_key_file_for_an_existing_database_never_creates_a_new_key(tmp_path, capsys):
    (tmp_path / "x.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    status, lines = run_main(capsys, "--port", "0", "--database", str(tmp_path / "x.db"))
    assert status == 2 and len(lines) == 1 and "key file" in lines[0] and "is missing" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


def test_a_wrong_key_is_one_line(tmp_path, capsys):
    from outreach_connector.server.opening import open_store

    open_store(tmp_path / "x.db", generate_key_text()).close()
    (tmp_path / "other.key").write_text(generate_key_text())
    before = sorted(p.name for p in tmp_path.iterdir())
    status, lines = run_main(capsys, "--port", "0", "--database", str(tmp_path / "x.db"),
                             "--encryption-key-file", str(tmp_path / "other.key"))
    assert status == 2 and len(lines) == 1 and "does not match" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_postgresql_without_an_explicit_key_is_one_line(capsys):
    status, lines = run_main(capsys, "--port", "0", "--database", "postgresql://nobody:pw-canary@127.0.0.1:1/x")
    assert status == 2 and len(lines) == 2  # the warning that a password came on argv, then the error
    assert "a password in --database on the command line" in lines[0]
    assert "needs the encryption key given explicitly" in lines[1] and "pw-canary" not in "".join(lines)


def test_allowed_token_urls_from_flags_and_environment():
    env = {"OUTREACH_CONNECTOR_ALLOWED_TOKEN_URLS": "https://a.test/oauth/token, https://b.test/t/"}
    assert settings_from([], env=env).allowed_token_urls == ("https://a.test/oauth/token", "https://b.test/t")
    flagged = settings_from(["--allow-token-url", "https://c.test/t"], env=env)
    assert flagged.trusted_token_urls == {"https://c.test/t", "https://api.outreach.io/oauth/token"}


async def ok_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@contextmanager
def serving(config: uvicorn.Config) -> Iterator[int]:
    """``config`` served by uvicorn in a thread on a free loopback port; yields the port."""
    with serving_server(config) as (port, _):
        yield port


@contextmanager
def serving_server(config: uvicorn.Config) -> Iterator[tuple[int, uvicorn.Server]]:
    """As :func:`serving`, yielding the server too (its ``server_state`` holds the open connections)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield listener.getsockname()[1], server
    finally:
        server.should_exit = True
        thread.join(10)


def exchange(connection: socket.socket, request: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """Sends ``request`` and reads one whole answer (it carries Content-Length): status line, headers, body."""
    connection.sendall(request)
    connection.settimeout(10)
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(4096)
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(b":") for line in lines)}
    while len(body) < int(headers[b"content-length"]):
        body += connection.recv(4096)
    return status, headers, body


def test_a_client_that_does_not_finish_its_headers_is_disconnected():
    config = uvicorn.Config(ok_app, http=protocol_with_header_timeout(0.3), log_config=None, lifespan="off")
    with serving(config) as port:
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            slow.settimeout(10)
            assert slow.recv(100) == b""  # closed by the server
        with socket.create_connection(("127.0.0.1", port)) as prompt:
            prompt.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            prompt.settimeout(10)
            assert prompt.recv(100).startswith(b"HTTP/1.1 200")


def served_config(*argv: str) -> uvicorn.Config:
    from outreach_connector.server.serving import uvicorn_config

    config = uvicorn_config(ok_app, settings_from(list(argv), env={}))
    config.log_config, config.lifespan = None, "off"
    return config


def test_beyond_the_connection_limit_the_answer_is_a_json_503_with_retry_after():
    with serving(served_config("--max-connections", "1")) as port:
        with socket.create_connection(("127.0.0.1", port)) as first:
            assert exchange(first, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")[0] == b"HTTP/1.1 200 OK"
            with socket.create_connection(("127.0.0.1", port)) as second:  # one connection more than allowed
                status, headers, body = exchange(second, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == b"HTTP/1.1 503 Service Unavailable"
    assert headers[b"content-type"] == b"application/json" and headers[b"retry-after"] == b"1"
    assert json.loads(body) == {"message": "The server is serving as many connections as it may "
                                           "(--max-connections); try again shortly", "code": None}


@pytest.mark.parametrize("request_bytes", [pytest.param(b"NOT HTTP AT ALL\r\n\r\n", id="not-a-request-line"),
                                           pytest.param(b"GET / HTTP/1.1\r\nno colon\r\n\r\n", id="bad-header"),
                                           pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="no-host")])
def test_bytes_that_are_not_http_get_a_json_400(request_bytes):
    with serving(served_config()) as port, socket.create_connection(("127.0.0.1", port)) as client:
        status, headers, body = exchange(client, request_bytes)
        client.settimeout(10)
        assert client.recv(100) == b""  # and the connection is closed
    assert status == b"HTTP/1.1 400 Bad Request" and headers[b"content-type"] == b"application/json"
    assert json.loads(body) == {"message": "The request is not valid HTTP/1.1", "code": None}


def test_the_served_config_carries_the_connection_limit_and_header_timeout():
    config = served_config("--max-connections", "7", "--header-timeout", "2.5")
    assert config.http.max_connections == 7 and config.http.header_timeout == 2.5
    assert config.limit_concurrency is None  # uvicorn's own limit answers in plain text: ours replaces it

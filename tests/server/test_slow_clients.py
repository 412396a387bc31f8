"""Slow clients against the served app on real sockets: a body that trickles in gets 408, a client that reads
nothing of its answer is dropped, and one API key's slow clients cannot take every connection slot."""
from __future__ import annotations

import json
import select
import socket
import time
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator

import httpx

import uvicorn

from outreach_connector.server import ServerSettings, create_app
from outreach_connector.server.serving import uvicorn_config

from .helpers import API_KEY, CALL, OTHER_KEY, OUTREACH
from .test_startup import exchange, serving_server

BODY = json.dumps({"name": "n", "credentials": {"access_token": "t"}}).encode()


@contextmanager
def served_app(tmp_path, transport=None, **settings) -> Iterator[tuple[int, uvicorn.Server]]:
    """The real app under uvicorn with our protocol, on a free port; yields the port and the server."""
    chosen = ServerSettings(api_keys=(API_KEY, OTHER_KEY), database=tmp_path / "s.db", outreach_base_url=OUTREACH,
                            **settings)
    config = uvicorn_config(create_app(chosen, transport=transport), chosen)
    config.log_config, config.lifespan = None, "off"
    with serving_server(config) as served:
        yield served


def post_head(key: str, length: int = len(BODY)) -> bytes:
    return (f"POST /authentications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()


def created(port: int, key: str = OTHER_KEY, body: bool = False) -> Any:
    """The status line (or with ``body`` the whole answer) of a prompt POST /authentications on a fresh
    connection."""
    with socket.create_connection(("127.0.0.1", port)) as prompt:
        answer = exchange(prompt, post_head(key) + BODY)
    return answer if body else answer[0]


def test_a_body_trickling_in_gets_408_and_its_connection_closes(tmp_path):
    with served_app(tmp_path, body_timeout=1.0, max_connections=1) as (port, _):
        with socket.create_connection(("127.0.0.1", port)) as loris:
            loris.sendall(post_head(API_KEY))
            loris.setblocking(False)
            answer, started = b"", time.monotonic()
            for byte in BODY:  # one byte at a time, never the whole body within the timeout
                time.sleep(0.4)
                try:
                    loris.send(bytes([byte]))
                    answer += loris.recv(4096)
                except (BlockingIOError, ConnectionError):
                    pass
                if answer or time.monotonic() - started > 20:
                    break
            loris.settimeout(10)
            while not answer.endswith(b"}"):
                answer += loris.recv(4096)
            closed = loris.recv(100)
        after = created(port)  # the one slot is free again
    status, _, body = answer.partition(b"\r\n")[0], None, answer.partition(b"\r\n\r\n")[2]
    assert status == b"HTTP/1.1 408 Request Timeout" and closed == b""
    assert json.loads(body) == {"message": "The request body did not arrive within 1 seconds of its headers "
                                           "(--body-timeout)", "code": None}
    assert after == b"HTTP/1.1 201 Created"


def large_answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"data": ["x" * 1000] * 6000})  # 6 MB: more than the kernel buffers


def test_clients_that_read_nothing_of_a_large_answer_are_dropped_and_their_slots_free(tmp_path):
    with served_app(tmp_path, httpx.MockTransport(large_answer), send_timeout=3, max_connections=20) as (
            port, server), ExitStack() as stack:
        auth_id = json.loads(created(port, API_KEY, body=True)[2])["id"]
        call = json.dumps({"operation": "raw_http_request", "authId": auth_id,
                           "input": {"method": "GET", "url": {"endpoint": "/big"}}}).encode()
        request = (f"POST {CALL} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(call)}\r\n\r\n").encode() + call
        readers = []
        for _ in range(20):
            reader = socket.socket()
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the kernel takes little for them
            reader.connect(("127.0.0.1", port))
            stack.enter_context(reader)
            reader.sendall(request)
            readers.append(reader)
        held = wait_for(lambda: unsent(server), lambda most: most > 15_000_000)
        left = wait_for(lambda: len(server.server_state.connections), lambda count: count == 0)
        answer = created(port)
    assert held > 15_000_000  # the 20 answers sat in the server's memory, unread
    assert left == 0  # every non-reading client was dropped, its buffered answer with it
    assert answer == b"HTTP/1.1 201 Created"


def unsent(server: uvicorn.Server) -> int:
    """Bytes of answers waiting in the server's write buffers."""
    return sum(c.transport.get_write_buffer_size() for c in list(server.server_state.connections))


def wait_for(measure, enough, seconds: float = 30):
    """Polls ``measure`` until ``enough`` of its value (or the time runs out); returns the last value."""
    deadline = time.monotonic() + seconds
    value = measure()
    while not enough(value) and time.monotonic() < deadline:
        time.sleep(0.05)
        value = measure()
    return value



def test_one_keys_slow_bodies_cannot_take_the_slots_another_key_needs(tmp_path):
    with served_app(tmp_path, max_connections=6, max_sending_per_key=2, body_timeout=60) as (port, _), \
            ExitStack() as stack:
        slow = [stack.enter_context(socket.create_connection(("127.0.0.1", port))) for _ in range(6)]
        for connection in slow:  # as many as the server has slots, each stopping one byte short of its body
            connection.sendall(post_head(API_KEY) + BODY[:-1])
        answered = answers(slow, count=4)
        other_key = created(port, OTHER_KEY)
        held = [connection for connection in slow if connection not in answered]
        finished = [exchange(connection, BODY[-1:])[0] for connection in held]
    assert [status for status, _ in answered.values()] == [b"HTTP/1.1 429 Too Many Requests"] * 4
    assert {json.loads(body)["message"] for _, body in answered.values()} == {
        "This API key already has 2 requests still sending their body (--max-sending-per-key); finish those first"}
    assert other_key == b"HTTP/1.1 201 Created"
    assert finished == [b"HTTP/1.1 201 Created"] * 2  # the two within the cap were served once complete


def answers(connections: list[socket.socket], count: int) -> dict[socket.socket, tuple[bytes, bytes]]:
    """The first ``count`` connections to answer and close: their status lines and bodies."""
    found: dict[socket.socket, tuple[bytes, bytes]] = {}
    deadline = time.monotonic() + 30
    while len(found) < count and time.monotonic() < deadline:
        ready, _, _ = select.select([c for c in connections if c not in found], [], [], 1)
        for connection in ready:
            connection.settimeout(10)
            received = b""
            while chunk := connection.recv(4096):  # read to the close
                received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            found[connection] = (head.split(b"\r\n")[0], body)
    return found

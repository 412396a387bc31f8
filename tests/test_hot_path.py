"""Behaviour kept by the hot-path optimisations the benchmark measures (speed itself is never asserted here)."""
from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading

import httpx
import pytest

from outreach_connector.responses import LARGE_BODY, CollectorPause, decode_body, header_dict


@pytest.mark.parametrize("raw, expected", [
    pytest.param([("X-RateLimit-Remaining", "9")], {"x-ratelimit-remaining": "9"}, id="lower-cased"),
    pytest.param([("Vary", "Accept"), ("vary", "Origin")], {"vary": "Accept, Origin"}, id="repeated-joined"),
    pytest.param([(b"X-Name", "caf\u00e9".encode())], {"x-name": "caf\u00e9"}, id="utf-8-value"),
    pytest.param([(b"X-Name", b"\xe9t\xe9")], {"x-name": "\u00e9t\u00e9"}, id="latin-1-value"),
    pytest.param([], {}, id="none"),
])
def test_header_dict(raw, expected):
    assert header_dict(httpx.Response(200, headers=raw).headers) == expected


def test_large_bodies_decode_the_same_and_leave_the_collector_on():
    body = json.dumps({"data": [{"id": i, "attributes": {"name": "x" * 50}} for i in range(4000)]}).encode()
    assert len(body) > LARGE_BODY
    assert decode_body(httpx.Response(200, content=body), body) == json.loads(body)
    assert gc.isenabled()


def test_collector_pause_is_reentrant_and_restores():
    pause = CollectorPause()
    with pause:
        assert not gc.isenabled()
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer decode is still running
    assert gc.isenabled()


def test_collector_pause_keeps_a_host_choice():
    pause = CollectorPause()
    gc.disable()
    try:
        with pause:
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collector_pause_across_threads():
    pause, inside, release = CollectorPause(), threading.Event(), threading.Event()

    def decode():
        with pause:
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=decode)
    worker.start()
    inside.wait(5)
    with pause:
        pass
    assert not gc.isenabled()  # the other thread's decode has not ended
    release.set()
    worker.join(5)
    assert gc.isenabled()


FIRST_CALL_THEN_LIST = """
import sys, httpx
from outreach_connector import Connector
from outreach_connector.connector import operations
body = b'{"data": {"type": "prospect", "id": 1, "attributes": {"firstName": "Ada"}}}'
answer = lambda request: httpx.Response(200, headers={"content-type": "application/vnd.api+json"}, content=body)
c = Connector(base_url="https://api.outreach.io/api/v2", access_token="t", transport=httpx.MockTransport(answer))
print(c.call("get_prospect", {"prospect_id": 1})["data"]["attributes"]["firstName"], len(operations()) > 200,
      "yaml" in sys.modules)
"""


def test_a_first_call_reads_the_packaged_index_and_never_imports_yaml():
    """PyYAML (~8 ms of imports) is for folders whose index is missing or stale, never the packaged catalogue's."""
    done = subprocess.run([sys.executable, "-c", FIRST_CALL_THEN_LIST], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin", "OUTREACH_CONNECTOR_PLUGINS": "none"})
    assert done.stdout.split() == ["Ada", "True", "False"], done.stderr

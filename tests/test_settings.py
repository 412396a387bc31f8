"""One settings model for the Python API, the CLI and the server: flags beat the environment, bad values name
their source, secrets never show."""
from __future__ import annotations

import gc
import json
import subprocess
import sys

import httpx
import pytest

from outreach_connector import Connector
from outreach_connector.catalogue_folders import load_entries
from outreach_connector.connector import describe, operations
from outreach_connector.errors import CredentialsMissing, PluginError
from outreach_connector.registry import shared_registry
from outreach_connector.responses import LARGE_BODY, loads
from outreach_connector.server.settings import settings_from
from outreach_connector.settings import Settings, SettingsInvalid

from conftest import FakeOutreach


def test_the_environment_is_read_and_a_flag_wins_without_its_variable_being_parsed():
    env = {"OUTREACH_BASE_URL": "https://example.test/api/v2/", "OUTREACH_TIMEOUT": "bogus",
           "OUTREACH_MAX_RETRY_WAIT": "9", "OUTREACH_CONNECTOR_PLUGINS": " a , b "}
    settings = Settings.from_env(env, timeout="5")
    assert settings.base_url == "https://example.test/api/v2"
    assert settings.timeout == httpx.Timeout(5.0)
    assert settings.retry.max_total_wait == 9
    assert settings.plugin_names == ("a", "b")


def test_settings_built_at_once_from_two_environments_each_read_their_own(monkeypatch):
    """``layered`` hands its mapping to pydantic-settings' hook through a context variable: threads building at
    the same moment must not see each other's, and nothing is left set once they are done."""
    from concurrent.futures import ThreadPoolExecutor
    from outreach_connector.environment import _BUILDING_FROM
    from outreach_connector.server.settings import ServerSettings

    def built(n: int) -> tuple[str, float, object]:
        env = {"OUTREACH_BASE_URL": f"https://tenant{n}.example/api/v2",
               "OUTREACH_CONNECTOR_POLL_INTERVAL": str(10 + n), "OUTREACH_CONNECTOR_API_KEYS": f"key-{n}-" + "k" * 32}
        # what the building thread holds once both builds are done: nothing, each reset what it set
        return Settings.from_env(env).base_url, settings_from([], env).poll_interval, _BUILDING_FROM.get()

    monkeypatch.setenv("OUTREACH_CONNECTOR_POLL_INTERVAL", "99")  # the process's own: none of them reads it
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(built, range(40)))
    results.append(built(40))  # and one on this thread, whose context the pool's threads do not share
    assert results == [(f"https://tenant{n}.example/api/v2", 10.0 + n, None) for n in range(41)]
    assert _BUILDING_FROM.get() is None  # each build reset what it set
    assert ServerSettings(api_keys=("k" * 32,)).poll_interval == 60.0  # built in Python: no variable read


@pytest.mark.parametrize("env,flags,path", [
    pytest.param({"OUTREACH_TIMEOUT": "bogus"}, {}, "timeout (OUTREACH_TIMEOUT)", id="env-timeout"),
    pytest.param({}, {"max_retry_wait": "-1"}, "max_retry_wait (--max-retry-wait)", id="flag-retry-wait"),
    pytest.param({"OUTREACH_BASE_URL": "ftp://x"}, {}, "base_url (OUTREACH_BASE_URL)", id="env-base-url"),
    pytest.param({"OUTREACH_CONNECTOR_PLUGINS": "a;b"}, {}, "plugins (OUTREACH_CONNECTOR_PLUGINS)", id="plugins"),
    pytest.param({"OUTREACH_STRICT_OUTPUT": "perhaps"}, {}, "strict_output (OUTREACH_STRICT_OUTPUT)", id="strict"),
])
def test_a_bad_value_names_the_setting_and_where_it_came_from(env, flags, path):
    with pytest.raises(SettingsInvalid) as caught:
        Settings.from_env(env, **flags)
    assert [e["path"] for e in caught.value.errors] == [path]
    assert caught.value.exit_code == 2


def test_secrets_never_show_in_a_repr_or_an_error():
    settings = Settings.from_env({"OUTREACH_ACCESS_TOKEN": "canary-token-1", "OUTREACH_CLIENT_SECRET": "canary-2",
                                  "OUTREACH_REFRESH_TOKEN": "canary-3"})
    assert "canary" not in repr(settings) and "canary" not in str(settings)
    with pytest.raises(SettingsInvalid) as caught:
        Settings.from_env({"OUTREACH_ACCESS_TOKEN": "canary-token-1"}, timeout=["canary-4"])
    assert "canary" not in caught.value.message


def test_the_cli_reports_a_bad_setting_as_json_with_exit_2_and_the_flag_wins():
    command = [sys.executable, "-m", "outreach_connector.cli", "call", "list_stages", "{}", "--sandbox"]
    bad = subprocess.run(command, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin", "OUTREACH_TIMEOUT": "bogus"})
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert json.loads(bad.stderr)["errors"][0]["path"] == "timeout (OUTREACH_TIMEOUT)"
    good = subprocess.run(command + ["--timeout", "5"], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin", "OUTREACH_TIMEOUT": "bogus"})
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["data"][0]["type"] == "stage"


def test_serve_applies_timeout_and_retry_budget_to_its_outreach_calls():
    settings = settings_from(["--api-key", "k", "--timeout", "connect=2,read=7", "--max-retry-wait", "11",
                              "--outreach-base-url", "http://127.0.0.1:9/api/v2"], env={})
    assert settings.connector.timeout == httpx.Timeout(connect=2.0, read=7.0, write=60.0, pool=10.0)
    assert settings.connector.max_retry_wait == 11
    assert settings.connector.base_url == "http://127.0.0.1:9/api/v2"
    with pytest.raises(SettingsInvalid, match="timeout"):
        settings_from(["--api-key", "k", "--timeout", "never"], env={})


def test_the_retry_budget_bounds_a_connectors_token_requests_too():
    from outreach_connector.errors import RateLimited
    from oauth.fakes import CLIENT_ID, CLIENT_SECRET, TOKEN_URL, FakeOutreach as FakeTokenEndpoint

    outreach = FakeTokenEndpoint()
    outreach.queued_token_answers.append(httpx.Response(429, headers={"Retry-After": "200"}, json={}))
    conn = Connector(settings=Settings(base_url="https://api.outreach.test/api/v2", client_id=CLIENT_ID,
                                       client_secret=CLIENT_SECRET, refresh_token="refresh-0", token_url=TOKEN_URL,
                                       max_retry_wait=7),
                     transport=httpx.MockTransport(outreach.handler))
    with pytest.raises(RateLimited, match="exceeds the 7s budget"):  # the same budget as its API calls
        conn.call("list_stages", {})
    assert len(outreach.token_requests) == 1


def test_a_server_built_in_python_takes_the_process_plugin_choice_like_a_keyword_built_connector(monkeypatch):
    from outreach_connector.server.settings import ServerSettings

    monkeypatch.setenv("OUTREACH_CONNECTOR_PLUGINS", "stage_names")
    assert ServerSettings(api_keys=("k",)).connector.plugin_names == ("stage_names",)
    monkeypatch.setenv("OUTREACH_CONNECTOR_PLUGINS", "none")
    assert ServerSettings(api_keys=("k",), outreach_base_url="https://other.test/api/v2").connector.plugin_names == ()


def test_every_connector_shares_one_process_wide_catalogue():
    first = Connector(access_token="a")
    second = Connector(access_token="b", base_url="https://other.test/api/v2")
    assert first.registry is second.registry is shared_registry(())
    assert first.registry["get_prospect"].input_validator is second.registry["get_prospect"].input_validator


def test_the_core_catalogue_is_checked_at_load_but_compiled_on_first_use():
    from outreach_connector.catalogue_folders import CORE_OWNER
    from outreach_connector.registry import Registry, get_plugin_manager

    registry = Registry(get_plugin_manager(entry_points=False))
    entry = registry["list_stages"]
    assert entry.owner == CORE_OWNER == "outreach_connector.default_plugin"
    assert "input_validator" not in vars(entry)  # not compiled yet: start-up stays cheap
    assert entry.input_validator.is_valid({"page_size": 2}) and "input_validator" in vars(entry)


def test_listing_and_describing_need_no_credentials_and_calling_without_them_sends_nothing():
    core = len(load_entries())
    assert len(operations()) == core and core >= 95
    assert describe("get_prospect")["input_schema"]["required"] == ["prospect_id"]
    fake = FakeOutreach()  # fails the test on any request
    conn = Connector(transport=fake.transport)
    assert len(conn.operations()) == core
    with pytest.raises(CredentialsMissing, match="OUTREACH_ACCESS_TOKEN"):
        conn.call("list_stages", {})
    assert fake.requests == []


def test_an_unknown_plugin_name_is_refused_by_name():
    with pytest.raises(PluginError, match="'no-such-plugin' refused: no installed plugin"):
        Connector(access_token="t", settings=Settings(plugins="no-such-plugin"))


def collections_during(decode) -> int:
    """How many cyclic-GC runs happened while ``decode`` ran."""
    runs = []

    def count(phase, info):
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(count)
    try:
        decode()
    finally:
        gc.callbacks.remove(count)
    return len(runs)


def test_the_collector_runs_during_large_decodes_unless_the_host_opts_in_to_pausing_it():
    body = json.dumps({"data": [{"id": i, "attributes": {"a": [i], "b": {"c": i}}} for i in range(20000)]}).encode()
    assert len(body) >= LARGE_BODY and gc.isenabled()
    # ~80,000 new containers trip a generation-0 run every 700 allocations; paused, at most the one that may
    # fall due as the decode returns.
    assert collections_during(lambda: loads(body)) >= 20
    assert collections_during(lambda: loads(body, pause_gc=True)) <= 1
    assert gc.isenabled()
    assert Connector(access_token="t").sender.pause_gc is False
    assert Connector(access_token="t", settings=Settings(pause_gc_on_large_bodies=True)).sender.pause_gc is True


def test_settings_built_directly_read_no_variable(monkeypatch):
    monkeypatch.setenv("OUTREACH_REFRESH_TOKEN", "another-tenants-token")
    monkeypatch.setenv("OUTREACH_TIMEOUT", "1")
    settings = Settings(access_token="t")
    assert settings.refresh_token is None and settings.timeout.read == 60
    assert Settings.from_env().refresh_token.get_secret_value() == "another-tenants-token"


def test_a_keyword_built_connector_reads_the_plugin_choice_without_importing_pydantic_settings():
    """pydantic-settings costs ~20 ms of imports: readers of a whole environment pay it, a host's Connector not."""
    script = ("import sys; from outreach_connector import Connector; c = Connector(access_token='t'); "
              "print(c.settings.plugin_names, 'pydantic_settings' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin", "OUTREACH_CONNECTOR_PLUGINS": "none"})
    assert done.stdout.split() == ["()", "False"], done.stderr


def test_every_setting_names_its_variable_once_on_its_field():
    from outreach_connector.settings import ENVIRONMENT

    assert ENVIRONMENT == {
        "base_url": "OUTREACH_BASE_URL", "access_token": "OUTREACH_ACCESS_TOKEN", "client_id": "OUTREACH_CLIENT_ID",
        "client_secret": "OUTREACH_CLIENT_SECRET", "refresh_token": "OUTREACH_REFRESH_TOKEN",
        "token_url": "OUTREACH_TOKEN_URL", "timeout": "OUTREACH_TIMEOUT", "max_retry_wait": "OUTREACH_MAX_RETRY_WAIT",
        "plugins": "OUTREACH_CONNECTOR_PLUGINS", "strict_output": "OUTREACH_STRICT_OUTPUT",
        "pause_gc_on_large_bodies": "OUTREACH_PAUSE_GC_ON_LARGE_BODIES"}

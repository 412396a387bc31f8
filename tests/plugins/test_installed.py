"""What a host gets from ``pip install``: the built wheel in a fresh venv, run from a folder outside the checkout.

One module-scoped venv walks the install path a host takes: the core wheel alone (Python API, ``operations``,
a clear error for ``--sandbox``), then the ``sandbox`` extra, then the README's example plugin.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from outreach_connector.catalogue_folders import load_entries
from outreach_sandbox import Sandbox, SandboxConfig
from outreach_sandbox.server import serving

from .readme_plugin import write_readme_plugin

# One worker runs these in file order: they share one venv that grows as a host's would.
pytestmark = pytest.mark.xdist_group("installed-wheel")

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, check: bool = True):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONNOUSERSITE": "1", **(env or {})})
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result


def clean_copy(target: Path) -> Path:
    """The checkout's files as git sees them (tracked, or untracked and not ignored), links kept as links: a
    stale ``build/`` folder or a local ``.venv`` never leaks into the wheel under test."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, copy = ROOT / name, target / name
        if source.exists() or source.is_symlink():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy, follow_symlinks=False)
    return target


def build_wheel(project: Path, into: Path) -> Path:
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check", "-w", str(into),
         str(project)], cwd=into)
    return next(into.glob(f"{project.name.replace('-', '_')}-*.whl"))


class Host:
    """A fresh venv outside the checkout, with the checkout's variables scrubbed from its environment."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.work = home / "work"
        self.work.mkdir()
        venv.EnvBuilder(with_pip=True).create(home / "venv")
        self.bin = home / "venv" / "bin"
        self.env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "VIRTUAL_ENV": str(home / "venv")}
        self.env.update({name: "" for name in os.environ if name.startswith("OUTREACH_")})
        self.env["OUTREACH_CONNECTOR_PLUGINS"] = "all"  # a host's default, unlike this suite's

    def pip_install(self, *targets: str) -> None:
        run([str(self.bin / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", str(LOCK),
             *targets], cwd=self.work, env=self.env)

    def cli(self, *args: str, check: bool = True, **env: str):
        return run([str(self.bin / "outreach-connector"), *args], cwd=self.work, env={**self.env, **env},
                   check=check)

    def python(self, code: str, **env: str):
        return run([str(self.bin / "python"), "-c", code], cwd=self.work, env={**self.env, **env})


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    plugin = write_readme_plugin(tmp_path_factory.mktemp("plugin") / "outreach-stage-names")
    core = clean_copy(tmp_path_factory.mktemp("checkout") / "outreach_connector")
    return {"core": build_wheel(core, out), "plugin": build_wheel(plugin, out)}


@pytest.fixture(scope="module")
def host(tmp_path_factory, wheels) -> Host:
    host = Host(tmp_path_factory.mktemp("host"))
    host.pip_install(str(wheels["core"]))
    return host


@pytest.fixture(scope="module")
def loopback_sandbox():
    with serving(Sandbox(SandboxConfig())) as base_url:
        yield base_url


def test_the_wheel_carries_the_catalogue(wheels):
    import zipfile

    names = zipfile.ZipFile(wheels["core"]).namelist()
    for part in ("outreach_connector/catalogue/connector.yaml", "outreach_connector/catalogue/operations/",
                 "outreach_connector/catalogue/ddl/", "outreach_connector/catalogue/schemas/resources/",
                 "outreach_sandbox/data/resources/prospect.json"):
        assert any(name.startswith(part) for name in names), part


def test_the_core_install_lists_operations_from_outside_the_checkout(host):
    listed = json.loads(host.cli("operations", "--json").stdout)
    assert [op["name"] for op in listed] == [spec.name for spec in load_entries()]  # the checkout's catalogue
    assert sum(op["origin"] == "seed" for op in listed) == 95
    where = host.python("import outreach_connector; print(outreach_connector.__file__)").stdout
    assert where.startswith(str(host.home)) and not where.startswith(str(ROOT))


def test_the_python_api_calls_a_sandbox_over_a_socket_with_no_server_packages(host, loopback_sandbox):
    code = ("import json, sys; from outreach_connector import Connector\n"
            f"c = Connector(base_url={loopback_sandbox!r}, access_token='sandbox-access-token')\n"
            "page = c.call('list_stages', {'page_size': 2})\n"
            "print(json.dumps({'ids': [r['id'] for r in page['data']],\n"
            "  'server_modules': sorted(m for m in sys.modules if m.split('.')[0] in "
            "('starlette', 'uvicorn', 'cryptography', 'psycopg', 'mcp', 'mcp_types'))}))")
    result = json.loads(host.python(code).stdout)
    assert result == {"ids": [1, 2], "server_modules": []}


def test_the_sandbox_needs_its_extra_and_says_so(host):
    missing = host.cli("call", "list_stages", '{"page_size": 2}', "--sandbox", check=False)
    assert missing.returncode == 2
    assert json.loads(missing.stderr)["error"] == "ExtraMissing" and "outreach-connector[sandbox]" in missing.stderr


def test_describe_works_on_the_core_install_and_says_it_did_not_try_the_sandbox(host):
    described = host.cli("describe", "get_stage")
    lines = described.stdout.splitlines()
    assert described.stderr == "" and lines[0] == "get_stage: Get stage (get)"
    assert lines[-2].startswith("Try it: outreach-connector call get_stage ") and lines[-2].endswith(" --sandbox")
    assert lines[-1] == ("  (not tried against a sandbox: the 'sandbox' extra is not installed; "
                         "pip install 'outreach-connector[sandbox]' to run the line above)")


def serve_refusal(host) -> dict:
    refused = host.cli("serve", "--api-key", "k", "--port", "0", check=False)
    assert refused.returncode == 2 and refused.stdout == "", refused.stderr
    return json.loads(refused.stderr)


def test_serve_on_the_core_install_names_the_server_extra_first(host):
    """starlette is the first module serve misses, and the sandbox extra brings it too: the server extra
    is the one that makes serve work."""
    assert serve_refusal(host) == {"error": "ExtraMissing", "message": (
        "this command needs 'starlette', which the 'server' extra installs: "
        "pip install 'outreach-connector[server]' (or [server,sandbox] for both)")}


def test_mcp_needs_its_extra_and_says_so(host):
    missing = host.cli("mcp", "--sandbox", check=False)
    assert missing.returncode == 2
    assert json.loads(missing.stderr)["error"] == "ExtraMissing" and "outreach-connector[mcp]" in missing.stderr


def test_with_the_sandbox_extra_the_cli_calls_the_in_process_sandbox(host, wheels):
    host.pip_install(f"{wheels['core']}[sandbox]")
    page = json.loads(host.cli("call", "list_stages", '{"page_size": 2}', "--sandbox").stdout)
    assert [r["type"] for r in page["data"]] == ["stage", "stage"]


def test_serve_with_only_the_sandbox_extra_still_names_the_server_extra(host):
    assert "pip install 'outreach-connector[server]'" in serve_refusal(host)["message"]


def test_an_installed_plugin_is_listed_runs_and_can_be_left_out(host, wheels):
    host.pip_install(f"{wheels['core']}[sandbox]", str(wheels["plugin"]))
    names = [op["name"] for op in json.loads(host.cli("operations", "--json").stdout)]
    assert names == [spec.name for spec in load_entries()] + ["list_stage_names"]
    page = json.loads(host.cli("call", "list_stage_names", '{"page_size": 3, "fields": ["name"]}', "--sandbox").stdout)
    assert len(page["data"]) == 3 and all(set(r["attributes"]) == {"name"} for r in page["data"])
    from_plugins = json.loads(host.cli("operations", "--json", "--origin", "plugin").stdout)
    assert [(op["name"], op["origin"]) for op in from_plugins] == [("list_stage_names", "plugin")]
    core_only = json.loads(host.cli("operations", "--json", OUTREACH_CONNECTOR_PLUGINS="none").stdout)
    assert len(core_only) == len(load_entries())
    refused = host.cli("operations", check=False, OUTREACH_CONNECTOR_PLUGINS="stage_names,nope")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert json.loads(refused.stderr) == {
        "error": "PluginError", "plugin": "nope", "file": None,
        "message": "plugin 'nope' refused: no installed plugin has this entry-point name (installed: stage_names); "
                   "to start without it: OUTREACH_CONNECTOR_PLUGINS=none (no installed plugins), or name the ones "
                   "to load, comma-separated"}


def test_the_readmes_install_table_names_what_each_extra_brings():
    import re
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for extra in ("server", "sandbox"):
        row = re.search(rf"^\| `{extra}` \| (?P<brings>[^|]+) \|", readme, re.MULTILINE)
        assert row is not None, extra
        wanted = [re.match(r"[A-Za-z0-9_-]+", requirement)[0] for requirement in extras[extra]]
        assert [name.strip() for name in row["brings"].split(",")] == wanted

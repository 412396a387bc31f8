"""tools/ is one package (issue 18 item 8): every module imports as ``tools.NAME`` and none edits ``sys.path``;
``python -m tools`` runs every generator; the package's docstring names every module."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import tools
from conftest import ROOT
from tools.__main__ import GENERATORS

MODULES = sorted(path.stem for path in (ROOT / "tools").glob("*.py") if not path.stem.startswith("__"))


@pytest.mark.parametrize("name", MODULES)
def test_each_tool_is_a_module_of_the_package_and_leaves_sys_path_alone(name, monkeypatch):
    monkeypatch.delitem(sys.modules, f"tools.{name}", raising=False)  # imported afresh, even when collected earlier
    before = list(sys.path)
    module = importlib.import_module(f"tools.{name}")
    assert sys.path == before
    assert "sys.path" not in (ROOT / "tools" / f"{name}.py").read_text(encoding="utf-8")
    assert module.__doc__  # what it does, and how to run it when it runs


def test_python_dash_m_tools_runs_every_generator_and_the_docstring_names_every_module():
    assert set(GENERATORS) == {name for name in MODULES if name.startswith("gen_")}
    assert GENERATORS[-1] == "gen_catalogue_index"  # the parsed entries, once every entry file is written
    listed = {line.split()[0] for line in tools.__doc__.splitlines() if line.startswith("    ")}
    helpers = {"generated", "observed", "create_requirements", "editor_fields"}  # used by generators, not run
    assert listed | helpers == set(MODULES)
    assert all(f"``{name}``" in tools.__doc__ for name in helpers)


def test_the_generators_run_as_modules_from_the_checkout():
    result = subprocess.run([sys.executable, "-m", "tools", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m tools [-h] [--check]")

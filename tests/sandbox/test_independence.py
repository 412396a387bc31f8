"""The sandbox must never import the connector: the two are checked against each other."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import outreach_sandbox

PACKAGE = Path(outreach_sandbox.__file__).resolve().parent
FORBIDDEN = "outreach_connector"
DYNAMIC_IMPORT = re.compile(r"(import_module|__import__)\(\s*['\"]" + FORBIDDEN)


def imported_modules(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_of_the_sandbox_imports_the_connector():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(PACKAGE)): sorted(m for m in imported_modules(f.read_text())
                                                     if m.split(".")[0] == FORBIDDEN) for f in files}
    assert {f: m for f, m in offenders.items() if m} == {}
    assert [f.name for f in files if DYNAMIC_IMPORT.search(f.read_text())] == []


def test_importing_and_running_the_sandbox_loads_no_connector_module():
    script = ("import sys, httpx, outreach_sandbox as s; sb = s.Sandbox(); "
              "c = httpx.Client(transport=sb.transport(), base_url='http://t/api/v2', "
              "headers={'Authorization': 'Bearer sandbox-access-token'}); assert c.get('/users/1').status_code == 200; "
              f"print(sorted(m for m in sys.modules if m.startswith('{FORBIDDEN}')))")
    env_path = str(PACKAGE.parent)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

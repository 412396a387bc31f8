"""``./run`` (item 8): the Python version first, a broken ``.venv`` rebuilt, ``./run help`` (and ``./run`` alone),
commands in the caller's directory.

A stand-in interpreter (a shell script named by ``PYTHON=``) plays an old Python, a venv creator and a pip
that fails or succeeds on demand, so these run in milliseconds and offline. A real interpreter older than
3.11, when the machine has one, is tried as well.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_PYTHON = r"""#!/usr/bin/env bash
# stand-in interpreter: FAKE_VERSION, FAKE_PIP_FAIL, FAKE_RUN, FAKE_LOG, FAKE_*_EXIT come from the test
[ -n "${FAKE_BROKEN:-}" ] && { echo "pyenv: python3.10: command not found" >&2; exit 127; }
case "$1 ${2:-}" in
  "-c "*version_info*) [ "$FAKE_VERSION" = "3.10.12" ] && exit 1; exit 0 ;;
  "-c "*python_version*) echo "$FAKE_VERSION"; exit 0 ;;
  "-m venv") mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; echo "$FAKE_RUN" > "$3/made-by"; exit 0 ;;
  "-m pip") if [ -n "${FAKE_PIP_FAIL:-}" ]; then echo "ERROR: No matching distribution found" >&2; exit 1; fi; exit 0 ;;
  "-m ruff") echo "ruff ${*:3} in $PWD" >> "$FAKE_LOG"; exit "${FAKE_RUFF_EXIT:-0}" ;;
  "-m mypy") echo "mypy${3:+ ${*:3}} in $PWD" >> "$FAKE_LOG"; exit "${FAKE_MYPY_EXIT:-0}" ;;
esac
exit 0
"""


@pytest.fixture
def checkout(tmp_path):
    for name in ("run", "requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    return tmp_path


def run(checkout: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ["PATH"], "HOME": str(checkout), "PYTHON": str(checkout / "fake-python"),
                   "FAKE_VERSION": "3.11.7", **env}
    return subprocess.run(["bash", str(checkout / "run"), *args], capture_output=True, text=True, timeout=60,
                          env=environment, cwd=cwd)


def test_an_old_interpreter_is_named_before_anything_is_written(checkout):
    result = run(checkout, "true", FAKE_VERSION="3.10.12")
    assert result.returncode == 1
    assert result.stderr == (f"./run: Python 3.11 or newer is needed, but '{checkout / 'fake-python'}' is 3.10.12: "
                             "install 3.11+ or name one with PYTHON= (PYTHON=/path/to/python3.11 ./run)\n")
    assert not (checkout / ".venv").exists()


def test_a_missing_interpreter_is_named(checkout):
    result = run(checkout, "true", PYTHON="python3-that-does-not-exist")
    assert result.returncode == 1 and "no 'python3-that-does-not-exist' found" in result.stderr
    assert "PYTHON=" in result.stderr


def test_an_interpreter_that_does_not_start_says_why(checkout):
    """A pyenv shim for a version pyenv has not selected exists on PATH but fails on every run."""
    result = run(checkout, "true", FAKE_BROKEN="1")
    assert result.returncode == 1
    assert result.stderr == (f"./run: '{checkout / 'fake-python'}' does not start (pyenv: python3.10: command not "
                             "found): install Python 3.11 or newer, or name one with PYTHON= "
                             "(PYTHON=/path/to/python3.11 ./run)\n")
    assert not (checkout / ".venv").exists()


def test_a_venv_left_by_a_failed_setup_is_rebuilt(checkout):
    failed = run(checkout, "true", FAKE_PIP_FAIL="1", FAKE_RUN="first")
    assert failed.returncode != 0 and (checkout / ".venv" / "made-by").read_text() == "first\n"
    rebuilt = run(checkout, "true", FAKE_RUN="second")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilding .venv (the last setup did not finish)" in rebuilt.stderr
    assert (checkout / ".venv" / "made-by").read_text() == "second\n"
    again = run(checkout, "true", FAKE_RUN="third")  # set up: nothing to do
    assert (again.returncode, again.stderr) == (0, "")
    assert (checkout / ".venv" / "made-by").read_text() == "second\n"


@pytest.mark.parametrize("word", ["help", "--help", "-h"])
def test_help_answers_without_setting_anything_up(checkout, word):
    result = run(checkout, word, PYTHON="python3-that-does-not-exist")
    assert result.returncode == 0 and result.stdout.startswith("usage: ./run TASK [ARGS...]")
    assert "Python 3.11 or newer" in result.stdout and "PYTHON=" in result.stdout
    assert not (checkout / ".venv").exists()


def test_no_task_prints_the_help_and_runs_nothing(checkout):
    """A first ``./run`` must not start a two-worker test suite."""
    result = run(checkout, PYTHON="python3-that-does-not-exist")
    assert result.returncode == 0 and result.stdout.startswith("usage: ./run TASK [ARGS...]")
    assert "./run help              this text (also ./run with no task)" in result.stdout
    assert not (checkout / ".venv").exists()


def test_a_command_runs_in_the_callers_directory_with_the_checkouts_venv(checkout, tmp_path_factory):
    """``./run outreach-connector call x @input.json --database ./my.db`` from elsewhere reads and writes there."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    relative_python = os.path.relpath(checkout / "fake-python", elsewhere)  # PYTHON= relative to the caller too
    result = run(checkout, "sh", "-c", 'pwd; command -v python', cwd=elsewhere, PYTHON=relative_python)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(elsewhere), str(checkout / ".venv" / "bin" / "python")]
    assert not (elsewhere / ".venv").exists()


@pytest.mark.parametrize("ruff_exit,mypy_exit,expected", [
    pytest.param("0", "0", 0, id="both-clean"),
    pytest.param("1", "0", 1, id="ruff-finds"),
    pytest.param("0", "1", 1, id="mypy-finds"),
    pytest.param("1", "2", 1, id="both-find"),
])
def test_lint_runs_ruff_then_mypy_in_the_checkout_and_fails_when_either_does(checkout, tmp_path_factory,
                                                                             ruff_exit, mypy_exit, expected):
    """CI's ``./run lint``: both always run (one log shows every finding); ARGS go to ruff; mypy reads its
    files from pyproject.toml."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    log = elsewhere / "calls.log"
    result = run(checkout, "lint", "--statistics", cwd=elsewhere, FAKE_LOG=str(log), FAKE_RUFF_EXIT=ruff_exit,
                 FAKE_MYPY_EXIT=mypy_exit)
    assert result.returncode == expected, result.stderr
    assert log.read_text().splitlines() == [f"ruff check src tests tools --statistics in {checkout}",
                                            f"mypy in {checkout}"]


def old_interpreters() -> list[tuple[str, str]]:
    """(path, version) of every real interpreter older than 3.11 on this machine (pyenv's, the system's)."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python")) +
                        glob.glob("/usr/bin/python3.[0-9]") + glob.glob("/usr/bin/python3.10"))
    found = []
    for path in candidates:
        try:
            version = subprocess.run([path, "-c", "import platform; print(platform.python_version())"],
                                     capture_output=True, text=True, timeout=20).stdout.strip()
        except OSError:
            continue
        if version and tuple(int(part) for part in version.split(".")[:2]) < (3, 11):
            found.append((path, version))
    return found


OLD_INTERPRETERS = old_interpreters()


@pytest.mark.skipif(not OLD_INTERPRETERS, reason="no Python older than 3.11 on this machine")
@pytest.mark.parametrize("path,version", [pytest.param(p, v, id=v) for p, v in OLD_INTERPRETERS])
def test_a_real_old_interpreter_is_refused_before_anything_is_written(checkout, path, version):
    result = run(checkout, "demo", PYTHON=path)
    assert result.returncode == 1
    assert result.stderr == (f"./run: Python 3.11 or newer is needed, but '{path}' is {version}: install 3.11+ "
                             "or name one with PYTHON= (PYTHON=/path/to/python3.11 ./run)\n")
    assert not (checkout / ".venv").exists()

"""CLI tests: each runs with its own config directory and without the caller's Outreach credentials."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from outreach_connector.cli import main
from outreach_connector.cli.session import CREDENTIAL_VARIABLES


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def error(self) -> dict[str, Any]:
        return json.loads(self.err)

    @property
    def output(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    path = tmp_path / "config"
    monkeypatch.setenv("OUTREACH_CONNECTOR_CONFIG_DIR", str(path))
    for variable in CREDENTIAL_VARIABLES | {"OUTREACH_BASE_URL"}:
        monkeypatch.delenv(variable, raising=False)
    return path


@pytest.fixture
def cli(capsys):
    def run(*argv: str) -> Result:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run

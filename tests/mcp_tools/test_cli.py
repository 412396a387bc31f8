"""The ``mcp`` command line: its help states the presets and sizes; without the SDK it says which extra."""
from __future__ import annotations

import json
import sys

from outreach_connector.cli import main


def test_help_names_the_presets_and_the_default(capsys):
    try:
        main(["mcp", "--help"])
    except SystemExit as done:
        assert done.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "--tools PRESET" in shown and "(default: seed)" in shown
    assert "seed (the default) 95 tools" in shown


def test_without_the_sdk_the_command_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mcp", None)  # as if the [mcp] extra were not installed
    assert main(["mcp", "--sandbox"]) == 2
    error = json.loads(capsys.readouterr().err)
    assert error["error"] == "ExtraMissing"
    assert error["message"] == ("this command needs 'mcp', which the 'mcp' extra installs: "
                                "pip install 'outreach-connector[mcp]'")


def test_serve_takes_its_mcp_tools_from_the_flag_then_the_environment():
    from outreach_connector.server.settings import settings_from

    env = {"OUTREACH_CONNECTOR_MCP_TOOLS": "read"}
    assert settings_from(["--api-key", "k"], env={}).mcp_tools == "seed"
    assert settings_from(["--api-key", "k"], env=env).mcp_tools == "read"
    assert settings_from(["--api-key", "k", "--mcp-tools", "all"], env=env).mcp_tools == "all"

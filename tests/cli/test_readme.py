"""The README's Quickstart and CLI sections show commands the CLI accepts (Done-when of issue 13)."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from outreach_connector.cli.parser import parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def shown_commands():
    for title in ("Quickstart", "CLI"):
        for block in re.findall(r"```sh\n(.*?)```", section(title), re.S):
            for line in block.splitlines():
                words = shlex.split(line.split("#", 1)[0].split("&")[0], posix=True)
                words = words[1:] if words[:1] == ["./run"] else words
                while words and "=" in words[0]:  # VAR=value prefixes
                    words = words[1:]
                if words[:1] == ["outreach-connector"] and words[1:2] not in (["sandbox"], ["serve"]):
                    yield pytest.param(words[1:], id=" ".join(words[1:3]))


@pytest.mark.parametrize("argv", list(shown_commands()))
def test_every_command_the_readme_shows_parses(argv):
    args = parser().parse_args(argv)
    assert args.command in ("operations", "describe", "schema", "call", "auth")


def test_the_readme_names_every_subcommand_and_the_exit_codes():
    cli = section("CLI")
    for command in ("operations", "describe", "schema", "call", "auth login | status | logout", "--version",
                    "--verbose", "--strict", "--profile", "--sandbox"):
        assert command in cli, command
    assert "2 invalid input or a local configuration problem" in cli

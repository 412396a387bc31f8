"""Help that teaches (items 2 and 7): every subcommand, option and argument described, defaults shown."""
from __future__ import annotations

import argparse
import re

import pytest

from outreach_connector.cli import version
from outreach_connector.cli.parser import parser
from outreach_sandbox.server import parser as sandbox_parser


def every_parser(top: argparse.ArgumentParser):
    yield top.prog, top
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from every_parser(sub)


def described_actions():
    for prog, each in every_parser(parser()):
        for action in each._actions:
            if not isinstance(action, argparse._SubParsersAction):
                yield pytest.param(action, id=f"{prog} {'/'.join(action.option_strings) or action.dest}")
        for action in each._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    yield pytest.param(choice, id=f"{prog} {choice.dest}")


@pytest.mark.parametrize("action", list(described_actions()))
def test_every_option_argument_and_subcommand_is_described(action):
    assert action.help and len(action.help) > 8


@pytest.mark.parametrize("action", [pytest.param(a, id="/".join(a.option_strings) or a.dest)
                                    for a in sandbox_parser()._actions])
def test_every_sandbox_option_is_described(action):
    assert action.help


def test_options_with_values_state_their_default():
    for _, each in every_parser(parser()):
        for action in each._actions:
            if action.option_strings and action.nargs != 0 and action.dest != "help":
                assert "default" in action.help, action.option_strings


def test_top_help_has_no_markup_and_lists_exit_codes(cli):
    with pytest.raises(SystemExit):
        cli("--help")
    text = parser().format_help()
    assert "`" not in text and ":mod:" not in text
    assert "Exit status: 0 success, 2 invalid input or local configuration, 3 Outreach-side" in text
    for command in ("operations", "describe", "schema", "call", "auth", "serve", "sandbox", "demo"):
        assert re.search(rf"^    {command}\b", text, re.M), command


def test_no_help_text_has_markup(capsys):
    from outreach_connector.cli import main

    for prog, each in every_parser(parser()):
        assert "`" not in each.format_help() and ":mod:" not in each.format_help(), prog
    with pytest.raises(SystemExit):
        main(["sandbox", "--help"])
    assert "`" not in capsys.readouterr().out


def test_help_lines_fit_the_width():
    for prog, each in every_parser(parser()):
        assert max(map(len, each.format_help().splitlines())) <= 110, prog


def test_call_help_says_each_sandbox_call_is_fresh_and_how_to_chain():
    call = next(p for prog, p in every_parser(parser()) if prog.endswith(" call"))
    sandbox = next(a for a in call._actions if "--sandbox" in a.option_strings)
    assert "each call gets a new sandbox" in sandbox.help and "--base-url" in sandbox.help


def test_version(cli):
    result = cli("--version")
    assert (result.code, result.out) == (0, f"outreach-connector {version()}\n")
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version())


def test_no_command_prints_help_and_exits_2(cli):
    result = cli()
    assert result.code == 2 and "usage: outreach-connector" in result.out


def test_sandbox_help_text(capsys):
    from outreach_connector.cli import main

    with pytest.raises(SystemExit):
        main(["sandbox", "--help"])
    text = capsys.readouterr().out
    assert text.startswith("usage: outreach-connector sandbox ")
    for default in ("(default: 8090)", "(default: sandbox-client-id)", "(default: sandbox-client-secret)",
                    "(default: sandbox-refresh-token)", "(default: sandbox-auth-code)",
                    "(default: sandbox-access-token)"):
        assert default in " ".join(text.split()), default
    assert "(default: False)" not in text and "accept requests without a bearer token (default: off)" in text


def test_sandbox_start_line_names_its_credentials_and_token_url():
    from outreach_sandbox import SandboxConfig
    from outreach_sandbox.server import start_line

    line = start_line("http://127.0.0.1:8090/api/v2", SandboxConfig())
    assert line == ("Outreach sandbox at http://127.0.0.1:8090/api/v2 (token endpoint "
                    "http://127.0.0.1:8090/oauth/token, consent page http://127.0.0.1:8090/oauth/authorize); "
                    "credentials: access token 'sandbox-access-token', "
                    "client id 'sandbox-client-id', client secret 'sandbox-client-secret', refresh token "
                    "'sandbox-refresh-token' (rotated on first use), authorization code 'sandbox-auth-code'")


@pytest.mark.parametrize("command", ["call", "serve"])
def test_max_retry_wait_help_says_what_it_bounds(command):
    """It counts failed attempts and refresh waits too, not only the sleeps between retries."""
    from outreach_connector.server.settings import build_parser

    found = parser() if command == "call" else build_parser()
    if command == "call":
        found = next(p for prog, p in every_parser(found) if prog.endswith(" call"))
    option = next(a for a in found._actions if "--max-retry-wait" in a.option_strings)
    assert option.help.startswith(
        "seconds each request to Outreach (each page on its own) may take from its first try until it gives up: "
        "waits between attempts (backoff, Retry-After, rate-limit pacing), failed attempts (timeouts included) "
        "and waits for a token refresh all count; no attempt starts once they are spent, so a request ends "
        "within this plus one attempt's timeouts (")

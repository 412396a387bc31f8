"""The command line: every subcommand, option and argument with its help and default."""
from __future__ import annotations

import argparse
import re

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import UsageError as UsageError
from ..settings import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, MAX_RETRY_WAIT_HELP
from ..suggest import did_you_mean

DESCRIPTION = """\
outreach-connector: list the Outreach operations, describe them, call them, and run the Connectors API
server, the Outreach sandbox or the demo.

Output JSON goes to stdout; errors go to stderr as one JSON object.
Exit status: 0 success, 2 invalid input or local configuration, 3 Outreach-side or auth failure,
1 anything else."""

CREDENTIALS = f"""\
credentials (first match wins):
  --sandbox                   none needed: an in-process sandbox (the credentials below are ignored)
  --profile NAME              a login stored by: outreach-connector auth login --profile NAME
  OUTREACH_ACCESS_TOKEN       a bearer token
  OUTREACH_CLIENT_ID, OUTREACH_CLIENT_SECRET, OUTREACH_REFRESH_TOKEN (and OUTREACH_TOKEN_URL, default
                              {DEFAULT_TOKEN_URL}): OAuth refresh; each rotated
                              refresh token is stored under OUTREACH_CONNECTOR_CONFIG_DIR (default
                              ~/.config/outreach-connector, mode 0600) and used by the next run
  a login stored by: outreach-connector auth login (profile "default")"""

CALL_EPILOG = CREDENTIALS + """

examples:
  outreach-connector call list_stages '{"page_size": 5}' --sandbox
  outreach-connector call get_prospect @input.json --verbose
  echo '{"stage_id": 2}' | outreach-connector call get_stage - --base-url http://127.0.0.1:8090/api/v2"""


class Parser(argparse.ArgumentParser):
    """Reports a usage mistake as the CLI reports every error (JSON on stderr), with a did-you-mean."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}{suggestion(message)}; see {self.prog} --help")


def suggestion(message: str) -> str:
    """For argparse's "invalid choice: 'x' (choose from 'a', 'b')": the closest choices."""
    found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    return did_you_mean(found.group(1), re.findall(r"'([^']*)'", found.group(2))) if found else ""


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of a description that has them (else wraps it); wider option column."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=110)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, width, indent)


def add_session_options(command: argparse.ArgumentParser) -> None:
    """Where Outreach is and how to reach it: shared by call and mcp."""
    command.add_argument("--base-url",
                         help=f"Outreach API base URL (default: OUTREACH_BASE_URL, else {DEFAULT_BASE_URL})")
    command.add_argument("--profile", metavar="NAME", help="use a login stored by auth login --profile NAME "
                                                           "(default: the environment's credentials)")
    command.add_argument("--timeout", help="HTTP timeouts: seconds for all, or connect=5,read=60,write=60,pool=5 "
                                           "(default: OUTREACH_TIMEOUT, else connect 10 s, read/write 60 s, pool 10 s)")
    command.add_argument("--max-retry-wait", metavar="SECONDS",
                         help=f"{MAX_RETRY_WAIT_HELP} (default: OUTREACH_MAX_RETRY_WAIT, else 60)")


def add_call_options(call: argparse.ArgumentParser) -> None:
    call.add_argument("name", help="the operation, e.g. list_prospects (see: outreach-connector operations)")
    call.add_argument("input", nargs="?", metavar="INPUT",
                      help="the input: inline JSON, @FILE, or - to read stdin (default: {})")
    call.add_argument("--sandbox", action="store_true",
                      help="run against a fresh in-process Outreach sandbox, no credentials needed; each call "
                           "gets a new sandbox, so nothing it creates survives to the next call (to chain "
                           "calls, run outreach-connector sandbox --port 8090 and pass --base-url)")
    add_session_options(call)
    call.add_argument("--verbose", action="store_true",
                      help="print each HTTP request on stderr: method, URL, status, time, retries and waits "
                           "(never a token) (default: off)")
    call.add_argument("--strict", action="store_true",
                      help="fail on any output that drifts from the documented schema, instead of reporting "
                           "the drift and returning the record as sent (default: OUTREACH_STRICT_OUTPUT, else off)")


def add_auth(sub: argparse._SubParsersAction) -> None:
    auth = sub.add_parser("auth", formatter_class=Formatter, help="store, show or forget OAuth logins",
                          description="Stored OAuth logins (in OUTREACH_CONNECTOR_CONFIG_DIR, default "
                                      "~/.config/outreach-connector/credentials.json, mode 0600).")
    actions = auth.add_subparsers(dest="auth_command", required=True, metavar="{login,status,logout}")
    login = actions.add_parser("login", formatter_class=Formatter, help="store OAuth credentials as a profile",
                               description="Store OAuth credentials from OUTREACH_CLIENT_ID, OUTREACH_CLIENT_SECRET, "
                                           "OUTREACH_REFRESH_TOKEN and OUTREACH_TOKEN_URL (flags win) as a profile; "
                                           "later calls use it with --profile NAME (or by default, for "
                                           "profile \"default\", when the environment has no credentials).")
    login.add_argument("--profile", default="default", metavar="NAME", help="profile name (default: default)")
    login.add_argument("--client-id", help="OAuth client id (default: OUTREACH_CLIENT_ID)")
    login.add_argument("--token-url",
                       help=f"OAuth token endpoint (default: OUTREACH_TOKEN_URL, else {DEFAULT_TOKEN_URL})")
    login.add_argument("--base-url",
                       help=f"Outreach API base URL (default: OUTREACH_BASE_URL, else {DEFAULT_BASE_URL})")
    add_browser_login(login)
    actions.add_parser("status", formatter_class=Formatter, help="list stored logins (never a secret)",
                       description="List stored logins as JSON: profile, client id, token URL, expiry; never a "
                                   "token or secret.")
    logout = actions.add_parser("logout", formatter_class=Formatter, help="forget a stored login",
                                description="Forget the stored tokens and secrets of a profile (or all).")
    logout.add_argument("--profile", default="default", metavar="NAME", help="profile to forget (default: default)")
    logout.add_argument("--all", action="store_true", help="forget every stored login (default: off)")


def add_browser_login(login: argparse.ArgumentParser) -> None:
    """``auth login --browser``: the consent flow with a loopback redirect (cli/browser_login.py)."""
    login.add_argument("--browser", action="store_true",
                       help="connect through Outreach's consent page instead of OUTREACH_REFRESH_TOKEN: needs "
                            "OUTREACH_CLIENT_ID and OUTREACH_CLIENT_SECRET; the redirect URI to register is "
                            "http://127.0.0.1:PORT/callback (default: off)")
    login.add_argument("--port", type=int, default=8765, help="with --browser: the loopback port (default: 8765)")
    login.add_argument("--no-browser", action="store_true",
                       help="with --browser: only print the address to open; the address the browser is sent back "
                            "to may also be pasted on stdin (default: off)")
    login.add_argument("--timeout", type=float, default=300.0,
                       help="with --browser: seconds to wait for the browser (default: 300)")
    login.add_argument("--scope", action="append", metavar="SCOPE",
                       help="with --browser: a scope to ask for, repeatable (default: connector.yaml's scopes)")
    login.add_argument("--authorize-url", help="with --browser: Outreach's consent page (default: "
                                               "OUTREACH_AUTHORIZE_URL, else https://api.outreach.io/oauth/authorize)")


MCP_DESCRIPTION = """\
Serve the operations as Model Context Protocol tools on stdin/stdout (for an agent's MCP client), with the
credentials call uses. Needs the mcp extra: pip install 'outreach-connector[mcp]'.

tools/list sizes: seed (the default) 95 tools, 187 KB; read 120 tools, 243 KB; all 261 tools, 503 KB."""


def add_mcp(sub: argparse._SubParsersAction) -> None:
    from ..mcp.tools import DEFAULT_PRESET, PRESET_HELP  # pure data: no SDK import

    mcp = sub.add_parser("mcp", formatter_class=Formatter, help="serve the operations as MCP tools on stdio",
                         description=MCP_DESCRIPTION, epilog=CREDENTIALS)
    mcp.add_argument("--tools", default=DEFAULT_PRESET, metavar="PRESET",
                     help=f"which tools: {PRESET_HELP} (default: {DEFAULT_PRESET})")
    mcp.add_argument("--sandbox", action="store_true",
                     help="serve on one in-process Outreach sandbox, kept for the whole session; no credentials")
    add_session_options(mcp)
    mcp.add_argument("--strict", action="store_true",
                     help="fail on output that drifts from the documented schema (default: OUTREACH_STRICT_OUTPUT, "
                          "else off)")


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="outreach-connector", description=DESCRIPTION, formatter_class=Formatter,
                                  epilog=CREDENTIALS)
    top.add_argument("--version", action="store_true", help="print the version and exit")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    ops = sub.add_parser("operations", formatter_class=Formatter, help="list every operation (name, kind, title)",
                         description="List every operation: name, kind and title (DDL operations included).")
    ops.add_argument("--json", action="store_true", help="print JSON with descriptions (default: a table)")
    ops.add_argument("--origin", choices=("seed", "outreach-schema", "plugin"),
                     help="only the seed's operations, only those generated from Outreach's schema, or only "
                          "those installed plugins bring (default: all)")
    describe = sub.add_parser("describe", formatter_class=Formatter,
                              help="a human summary of one operation or trigger",
                              description="What an operation does, its Outreach request, its inputs with types, "
                                          "lookups, and an example input; for a trigger, its event, filters and "
                                          "whether it can be polled.")
    describe.add_argument("name", help="the operation or trigger, e.g. get_prospect, prospect_created")
    describe.add_argument("--json", action="store_true", help="print the summary as JSON (default: text)")
    schema = sub.add_parser("schema", formatter_class=Formatter, help="print an operation's input or output schema",
                            description="Print an operation's JSON Schema (input by default).")
    schema.add_argument("name", help="the operation, e.g. get_prospect")
    schema.add_argument("--output", action="store_true", help="print the output schema (default: the input schema)")
    call = sub.add_parser("call", formatter_class=Formatter, help="run one operation (input: JSON, @FILE or -)",
                          description="Run one operation and print its output as JSON.", epilog=CALL_EPILOG)
    add_call_options(call)
    add_auth(sub)
    add_mcp(sub)
    sub.add_parser("serve", add_help=False, help="run the Connectors API server (see: serve --help)")
    sub.add_parser("sandbox", add_help=False, help="run the Outreach sandbox on a port (see: sandbox --help)")
    sub.add_parser("demo", formatter_class=Formatter, help="run the main workflow against the embedded sandbox",
                   description="Run the main workflow end to end against an in-process Outreach sandbox "
                               "(no credentials, no network).")
    triggers = sub.add_parser("triggers", formatter_class=Formatter,
                              help="list every trigger: an Outreach event (name, title, resource, action)",
                              description="List every trigger, one per event Outreach's webhooks send: name, "
                                          "title, Outreach resource and action.")
    triggers.add_argument("--json", action="store_true", help="print JSON with descriptions (default: a table)")
    return top

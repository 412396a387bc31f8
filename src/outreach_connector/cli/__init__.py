"""outreach-connector: list operations, describe them, call them, run the server, the sandbox and the demo.

Output JSON goes to stdout, errors as JSON to stderr. Exit status: 0 success, 2 invalid input or local
configuration, 3 upstream or auth failure, 1 anything else. The entry point is :func:`main`.
"""
from __future__ import annotations

import json
import sys
from typing import Sequence

from ..errors import ConnectorError
from ..sandboxed import SANDBOX_BASE_URL, SANDBOX_TOKEN, sandbox_connector

PASS_THROUGH = ("serve", "sandbox")  # these own their flags


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("outreach-connector")
    except PackageNotFoundError:  # running from a checkout that was never installed
        from ..catalog import load_manifest

        return load_manifest().version


def run(argv: Sequence[str]) -> int:
    from . import commands
    from .parser import parser

    argv = list(argv)
    if argv and argv[0] in PASS_THROUGH:
        return commands.cmd_serve(argv[1:]) if argv[0] == "serve" else commands.cmd_sandbox(argv[1:])
    top = parser()
    args = top.parse_args(argv)
    if args.version:
        print(f"outreach-connector {version()}")
        return 0
    if args.command is None:
        top.print_help()
        return 2
    return command(args.command)(args)


def command(name: str):
    from . import commands
    from .auth import cmd_auth

    if name == "mcp":
        from ..mcp.cli import cmd_mcp

        return cmd_mcp
    return {"operations": commands.cmd_operations, "schema": commands.cmd_schema, "describe": commands.cmd_describe,
            "call": commands.cmd_call, "auth": cmd_auth, "demo": commands.cmd_demo,
            "triggers": commands.cmd_triggers}[name]


def main(argv: Sequence[str] | None = None) -> int:
    from ..client import quiet_http_libraries

    quiet_http_libraries()  # `call --verbose` prints its own request lines; httpx's would add query strings
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except ModuleNotFoundError as exc:  # serve, sandbox, demo and --sandbox need an extra the host may lack
        from ..extras import missing_extra

        error = missing_extra(exc)
        if error is None:
            raise
        json.dump(error.to_dict(), sys.stderr, ensure_ascii=False)
        sys.stderr.write("\n")
        return error.exit_code
    except ConnectorError as error:
        json.dump(error.to_dict(), sys.stderr, ensure_ascii=False, default=str)
        sys.stderr.write("\n")
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into head: not an error of ours
        sys.stderr.close()
        return 0


__all__ = ["main", "run", "sandbox_connector", "SANDBOX_BASE_URL", "SANDBOX_TOKEN"]

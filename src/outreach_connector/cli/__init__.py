"""outreach-connector: list operations, describe them, call them, run the server, the sandbox and the demo.

Output JSON goes to stdout, errors as JSON to stderr. Exit status: 0 success, 2 invalid input or local
configuration, 3 upstream or auth failure, 1 anything else. The entry point is :func:`main`.
"""
from __future__ import annotations

import json
import sys
from typing import Sequence

from ..demo import SANDBOX_BASE_URL as SANDBOX_BASE_URL, SANDBOX_TOKEN as SANDBOX_TOKEN  # their public path
from ..demo import sandbox_connector as sandbox_connector
from ..errors import ConnectorError, ExtraMissing

PASS_THROUGH = ("serve", "sandbox")  # these own their flags
# Optional parts of the package: top-level module -> the extra that brings it (a missing one is a clear error).
EXTRA_FOR = {"starlette": "sandbox", "uvicorn": "sandbox", "cryptography": "server", "psycopg": "server",
             "psycopg_pool": "server", "mcp": "mcp", "mcp_types": "mcp"}


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("outreach-connector")
    except PackageNotFoundError:  # running from a checkout that was never installed
        from ..catalogue_folders import load_manifest

        return load_manifest().version


def missing_extra(error: ModuleNotFoundError, extra: str | None = None) -> ExtraMissing | None:
    """The ``ExtraMissing`` a failed import of an optional package stands for, or None if it is not one.

    ``extra`` is the one the command needs, when several bring the module: ``serve`` needs ``server``, though
    ``sandbox`` brings starlette too (naming ``sandbox`` would send the user round twice).
    """
    module = (error.name or "").split(".")[0]
    if module not in EXTRA_FOR:
        return None
    extra = extra or EXTRA_FOR[module]
    return ExtraMissing(f"this command needs {module!r}, which the {extra!r} extra installs: "
                        f"pip install 'outreach-connector[{extra}]'"
                        f"{' (or [server,sandbox] for both)' if extra in ('server', 'sandbox') else ''}")


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


__all__ = ["main", "run", "sandbox_connector", "missing_extra", "SANDBOX_BASE_URL", "SANDBOX_TOKEN"]

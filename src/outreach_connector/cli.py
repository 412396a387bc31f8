"""``outreach-connector``: list operations, show schemas, call operations, run the server, sandbox and demo.

Output JSON goes to stdout, errors as JSON to stderr. Exit status: 0 success, 2 invalid input,
3 upstream or auth failure, 1 anything else.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from .errors import ConnectorError

SANDBOX_BASE_URL = "http://sandbox.test/api/v2"
SANDBOX_TOKEN = "sandbox-access-token"


def sandbox_connector(settings: Any = None):
    """A connector wired to an in-process Outreach sandbox (no network, no credentials)."""
    from outreach_sandbox import Sandbox, SandboxConfig

    from .connector import Connector

    sandbox = Sandbox(SandboxConfig())
    return Connector(base_url=SANDBOX_BASE_URL, access_token=SANDBOX_TOKEN, transport=sandbox.transport(),
                     settings=settings), sandbox


def settings_from(args: argparse.Namespace) -> Any:
    """The one settings model: flags win over ``OUTREACH_*`` variables, which win over defaults."""
    from .settings import Settings

    return Settings.from_env(base_url=getattr(args, "base_url", None), timeout=getattr(args, "timeout", None),
                             max_retry_wait=getattr(args, "max_retry_wait", None))


def connector_from(args: argparse.Namespace):
    from .connector import Connector

    settings = settings_from(args)
    if getattr(args, "sandbox", False):
        return sandbox_connector(settings)[0]
    return Connector(settings=settings)


def shared_catalogue():
    """The process-wide registry for the configured plugins: listing needs no credentials."""
    from .registry import shared_registry
    from .settings import plugins_from_env

    return shared_registry(plugins_from_env())


def read_input(text: str | None) -> Any:
    """The operation input: inline JSON, ``@file``, ``-`` for stdin, or nothing for ``{}``."""
    if text is None:
        return {}
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        with open(text[1:], encoding="utf-8") as handle:
            text = handle.read()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliInputError(f"input is not valid JSON: {exc}") from None


class CliInputError(ConnectorError):
    exit_code = 2


def emit(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_operations(args: argparse.Namespace) -> int:
    registry = shared_catalogue()
    ops = [{"name": e.spec.name, "kind": e.spec.kind, "origin": e.spec.origin, "title": e.spec.title,
            "description": e.spec.description}
           for e in registry if args.origin in (None, e.spec.origin)]  # names only: no schema files read
    if args.json:
        emit(ops)
    else:
        width = max(len(op["name"]) for op in ops)
        for op in ops:
            print(f"{op['name']:<{width}}  {op['kind']:<18}  {op['origin']:<15}  {op['title']}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .connector import describe

    described = describe(args.name, shared_catalogue())
    emit(described["output_schema" if args.output else "input_schema"])
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    data = read_input(args.input)
    connector = connector_from(args)
    with connector:
        emit(connector.call(args.name, data))
    return 0


def cmd_serve(args: argparse.Namespace, rest: list[str]) -> int:
    from .server import main as serve_main

    return serve_main(rest)


def cmd_sandbox(args: argparse.Namespace, rest: list[str]) -> int:
    from outreach_sandbox import main as sandbox_main

    return sandbox_main(rest)


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="outreach-connector", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    ops = sub.add_parser("operations", help="list every operation")
    ops.add_argument("--json", action="store_true")
    ops.add_argument("--origin", choices=("seed", "outreach-schema"),
                     help="only the seed's operations, or only those generated from Outreach's schema")
    schema = sub.add_parser("schema", help="print an operation's input (or output) schema")
    schema.add_argument("name")
    schema.add_argument("--output", action="store_true")
    call = sub.add_parser("call", help="run one operation; input as JSON, @file or - (stdin)")
    call.add_argument("name")
    call.add_argument("input", nargs="?")
    call.add_argument("--sandbox", action="store_true", help="run against an in-process Outreach sandbox")
    call.add_argument("--base-url", help="Outreach API base URL (default: OUTREACH_BASE_URL or the real API)")
    call.add_argument("--timeout", help="HTTP timeouts: seconds for all, or connect=5,read=60,write=60,pool=5 "
                                        "(default: OUTREACH_TIMEOUT, else connect 10 s, read/write 60 s, pool 10 s)")
    call.add_argument("--max-retry-wait", help="seconds one call may spend waiting between retries "
                                               "(default: OUTREACH_MAX_RETRY_WAIT, else 60)")
    sub.add_parser("serve", help="run the Connectors API server (see serve --help)", add_help=False)
    sub.add_parser("sandbox", help="run the Outreach sandbox on a port (see sandbox --help)", add_help=False)
    sub.add_parser("demo", help="run the main workflow against the embedded sandbox")
    return top


PASS_THROUGH = {"serve": cmd_serve, "sandbox": cmd_sandbox}
COMMANDS = {"operations": cmd_operations, "schema": cmd_schema, "call": cmd_call, "demo": cmd_demo}


def run(argv: Sequence[str]) -> int:
    argv = list(argv)
    if argv and argv[0] in PASS_THROUGH:  # these own their flags
        return PASS_THROUGH[argv[0]](argparse.Namespace(command=argv[0]), argv[1:])
    args = parser().parse_args(argv)
    return COMMANDS[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except ModuleNotFoundError as exc:  # serve, sandbox, demo and --sandbox need an extra the host may lack
        from .extras import missing_extra

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


if __name__ == "__main__":
    sys.exit(main())

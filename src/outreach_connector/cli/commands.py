"""What each subcommand does; each returns the exit status."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import CredentialsMissing, ReconnectRequired, TransportError
from .inputs import read_input
from .session import open_connector

NO_CREDENTIALS = ("no Outreach credentials: set OUTREACH_ACCESS_TOKEN, or the OAuth variables OUTREACH_CLIENT_ID, "
                  "OUTREACH_CLIENT_SECRET and OUTREACH_REFRESH_TOKEN (OUTREACH_TOKEN_URL optional), or pass "
                  "--profile NAME after outreach-connector auth login --profile NAME; to try it without "
                  "credentials: outreach-connector call {name} --sandbox. Nothing was sent.")

RECONNECT_HINT = (" Then give the CLI the new refresh token (export OUTREACH_REFRESH_TOKEN, or "
                  "outreach-connector auth login); it stores every rotated one from then on.")


def misspelt_credentials() -> str:
    """A did-you-mean for a credentials variable set under a wrong name (its name only, never its value)."""
    import os

    from ..settings import ENVIRONMENT
    from ..suggest import misspelt_variables

    wanted = [ENVIRONMENT[k] for k in ("access_token", "client_id", "client_secret", "refresh_token", "token_url")]
    return misspelt_variables(os.environ, wanted, known=ENVIRONMENT.values())


def emit(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def shared_catalogue():
    """The process-wide registry for the configured plugins: listing needs no credentials."""
    from ..registry import shared_registry
    from ..settings import plugins_from_env

    return shared_registry(plugins_from_env())


def cmd_operations(args: argparse.Namespace) -> int:
    registry = shared_catalogue()
    ops = [{"name": e.spec.name, "kind": e.spec.kind, "origin": e.origin, "title": e.spec.title,
            "description": e.spec.description}
           for e in registry if args.origin in (None, e.origin)]  # names only: no schema files read
    return listing(ops, args.json, [("kind", 18), ("origin", 15)])


def listing(rows: list[dict[str, Any]], as_json: bool, columns: list[tuple[str, int]]) -> int:
    """Rows as JSON, or as a table: the name, the given (key, width) columns, the title."""
    if as_json:
        emit(rows)
        return 0
    width = max((len(row["name"]) for row in rows), default=0)  # no rows (--origin plugin, none installed): nothing
    for row in rows:
        middle = "".join(f"{row[key]:<{size}}  " for key, size in columns)
        print(f"{row['name']:<{width}}  {middle}{row['title']}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from ..connector import describe

    described = describe(args.name, shared_catalogue())
    emit(described["output_schema" if args.output else "input_schema"])
    return 0


def cmd_triggers(args: argparse.Namespace) -> int:
    triggers = [{"name": t.spec.name, "title": t.spec.title, "resource": t.spec.resource, "action": t.spec.action,
                 "description": t.spec.description} for t in shared_catalogue().triggers()]
    return listing(triggers, args.json, [("resource", 24), ("action", 10)])


def cmd_describe(args: argparse.Namespace) -> int:
    from .describe import render, render_trigger, sandbox_note, summary, trigger_summary

    registry = shared_catalogue()
    if args.name not in registry and args.name in {t.spec.name for t in registry.triggers()}:
        described = trigger_summary(registry.trigger(args.name))
        emit(described) if args.json else print(render_trigger(described))
        return 0
    described = summary(registry[args.name])
    if args.json:
        emit(described)
    else:
        print(render(described, sandbox_note(args.name, described["example_input"])))
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    emit(run_call(args, read_input(args.input)))
    return 0


def run_call(args: argparse.Namespace, data: Any, lost_race_retries: int = 1) -> Any:
    connector, chain = open_connector(args)
    log = None
    if args.verbose:
        from .verbose import RequestLog

        log = RequestLog()
        log.attach(connector)
    with connector:
        try:
            return connector.call(args.name, data)
        except TransportError:
            if log is not None:
                log.report_unanswered()  # the last attempt: no response, so no hook wrote its line
            raise
        except CredentialsMissing:
            raise CredentialsMissing(NO_CREDENTIALS.format(name=args.name) + misspelt_credentials()) from None
        except ReconnectRequired as error:
            # A concurrent run spent our refresh token and stored its successor: nothing was applied (the
            # refresh comes before the request, or after a 401), so run once more with the newest tokens.
            if not (lost_race_retries and chain is not None and chain.superseded()):
                error.message += RECONNECT_HINT
                raise
    return run_call(args, data, lost_race_retries - 1)


def cmd_serve(rest: list[str]) -> int:
    from . import missing_extra

    try:
        from ..server import main as serve_main

        return serve_main(rest)
    except ModuleNotFoundError as exc:  # the server extra brings all it needs: name it, not the first module's
        error = missing_extra(exc, extra="server")
        if error is None:
            raise
        raise error from None


def cmd_sandbox(rest: list[str]) -> int:
    from outreach_sandbox.server import main as sandbox_main

    return sandbox_main(rest, prog="outreach-connector sandbox")


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo()

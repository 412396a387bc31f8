"""``outreach-connector mcp``: the tools on stdio, with the credentials ``call`` uses."""
from __future__ import annotations

import argparse


def cmd_mcp(args: argparse.Namespace) -> int:
    import anyio  # the SDK's own dependency: a missing [mcp] extra fails here, before any credential is read

    import mcp  # noqa: F401

    from ..cli.session import open_connector
    from .server import announce, serve_stdio
    from .tools import tool_set

    tools = tool_set(args.tools)
    # --sandbox: one in-process sandbox for the whole session, so what a call creates the next one sees.
    connector, _chain = open_connector(args)  # the chain stores each rotated refresh token as `call` does
    announce(tools, "stdio (the sandbox)" if args.sandbox else f"stdio ({connector.base_url})")

    async def serve() -> None:
        try:
            await serve_stdio(tools, connector)
        finally:
            await connector.aclose()

    anyio.run(serve)
    return 0

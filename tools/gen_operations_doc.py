"""Keep the operations tables of docs/operations.md equal to the registered operations.

The page's prose is written by hand; only the part between the two markers is generated.

Usage: python -m tools.gen_operations_doc [--check]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from outreach_connector.catalogue_folders import load_entries
from outreach_connector.cli.describe import METHOD_BY_KIND
from tools.generated import write_or_check

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "operations.md"
BEGIN, END = "<!-- operations:begin -->", "<!-- operations:end -->"

ORIGIN_HEADINGS = {
    "seed": "The seed's {n} operations (the documented operation set)",
    "outreach-schema": "{n} more generated from Outreach's hyper-schema (`tools/gen_extended.py`)",
}
# The kinds whose entries name no fixed path.
PATHLESS = {"execute_link": "`GET {link}`", "raw_http": "any method, API origin"}


def tables() -> str:
    """One table per origin, seed first, so the documented operations and the generated ones stay apart."""
    entries = load_entries()
    parts = []
    for origin, heading in ORIGIN_HEADINGS.items():
        chosen = [e for e in entries if e.origin == origin]
        parts.append(f"## {heading.format(n=len(chosen))}\n\n{rows(chosen)}")
    return "\n\n".join(parts)


def rows(entries) -> str:
    lines = ["| operation | kind | Outreach request | title |", "|---|---|---|---|"]
    for e in sorted(entries, key=lambda e: (e.kind == "ddl", e.name)):
        request = f"`{METHOD_BY_KIND[e.kind]} {e.path}`" if e.kind in METHOD_BY_KIND else PATHLESS[e.kind]
        lines.append(f"| `{e.name}` | {e.kind} | {request} | {e.title} |")
    return "\n".join(lines)


def with_tables(page: str) -> str:
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{tables()}\n{END}{tail}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="write (or --check) the operations tables of docs/operations.md")
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is not what this would write")
    args = parser.parse_args(argv)
    return write_or_check({PAGE.name: with_tables(PAGE.read_text())}, PAGE.parent, args.check, "operations tables")


if __name__ == "__main__":
    sys.exit(main())

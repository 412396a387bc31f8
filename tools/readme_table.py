"""Keep the README's operations table equal to the registered operations.

Usage: python tools/readme_table.py [--check]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from outreach_connector.catalog import load_entries  # noqa: E402

BEGIN, END = "<!-- operations:begin -->", "<!-- operations:end -->"


ORIGIN_HEADINGS = {
    "seed": "The seed's {n} operations (the documented operation set)",
    "outreach-schema": "{n} more generated from Outreach's hyper-schema (`tools/gen_extended.py`)",
}


def table() -> str:
    """One table per origin, seed first, so the documented operations and the generated ones stay apart."""
    entries = load_entries()
    parts = []
    for origin, heading in ORIGIN_HEADINGS.items():
        chosen = [e for e in entries if e.origin == origin]
        parts.append(f"### {heading.format(n=len(chosen))}\n\n{rows(chosen)}")
    return "\n\n".join(parts)


def rows(entries) -> str:
    rows = ["| operation | kind | Outreach request | title |", "|---|---|---|---|"]
    for e in sorted(entries, key=lambda e: (e.kind == "ddl", e.name)):
        method = {"list": "GET", "get": "GET", "ddl": "GET", "create": "POST", "update": "PATCH",
                  "delete": "DELETE", "action": "POST", "collection_action": "POST",
                  "compliance_request": "POST"}.get(e.kind)
        request = f"`{method} {e.path}`" if method else {"execute_link": "`GET {link}`",
                                                          "raw_http": "any method, API origin"}[e.kind]
        rows.append(f"| `{e.name}` | {e.kind} | {request} | {e.title} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    readme = (ROOT / "README.md").read_text()
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{BEGIN}\n{table()}\n{END}{tail}"
    if args.check:
        print("README table up to date" if updated == readme else "README operations table is stale")
        return 0 if updated == readme else 1
    (ROOT / "README.md").write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())

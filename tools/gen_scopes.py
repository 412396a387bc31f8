"""Keep connector.yaml's OAuth scopes (and the README's copy of them) covering every resource the catalogue calls.

Outreach's scopes are ``<pluralCamelResource>.<read|write|delete|all>`` and are not additive (``write`` does
not give ``read``); ``all`` is the three together. Each operation needs, on the resource its path starts with:
read (get, list, DDL), write (create, update, actions, compliance requests) or delete. A resource needing all
three gets ``.all``, otherwise one scope per level. Two paths use another resource's scope: ``/batchItems``
belongs to ``batches`` (Outreach's bulk API). Raw HTTP and link execution name no resource.

Usage: python -m tools.gen_scopes [--check]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from outreach_connector.catalogue_folders import load_entries

ROOT = Path(__file__).resolve().parents[1]


LEVEL = {"get": "read", "list": "read", "ddl": "read", "create": "write", "update": "write", "action": "write",
         "collection_action": "write", "compliance_request": "write", "delete": "delete"}
SCOPE_RESOURCE = {"batchItems": "batches"}
README_BEGIN, README_END = "<!-- scopes:begin -->", "<!-- scopes:end -->"
YAML_BLOCK = re.compile(r"(  scopes:\n)((?:    - .*\n)+)")


def needed_levels() -> dict[str, set[str]]:
    """Scope resource → the access levels the catalogue's operations need on it."""
    levels: dict[str, set[str]] = {}
    for entry in load_entries():
        if entry.kind not in LEVEL:
            continue
        segment = entry.path.strip("/").split("/")[0]
        levels.setdefault(SCOPE_RESOURCE.get(segment, segment), set()).add(LEVEL[entry.kind])
    return levels


def scopes() -> list[str]:
    found = []
    for resource, levels in sorted(needed_levels().items()):
        if levels == {"read", "write", "delete"}:
            found.append(f"{resource}.all")
        else:
            found += [f"{resource}.{level}" for level in ("read", "write", "delete") if level in levels]
    return found


def with_scopes(manifest: str, listed: list[str]) -> str:
    block = "".join(f"    - {scope}\n" for scope in listed)
    updated, count = YAML_BLOCK.subn(lambda m: m.group(1) + block, manifest)
    if count != 1:
        raise SystemExit("connector.yaml: no 'auth: scopes:' list found")
    return updated


def with_readme_list(readme: str, listed: list[str]) -> str:
    head, rest = readme.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_BEGIN}\n```text\n{' '.join(listed)}\n```\n{README_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="exit 1 when a file is not what this would write")
    args = parser.parse_args(argv)
    listed = scopes()
    files = {ROOT / "connector.yaml": with_scopes, ROOT / "README.md": with_readme_list}
    stale = []
    for path, update in files.items():
        text = path.read_text()
        updated = update(text, listed)
        if updated != text:
            stale.append(path.name)
            if not args.check:
                path.write_text(updated)
    if args.check:
        print("scopes: stale in " + ", ".join(stale) if stale else f"scopes up to date ({len(listed)})")
        return 1 if stale else 0
    print(f"wrote {len(listed)} scopes" + (f" to {', '.join(stale)}" if stale else " (no change)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every generator in order: ``python -m tools`` (``./run regenerate``), or ``--check`` them all.

Each runs in a process of its own: a generator reads the catalogue the one before it wrote, and the catalogue
is cached per process.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Entries and resource schemas first, then what is made from them; the index of the parsed entries last.
GENERATORS = ("gen_extended", "gen_resources", "gen_operation_schemas", "gen_triggers", "gen_scopes",
              "gen_operations_doc", "gen_catalogue_index")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when any file is stale")
    args = parser.parse_args(argv)
    failed = []
    for name in GENERATORS:
        print(f"tools.{name}:", end=" ", flush=True)
        command = [sys.executable, "-m", f"tools.{name}", *(["--check"] if args.check else [])]
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

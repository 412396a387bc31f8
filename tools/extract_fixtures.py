"""Extract every documented sample input and output of the operations spec into ``fixtures/samples/``.

The spec's Markdown escapes braces (``\\{`` ``\\}``); they are removed before parsing. Files are named
``<operation>.input.json`` / ``<operation>.output.json`` after the canonical names table.

Usage: python -m tools.extract_fixtures [--spec DIR] [--check]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tools.generated import write_or_check

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = ROOT.parent / "shared" / "spec"
OUT = ROOT / "fixtures" / "samples"
BLOCK = re.compile(r"```json\n(.*?)```", re.S)


def titles_to_names(spec_dir: Path) -> dict[str, str]:
    lines = (spec_dir / "operation-names.tsv").read_text().splitlines()[1:]
    return {title: name for name, _, title in (line.split("\t") for line in lines)}


def sections(markdown: str) -> dict[str, str]:
    """Operation title -> the Markdown of its section."""
    parts = re.split(r"^### (.+)$", markdown, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def samples(section: str) -> dict[str, object]:
    """{'input': ..., 'output': ...} for the JSON blocks under the Sample Input / Output headings."""
    found: dict[str, object] = {}
    for which, body in re.findall(r"\*\*Sample (Input|Output)\*\*(.*?)(?=\*\*Sample |\Z)", section, re.S):
        block = BLOCK.search(body)
        if block:
            found[which.lower()] = json.loads(block.group(1).replace("\\{", "{").replace("\\}", "}"))
    return found


def extract(spec_dir: Path) -> dict[str, str]:
    names = titles_to_names(spec_dir)
    files: dict[str, str] = {}
    for title, section in sections((spec_dir / "outreach-operations.md").read_text()).items():
        for which, value in samples(section).items():
            files[f"{names[title]}.{which}.json"] = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    return write_or_check(extract(args.spec), OUT, args.check, "sample fixtures", strict_dir=True)


if __name__ == "__main__":
    sys.exit(main())

"""The example plugin of docs/plugins.md, written out from that page itself.

Each file is a fenced block preceded by ``<!-- plugin-file: PATH -->``: the test builds exactly what a reader
would copy, so the page cannot drift from a working plugin.
"""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r"<!-- plugin-file: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)\n```", re.DOTALL)


def readme_plugin_files() -> dict[str, str]:
    return {m["path"]: m["body"] + "\n" for m in BLOCK.finditer(README.read_text(encoding="utf-8"))}


def write_readme_plugin(target: Path) -> Path:
    """Write the plugin project under ``target``; returns the project folder."""
    for relative, body in readme_plugin_files().items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return target

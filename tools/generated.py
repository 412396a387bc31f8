"""Write generated files, or check that the committed ones are what the generator makes now."""
from __future__ import annotations

from pathlib import Path


def write_or_check(files: dict[str, str], out: Path, check: bool, what: str, strict_dir: bool = False) -> int:
    """``files`` maps paths relative to ``out`` to their text. With ``strict_dir``, extra files are drift too."""
    if check:
        stale = sorted(n for n, t in files.items() if not (out / n).exists() or (out / n).read_text() != t)
        if strict_dir:
            stale += sorted({p.name for p in out.glob("*.json")} - set(files))
        print("drift: " + ", ".join(stale) if stale else f"{what} up to date")
        return 1 if stale else 0
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    print(f"wrote {len(files)} {what}")
    return 0

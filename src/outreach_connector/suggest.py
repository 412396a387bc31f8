"""Did-you-mean: the few known names closest to a misspelt one (for operations and input fields)."""
from __future__ import annotations

import difflib
from typing import Iterable, Mapping


# Longer than any real name: a hostile input is not compared (difflib's cost grows with the product of lengths).
MAX_WORD = 200


def close_names(word: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` known names that look like ``word``, best first; case and ``_`` are ignored."""
    if len(word) > MAX_WORD:
        return []
    def folded(name: str) -> str:
        return name.lower().replace("_", "")

    by_folded: dict[str, str] = {}
    for name in known:
        by_folded.setdefault(folded(name), name)
    if folded(word) in by_folded:  # only case or underscores differ: that is the one
        return [by_folded[folded(word)]]
    matches = difflib.get_close_matches(folded(word), list(by_folded), n=limit, cutoff=0.75)
    return [by_folded[match] for match in matches]


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean a, b?)`` to append to a message, or ``""`` when nothing is close."""
    found = close_names(word, known)
    if not found:
        return ""
    listed = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " or " + found[-1]
    return f" (did you mean {listed}?)"


def misspelt_variables(env: Mapping[str, str], wanted: Iterable[str], known: Iterable[str] = ()) -> str:
    """`` OUTREACH_ACESS_TOKEN is set: did you mean OUTREACH_ACCESS_TOKEN?`` for each set variable that is
    none of ``wanted`` (nor another ``known`` one) but looks like one of them. Names only, never a value."""
    wanted = list(wanted)
    skip = {*wanted, *known}
    notes = []
    for name in sorted(env):
        found = close_names(name, wanted, limit=1) if name.startswith("OUTREACH_") and name not in skip else []
        if found and env[name]:
            notes.append(f" {name} is set: did you mean {found[0]}?")
    return "".join(notes)

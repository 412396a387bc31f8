"""Outreach's create requirements: the reviewed data in ``create_requirements.yaml``, as resource schema keys.

``annotate`` writes them into the resource dicts ``gen_resources`` builds (``requiredOnCreate``: attributes,
``requiredRelationshipsOnCreate``: relationships); the operation schemas and the sandbox read them from there.
"""
from __future__ import annotations

from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "create_requirements.yaml"
BASES = ("documented", "judged")


def load(path: Path = DATA) -> dict[str, dict]:
    """Type -> its entry; refuses an entry without a known basis and its evidence."""
    entries = yaml.safe_load(path.read_text())
    for type_name, entry in entries.items():
        if entry.get("basis") not in BASES or not entry.get("evidence"):
            raise SystemExit(f"{path.name}: {type_name} needs a basis ({', '.join(BASES)}) and its evidence")
        if not entry.get("attributes") and not entry.get("relationships"):
            raise SystemExit(f"{path.name}: {type_name} requires nothing")
    return entries


def annotate(resources: list[dict], path: Path = DATA) -> None:
    """Write each listed type's requirements into its resource dict (types not in ``resources`` are another
    generator's)."""
    by_type = {r["type"]: r for r in resources}
    for type_name, entry in load(path).items():
        if type_name not in by_type:
            continue
        if entry.get("attributes"):
            by_type[type_name]["requiredOnCreate"] = list(entry["attributes"])
        if entry.get("relationships"):
            by_type[type_name]["requiredRelationshipsOnCreate"] = list(entry["relationships"])

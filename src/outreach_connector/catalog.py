"""Read the connector's declarative files: ``connector.yaml``, ``operations/``, ``ddl/`` and ``schemas/``.

The files live at the project root (beside ``src/``); ``OUTREACH_CONNECTOR_HOME`` points elsewhere when the
package is installed away from its checkout.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .spec import Manifest, OperationSpec


# libyaml's parser when the wheel has it: the pure-Python one costs a third of a second at start-up.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=YAML_LOADER)


def project_root() -> Path:
    configured = os.environ.get("OUTREACH_CONNECTOR_HOME")
    return Path(configured) if configured else Path(__file__).resolve().parents[2]


@cache
def load_manifest() -> Manifest:
    return Manifest.model_validate(read_yaml(project_root() / "connector.yaml"))


def entry_files(root: Path | None = None) -> list[Path]:
    root = root or project_root()
    return sorted((root / "operations").glob("*.yaml")) + sorted((root / "ddl").glob("*.yaml"))


@cache
def load_entries() -> tuple[OperationSpec, ...]:
    """Every operation entry shipped with the connector, in file order."""
    entries: list[OperationSpec] = []
    for path in entry_files():
        for raw in read_yaml(path) or []:
            try:
                entries.append(OperationSpec.model_validate(raw))
            except ValueError as exc:  # name the file: the pydantic message alone does not
                raise ValueError(f"{path.name}: {raw.get('name', '?')}: {exc}") from exc
    return tuple(entries)


@cache
def load_schema(relative: str) -> dict[str, Any]:
    return json.loads((project_root() / "schemas" / relative).read_text())


@dataclass(frozen=True)
class ResourceInfo:
    """What the connector needs to know about one Outreach resource type."""

    type: str
    path: str
    attributes: dict[str, dict[str, Any]]
    relationships: dict[str, dict[str, Any]]

    @property
    def read_only(self) -> frozenset[str]:
        return frozenset(n for n, s in {**self.attributes, **self.relationships}.items() if s.get("readOnly"))

    def writable_attributes(self) -> dict[str, dict[str, Any]]:
        return {n: s for n, s in self.attributes.items() if not s.get("readOnly")}

    def writable_relationships(self) -> dict[str, dict[str, Any]]:
        return {n: s for n, s in self.relationships.items() if not s.get("readOnly") and s.get("x-target")}

    def flagged(self, flag: str) -> list[str]:
        return sorted(n for n, s in self.attributes.items() if s.get(flag))


@cache
def load_resource(type_name: str) -> ResourceInfo:
    schema = load_schema(f"resources/{type_name}.json")
    props = schema["properties"]
    return ResourceInfo(
        type=type_name,
        path=schema["x-outreach"]["path"],
        attributes=props["attributes"]["properties"],
        relationships=props["relationships"]["properties"],
    )

"""What the server offers: the connector's manifest and its operations in Connectors API form."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from ..catalogue_folders import load_manifest
from ..connector import operations as all_operations
from ..registry import Registry, shared_registry
from .schemas import to_form_schema

DRAFT_04 = "http://json-schema.org/draft-04/schema#"


class Catalogue:
    """The manifest and the served operation list, computed once per server."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self.manifest: dict[str, Any] = load_manifest().model_dump()
        self.name: str = self.manifest["name"]
        self.version: str = str(self.manifest["version"])

    @property
    def registry(self) -> Registry:
        """The loaded operations and triggers (the subscriptions check a trigger's input against it)."""
        return self._registry

    @classmethod
    def load(cls, plugin_names: tuple[str, ...] | None = None) -> "Catalogue":
        return cls(shared_registry(plugin_names))

    def serves(self, name: str, version: str) -> bool:
        return name == self.name and version == self.version

    def connectors(self) -> dict[str, Any]:
        keys = ("name", "version", "title", "description")
        return {"elements": [{key: str(self.manifest.get(key) or "") for key in keys}]}

    @cached_property
    def operations(self) -> dict[str, Any]:
        return {"elements": [served_operation(op) for op in all_operations(self._registry)]}

    @cached_property
    def triggers(self) -> dict[str, Any]:
        """The trigger list in the operations' form: schemas self-contained and reduced for form builders."""
        from ..triggers import described

        return {"elements": [served_trigger(described(trigger)) for trigger in self._registry.triggers()]}

    @cached_property
    def operation_names(self) -> frozenset[str]:
        return frozenset(op["name"] for op in self.operations["elements"])

    def output_schema(self, operation: str) -> dict[str, Any]:
        """The reduced output schema as ``returnOutputSchema`` serves it: draft-04, self-describing."""
        served = next(op for op in self.operations["elements"] if op["name"] == operation)
        return {"$schema": DRAFT_04, **served["outputSchema"]}


def served_operation(operation: dict[str, Any]) -> dict[str, Any]:
    return {"name": operation["name"], "title": operation["title"], "description": operation["description"],
            "inputSchema": to_form_schema(operation["input_schema"]),
            "outputSchema": to_form_schema(operation["output_schema"]),
            "hasDynamicOutput": bool(operation["has_dynamic_output"])}


def served_trigger(trigger: dict[str, Any]) -> dict[str, Any]:
    return {"name": trigger["name"], "title": trigger["title"], "description": trigger["description"],
            "inputSchema": to_form_schema(trigger["input_schema"]),
            "outputSchema": to_form_schema(trigger["output_schema"])}

"""Plugins bring triggers as they bring operations: a folder's ``triggers/*.yaml``, or ``register_triggers``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from outreach_connector import hookimpl
from outreach_connector.errors import PluginError, RegistryError
from outreach_connector.registry import Registry, get_plugin_manager
from outreach_connector.spec import TriggerSpec

from .test_folder_plugins import build


def write_plugin_folder(root: Path, name: str = "deal_won", resource: str = "opportunity") -> Path:
    (root / "triggers").mkdir(parents=True)
    (root / "schemas" / "triggers").mkdir(parents=True)
    entry = {"name": name, "title": "Deal won", "description": "An opportunity was won.", "resource": resource,
             "action": "updated", "input_schema": "triggers/in.json", "output_schema": "triggers/out.json"}
    (root / "triggers" / "deals.yaml").write_text(yaml.safe_dump([entry]))
    (root / "schemas" / "triggers" / "in.json").write_text(json.dumps({"type": "object"}))
    (root / "schemas" / "triggers" / "out.json").write_text(json.dumps({"type": "object"}))
    return root


def test_a_folder_plugin_brings_triggers(tmp_path: Path):
    built = build(write_plugin_folder(tmp_path))
    assert built.trigger("deal_won").owner != "outreach_connector.default_plugin"
    assert built.trigger("deal_won").spec.event == "opportunity.updated"
    assert len(built.triggers()) == 43


def test_a_plugin_trigger_of_an_unknown_resource_is_refused(tmp_path: Path):
    with pytest.raises(PluginError, match="unknown resource type 'widget'"):
        build(write_plugin_folder(tmp_path, resource="widget"))


def test_a_code_plugin_registers_a_trigger_and_a_duplicate_name_is_refused():
    class CodePlugin:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def register_triggers(self, register):
            register(TriggerSpec(name=self.name, title="t", description="d", resource="prospect",
                                 action="updated", input_schema={"type": "object"}, output_schema={"type": "object"}))

    built = Registry(get_plugin_manager([CodePlugin("prospect_touched")], entry_points=False))
    assert built.trigger("prospect_touched").spec.resource == "prospect"
    with pytest.raises(RegistryError, match="trigger 'prospect_created' is registered twice"):
        Registry(get_plugin_manager([CodePlugin("prospect_created")], entry_points=False))

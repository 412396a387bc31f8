"""The registry runs plugins as pluggy would: its call order, its names, its distributions; wrappers refused."""
from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path

import pytest

from outreach_connector import OperationSpec, hookimpl
from outreach_connector.catalogue_folders import CORE_OWNER, load_entries
from outreach_connector.errors import PluginError
from outreach_connector.registry import Registry, get_plugin_manager
from .test_code_plugins import ping_spec as code_plugin_spec

WAY_OUT = ("; to start without it: OUTREACH_CONNECTOR_PLUGINS=none (no installed plugins), or name the ones to "
           "load, comma-separated")


def ping_spec(name: str) -> OperationSpec:
    return code_plugin_spec(name, kind="raw_http")


def recording_plugin(label: str, calls: list[str], **order: bool):
    """A plugin object whose ``register_operations`` notes its label and registers ``from_<label>``."""
    class Recording:
        @hookimpl(**order)
        def register_operations(self, register):
            calls.append(label)
            register(ping_spec(f"from_{label}"))

    return Recording()


def test_plugins_are_called_in_the_order_pluggy_calls_them():
    calls: list[str] = []
    plugins = [recording_plugin("last", calls, trylast=True), recording_plugin("first", calls, tryfirst=True),
               recording_plugin("early", calls), recording_plugin("late", calls)]
    manager = get_plugin_manager(plugins, entry_points=False)

    Registry(manager)
    by_registry = list(calls)
    calls.clear()
    manager.hook.register_operations(register=lambda spec: None)  # pluggy's own hook call

    assert by_registry == calls == ["first", "late", "early", "last"]


def test_entries_are_listed_in_registration_order_whatever_order_the_hooks_ran_in():
    calls: list[str] = []
    registry = Registry(get_plugin_manager([recording_plugin("a", calls, trylast=True),
                                            recording_plugin("b", calls, tryfirst=True)], entry_points=False))
    assert calls == ["b", "a"]
    assert registry.names() == [spec.name for spec in load_entries()] + ["from_a", "from_b"]


def test_an_impl_is_passed_only_the_arguments_it_names():
    calls: list[str] = []

    class NoArguments:
        @hookimpl
        def register_operations(self):
            calls.append("called")

    Registry(get_plugin_manager([NoArguments()], entry_points=False))
    assert calls == ["called"]


@pytest.mark.parametrize("option", [pytest.param("wrapper", id="wrapper"),
                                    pytest.param("hookwrapper", id="old-style-hookwrapper")])
def test_a_wrapper_impl_is_refused_naming_its_plugin(option):
    class Wrapping:
        @hookimpl(**{option: True})
        def register_operations(self, register):
            yield

    with pytest.raises(PluginError) as refused:
        Registry(get_plugin_manager([Wrapping()], entry_points=False))
    assert refused.value.plugin == f"{__name__}.{Wrapping.__qualname__}"
    assert refused.value.message == (
        f"plugin '{refused.value.plugin}' refused: register_operations is a hook wrapper (wrapper=True or "
        "hookwrapper=True), which the connector does not run: it calls each plugin's hook on its own, so that an "
        "error names the plugin that broke; declare it a plain @hookimpl" + WAY_OUT)


def test_a_wrapper_that_is_no_generator_is_refused_by_pluggy_in_one_line_naming_its_plugin():
    class NotAGenerator:
        @hookimpl(wrapper=True)
        def register_catalog(self, register):
            pass

    with pytest.raises(PluginError) as refused:
        get_plugin_manager([NotAGenerator()], entry_points=False)
    assert refused.value.plugin == f"{__name__}.{NotAGenerator.__qualname__}"
    assert "not a generator function" in refused.value.message and "\n" not in refused.value.message


def test_plugin_names_are_pluggys_and_the_entries_carry_them():
    module = types.ModuleType("outreach_ping_module")

    @hookimpl
    def register_operations(register):
        register(ping_spec("from_module"))

    module.register_operations = register_operations
    first, second = recording_plugin("one", []), recording_plugin("two", [])
    manager = get_plugin_manager([first, second, module], entry_points=False)
    recording = f"{__name__}.recording_plugin.<locals>.Recording"

    assert manager.list_name_plugin() == [(CORE_OWNER, sys.modules["outreach_connector.default_plugin"]),
                                          (recording, first), (f"{recording}#2", second),
                                          ("outreach_ping_module", module)]
    registry = Registry(manager)
    assert [(name, registry[name].owner) for name in ("list_stages", "from_one", "from_two", "from_module")] == [
        ("list_stages", CORE_OWNER), ("from_one", recording), ("from_two", f"{recording}#2"),
        ("from_module", "outreach_ping_module")]


def test_one_plugin_object_given_twice_is_refused_by_name():
    plugin = recording_plugin("twice", [])
    with pytest.raises(PluginError, match=r"Recording' refused: is given twice: a plugin is registered once"):
        get_plugin_manager([plugin, plugin], entry_points=False)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch):
    """A distribution ``outreach-ping-plugins 0.2.0`` installed on sys.path with three entry points: ``ping``
    (works), ``broken`` (its hook raises) and ``absent`` (its module does not exist)."""
    (tmp_path / "outreach_ping_plugins.py").write_text(textwrap.dedent('''
        from outreach_connector import OperationSpec, hookimpl

        class Broken:
            @hookimpl
            def register_operations(self, register):
                raise KeyError("no settings")

        broken = Broken()

        @hookimpl
        def register_operations(register):
            register(OperationSpec(name="installed_ping", title="Ping", description="d", kind="raw_http",
                                   resource=None, path="/", input_schema={"type": "object"},
                                   output_schema={"type": "object"}))
    '''))
    info = tmp_path / "outreach_ping_plugins-0.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: outreach-ping-plugins\nVersion: 0.2.0\n")
    (info / "entry_points.txt").write_text("[outreach_connector]\nping = outreach_ping_plugins\n"
                                           "broken = outreach_ping_plugins:broken\nabsent = outreach_no_such_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "outreach_ping_plugins", raising=False)
    yield
    sys.modules.pop("outreach_ping_plugins", None)


def test_an_installed_plugin_is_named_with_the_distribution_pluggy_loaded_it_from(installed):
    manager = get_plugin_manager(names=("ping",))
    [(plugin, distribution)] = manager.list_plugin_distinfo()
    assert manager.get_name(plugin) == "ping"
    assert (distribution.project_name, distribution.version) == ("outreach-ping-plugins", "0.2.0")
    registry = Registry(manager)
    assert registry["installed_ping"].owner == "ping (outreach-ping-plugins 0.2.0)"
    assert registry["installed_ping"].origin == "plugin"


def test_a_broken_installed_plugin_is_named_with_its_distribution_and_the_way_out(installed):
    with pytest.raises(PluginError) as refused:
        Registry(get_plugin_manager(names=("ping", "broken")))
    assert refused.value.plugin == "broken (outreach-ping-plugins 0.2.0)"
    assert refused.value.message == ("plugin 'broken (outreach-ping-plugins 0.2.0)' refused: register_operations "
                                     "failed: KeyError: 'no settings'" + WAY_OUT)


def test_an_installed_plugin_that_cannot_be_imported_is_named_with_its_distribution(installed):
    with pytest.raises(PluginError) as refused:
        get_plugin_manager(names=("absent",))
    assert refused.value.plugin == "absent (outreach-ping-plugins 0.2.0)"
    assert refused.value.message.startswith(
        "plugin 'absent (outreach-ping-plugins 0.2.0)' refused: cannot be imported (outreach_no_such_module): "
        "ModuleNotFoundError: No module named 'outreach_no_such_module'")

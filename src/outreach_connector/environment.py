"""Settings read from an environment, layered by pydantic-settings: flags or keywords over variables over defaults.

Each field names its variable (``settings.variable``: the field's ``validation_alias``). The connector's
``Settings.from_env`` and the server's ``settings_from`` come here; a ``Connector`` built from keywords reads
only the plugin choice and never imports this module, which keeps pydantic-settings' ~20 ms of imports off
its cold start.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, TypeVar

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from .settings import Settings

LayeredSettings = TypeVar("LayeredSettings", bound=BaseSettings)


class Environment(PydanticBaseSettingsSource):
    """The variable each field names, read from a mapping (``os.environ``, or a test's): the exact name, and an
    empty value is unset. Values stay text for the fields' validators (comma lists, timeouts): no JSON decoding."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        name = field.validation_alias
        if not isinstance(name, str):  # a field no variable sets
            return None, field_name, False
        return self.environ.get(name) or None, name, False

    def __call__(self) -> dict[str, Any]:
        found = (self.get_field_value(field, name) for name, field in self.settings_cls.model_fields.items())
        return {variable: value for value, variable, _ in found if value is not None}


def layered(settings_cls: type[LayeredSettings], environ: Mapping[str, str] | None,
            given: dict[str, Any]) -> LayeredSettings:
    """``given`` (flags or keywords, by field name) over the environment (``os.environ`` unless given) over the
    defaults; a variable under a given value is never parsed. Raises pydantic's ``ValidationError``."""
    environment = Environment(settings_cls, os.environ if environ is None else environ)
    return settings_cls(_build_sources=((InitSettingsSource(settings_cls, given), environment), given))


class LayeredConnectorSettings(BaseSettings, Settings):
    """The connector's ``Settings`` as pydantic-settings builds them (``connector_settings`` hands out a plain
    ``Settings``: one type whichever way a host builds its settings)."""

    model_config = SettingsConfigDict(**Settings.model_config)


def connector_settings(environ: Mapping[str, str] | None, given: dict[str, Any]) -> Settings:
    built = layered(LayeredConnectorSettings, environ, given)
    return Settings.model_construct(built.model_fields_set, **dict(built))  # validated once, just above

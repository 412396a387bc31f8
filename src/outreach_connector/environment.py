"""Settings read from an environment, layered by pydantic-settings: flags or keywords over variables over defaults.

Each field names its variable (``settings.variable``: the field's ``validation_alias``). The connector's
``Settings.from_env`` and the server's ``settings_from`` come here; a ``Connector`` built from keywords reads
only the plugin choice and never imports this module, which keeps pydantic-settings' ~20 ms of imports off
its cold start.
"""
from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any, Mapping, TypeVar

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .settings import Settings

Built = TypeVar("Built", bound="LayeredSettings")


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


# The environment ``layered`` is building from. pydantic-settings asks a class for its sources through a
# classmethod hook, so the mapping of this one build reaches the hook here (one value per thread and task).
_BUILDING_FROM: ContextVar[Mapping[str, str] | None] = ContextVar("outreach_connector_environ", default=None)


class LayeredSettings(BaseSettings):
    """Settings ``layered`` builds: the keywords (or flags) over the variables of the environment it reads.
    Built in Python instead, the keywords over what ``built_in_python`` gives."""

    @classmethod
    def built_in_python(cls, settings_cls: type[BaseSettings]) -> PydanticBaseSettingsSource:
        """What a build outside ``layered`` reads under its keywords: here ``os.environ``."""
        return Environment(settings_cls, os.environ)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _BUILDING_FROM.get()
        below = cls.built_in_python(settings_cls) if environ is None else Environment(settings_cls, environ)
        return init_settings, below


def layered(settings_cls: type[Built], environ: Mapping[str, str] | None, given: dict[str, Any]) -> Built:
    """``given`` (flags or keywords, by field name) over the environment (``os.environ`` unless given) over the
    defaults; a variable under a given value is never parsed. Raises pydantic's ``ValidationError``."""
    building = _BUILDING_FROM.set(os.environ if environ is None else environ)
    try:
        return settings_cls(**given)
    finally:
        _BUILDING_FROM.reset(building)


class LayeredConnectorSettings(LayeredSettings, Settings):
    """The connector's ``Settings`` as pydantic-settings builds them (``connector_settings`` hands out a plain
    ``Settings``: one type whichever way a host builds its settings). Only ``connector_settings`` builds it."""

    model_config = SettingsConfigDict(**Settings.model_config)


def connector_settings(environ: Mapping[str, str] | None, given: dict[str, Any]) -> Settings:
    built = layered(LayeredConnectorSettings, environ, given)
    return Settings.model_construct(built.model_fields_set, **dict(built))  # validated once, just above

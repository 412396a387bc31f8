"""One error tree in one module: every ConnectorError subclass is defined in outreach_connector.errors, its
docstring draws every class, and the modules they used to live in still hand out the same classes."""
from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import outreach_connector
from outreach_connector import errors
from outreach_connector.errors import (AuthenticationGone, AuthenticationUnusable, ConnectorError, ReconnectNeeded,
                                       ReconnectRequired, UpstreamError)

# Modules only ``python -m`` runs (importing them would run them).
NOT_IMPORTED = ("__main__",)


def every_module() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(outreach_connector.__path__, "outreach_connector.")]
    return [name for name in names if not name.endswith(NOT_IMPORTED)]


def every_error_class() -> set[type]:
    for name in every_module():
        importlib.import_module(name)
    found, pending = set(), [ConnectorError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                pending.append(subclass)
    return found


def test_every_connector_error_is_defined_in_errors_py():
    classes = every_error_class()
    assert len(classes) >= 40
    assert sorted(f"{c.__module__}.{c.__name__}" for c in classes if c.__module__ != "outreach_connector.errors") \
        == []


def test_the_docstring_tree_draws_every_class_and_no_other():
    drawn = set(re.findall(r"[├└]── ([A-Z][A-Za-z]+)", errors.__doc__ or ""))
    defined = {c.__name__ for c in every_error_class()}
    assert drawn == defined


@pytest.mark.parametrize("module,name", [
    ("outreach_connector.settings", "SettingsInvalid"),
    ("outreach_connector.pagination", "RepeatedCursor"),
    ("outreach_connector.pagination", "StalledPagination"),
    ("outreach_connector.oauth", "AuthenticationGone"),
    ("outreach_connector.cli.parser", "UsageError"),
    ("outreach_connector.cli.inputs", "InputUnreadable"),
    ("outreach_connector.cli.session", "ConfigurationInvalid"),
    ("outreach_connector.cli.credentials_file", "CredentialsFileError"),
    ("outreach_connector.server.store_sql", "StoreUnavailable"),
    ("outreach_connector.server.store_sql", "SchemaTooNew"),
    ("outreach_connector.server.opening", "StartupError"),
    ("outreach_connector.server.secrets_box", "EncryptionKeyError"),
    ("outreach_connector.server.requests", "BadRequest"),
    ("outreach_connector.server.credentials", "AuthenticationNotFound"),
    ("outreach_connector.server.store", "TooManyAuthentications"),
    ("outreach_connector.server.connect_store", "TooManyPendingStates"),
    ("outreach_connector.server.token_endpoint", "TokenEndpointRefused"),
])
def test_the_old_import_paths_still_hand_out_the_same_class(module, name):
    assert getattr(importlib.import_module(module), name) is getattr(errors, name)


@pytest.mark.parametrize("name,base", [("StartupError", ValueError), ("EncryptionKeyError", ValueError),
                                       ("SchemaTooNew", ValueError), ("AuthenticationNotFound", LookupError)])
def test_server_errors_that_were_a_builtin_error_still_are(name, base):
    assert issubclass(getattr(errors, name), base)


def test_an_authentication_that_is_gone_carries_no_outreach_status():
    gone = AuthenticationGone("the authentication was deleted while this call was running")
    assert not isinstance(gone, UpstreamError)
    assert not hasattr(gone, "status_code")
    assert isinstance(gone, AuthenticationUnusable) and gone.exit_code == 3
    assert gone.to_dict() == {"error": "AuthenticationGone",
                              "message": "the authentication was deleted while this call was running"}


def test_reconnect_required_is_an_outreach_answer_and_reconnect_needed_is_not():
    assert issubclass(ReconnectRequired, UpstreamError)  # Outreach's token endpoint said invalid_grant
    assert issubclass(ReconnectNeeded, AuthenticationUnusable) and not issubclass(ReconnectNeeded, UpstreamError)

"""From flags, a stored profile and ``OUTREACH_*`` variables to the connector one ``call`` runs on.

Precedence: flags, then ``--profile`` (a login stored by ``auth login``), then the environment. OAuth
credentials from the environment continue the chain of rotated tokens stored by earlier runs (see
:mod:`.credentials_file`); every refresh stores the new tokens before they are used.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, replace
from typing import Any, Mapping

from pydantic import SecretStr

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import ConfigurationInvalid as ConfigurationInvalid
from ..settings import ENVIRONMENT, Settings
from ..suggest import did_you_mean
from . import sandbox_connector
from .credentials_file import CredentialsFile, CredentialsFileError, Entry, config_dir, fingerprint

DEFAULT_PROFILE = "default"
# A stored access token this close to its expiry is not worth a 401: refresh first instead.
EXPIRY_MARGIN_SECONDS = 120
CREDENTIAL_VARIABLES = frozenset(ENVIRONMENT[k] for k in ("access_token", "client_id", "client_secret",
                                                          "refresh_token", "token_url"))


class TokenChain:
    """The ``on_token_refresh`` callback: stores each rotated token set in the entry it continues."""

    def __init__(self, store: CredentialsFile, entry: Entry) -> None:
        self.store = store
        self.entry = entry
        self.started_with = entry.refresh_token

    def superseded(self) -> bool:
        """True when another run stored a newer refresh token after this one read the file (a lost race:
        this run's refresh token was already spent, but the chain lives on in the file)."""
        entry = self.entry
        current = self.store.newest(entry.client_id, entry.token_url, entry.seeded_from)
        return current is not None and current.refresh_token != self.started_with

    def __call__(self, tokens: Any) -> None:
        self.entry = replace(self.entry, refresh_token=tokens.refresh_token, access_token=tokens.access_token,
                             expires_at=tokens.expires_at)
        try:
            self.store.save(self.entry)
        except CredentialsFileError as error:  # the call itself can still succeed: say what will happen next
            print(f"outreach-connector: warning: {error.message}; Outreach has rotated the refresh token, so the "
                  "next run will need a new one", file=sys.stderr)


@dataclass(frozen=True)
class Session:
    settings: Settings
    chain: TokenChain | None = None


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"base_url": getattr(args, "base_url", None), "timeout": getattr(args, "timeout", None),
            "max_retry_wait": getattr(args, "max_retry_wait", None),
            "strict_output": True if getattr(args, "strict", False) else None}


def session_for(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Session:
    store = CredentialsFile(config_dir(env))
    flags = {k: v for k, v in flag_overrides(args).items() if v is not None}
    if getattr(args, "profile", None):
        return profile_session(store, stored_profile(store, args.profile), env, flags)
    settings = Settings.from_env(env, **flags)
    if settings.refresh_token is None:
        login = store.find(DEFAULT_PROFILE) if settings.access_token is None else None
        if login is not None and login.client_secret is not None:
            return profile_session(store, login, env, flags)
        return Session(settings)
    return environment_session(store, settings, settings.refresh_token)


def stored_profile(store: CredentialsFile, name: str) -> Entry:
    entry = store.find(name)
    if entry is None or entry.client_secret is None:
        known = sorted({e.profile for e in store.entries() if e.client_secret is not None})
        raise ConfigurationInvalid(f"no stored profile {name!r}{did_you_mean(name, known)}; store one with: "
                                   f"outreach-connector auth login --profile {name}")
    return entry


def profile_session(store: CredentialsFile, entry: Entry, env: Mapping[str, str] | None,
                    flags: dict[str, Any]) -> Session:
    entry = store.continued(entry)
    stored = {"client_id": entry.client_id, "client_secret": entry.client_secret, "token_url": entry.token_url,
              "base_url": entry.base_url, "refresh_token": entry.refresh_token, "access_token": usable_access(entry)}
    settings = Settings.from_env(without_credentials(env), **{**stored, **flags})
    return Session(settings, TokenChain(store, entry))


def without_credentials(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment minus Outreach credentials (a profile or the sandbox brings its own)."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k not in CREDENTIAL_VARIABLES}


def environment_session(store: CredentialsFile, settings: Settings, refresh_token: SecretStr) -> Session:
    """OAuth credentials from the environment (``refresh_token`` is the settings' own), continued from the
    newest stored tokens of the same chain."""
    missing = [ENVIRONMENT[k] for k in ("client_id", "client_secret") if not getattr(settings, k)]
    if missing:
        raise ConfigurationInvalid(f"{ENVIRONMENT['refresh_token']} is set but {' and '.join(missing)} "
                                   f"{'is' if len(missing) == 1 else 'are'} not: an OAuth refresh needs the "
                                   "client id, the client secret and the refresh token; nothing was sent")
    given = refresh_token.get_secret_value()
    entry = store.find(DEFAULT_PROFILE, settings.client_id, settings.token_url)
    if entry is None or entry.seeded_from != fingerprint(given):  # first run, or the user authorised again
        entry = Entry(DEFAULT_PROFILE, settings.client_id or "", settings.token_url, refresh_token=given,
                      seeded_from=fingerprint(given))
    entry = store.continued(entry)  # a profile stored from the same refresh token may have rotated it since
    if entry.updated_at or entry.refresh_token != given:  # stored tokens: the newest of the chain
        access = usable_access(entry)
        settings = settings.model_copy(update={"refresh_token": SecretStr(entry.refresh_token),
                                               "access_token": SecretStr(access) if access else None})
    return Session(settings, TokenChain(store, entry))


def usable_access(entry: Entry, now: float | None = None) -> str | None:
    """The stored access token unless it has expired or is about to (then the first request refreshes)."""
    if entry.access_token is None or entry.expires_at is None:
        return entry.access_token
    now = time.time() if now is None else now
    return entry.access_token if entry.expires_at - EXPIRY_MARGIN_SECONDS > now else None


def open_connector(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> tuple[Any, TokenChain | None]:
    """The connector for ``call``, and the token chain it stores rotated tokens in (None: nothing to store)."""
    from ..connector import Connector

    if getattr(args, "sandbox", False):
        flags = {k: v for k, v in flag_overrides(args).items() if v is not None and k != "base_url"}
        return sandbox_connector(Settings.from_env(without_credentials(env), **flags))[0], None
    session = session_for(args, env)
    return Connector(settings=session.settings, on_token_refresh=session.chain), session.chain

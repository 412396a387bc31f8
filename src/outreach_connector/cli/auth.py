"""``auth login | status | logout``: OAuth logins stored in the credentials file (never printed)."""
from __future__ import annotations

import argparse

from ..settings import ENVIRONMENT, Settings
from .commands import emit, misspelt_credentials
from .credentials_file import CredentialsFile, Entry, config_dir, fingerprint
from .session import ConfigurationInvalid


def store() -> CredentialsFile:
    return CredentialsFile(config_dir())


def cmd_login(args: argparse.Namespace) -> int:
    if args.browser:
        from .browser_login import cmd_login_browser

        return cmd_login_browser(args)
    settings = Settings.from_env(client_id=args.client_id, token_url=args.token_url, base_url=args.base_url)
    missing = [ENVIRONMENT[k] for k in ("client_id", "client_secret", "refresh_token") if not getattr(settings, k)]
    client_secret, refresh_token = settings.client_secret, settings.refresh_token
    if missing or client_secret is None or refresh_token is None:  # one test: the None checks type the two
        raise ConfigurationInvalid(f"auth login needs {', '.join(missing)} (the client secret and refresh token "
                                   "are read from the environment only, never from flags); nothing was stored."
                                   + misspelt_credentials())
    refresh = refresh_token.get_secret_value()
    entry = Entry(args.profile, settings.client_id or "", settings.token_url, refresh_token=refresh,
                  seeded_from=fingerprint(refresh),
                  client_secret=client_secret.get_secret_value(),
                  base_url=settings.base_url)
    credentials = store()
    entry = credentials.continued(entry)  # earlier runs may have rotated this refresh token: keep the live one
    credentials.save(entry, replace_profile=True)
    emit({"stored": entry.public(), "file": str(credentials.path),
          "next": f"outreach-connector call list_users '{{}}' --profile {args.profile}"})
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    credentials = store()
    emit({"file": str(credentials.path), "logins": [entry.public() for entry in credentials.entries()]})
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    removed = store().remove(None if args.all else args.profile)
    emit({"removed": removed})
    return 0


def cmd_auth(args: argparse.Namespace) -> int:
    return {"login": cmd_login, "status": cmd_status, "logout": cmd_logout}[args.auth_command](args)

"""One connector per stored authentication, kept for the life of the server.

Keeping exactly one connector (so one :class:`OAuthRefreshAuth`) per authentication is what makes token
refreshes single flight: every concurrent call on an authentication shares its auth object's lock. The
auth's ``on_refresh`` writes the rotated tokens to the store before the new access token is used, so a
restarted server picks up where this one stopped.
"""
from __future__ import annotations

import asyncio
import functools
from typing import Any

from starlette.concurrency import run_in_threadpool

from outreach_connector import Connector
from outreach_connector.server.credentials import AccessTokenCredentials, CredentialStore, StoredAuthentication
from outreach_connector.oauth import OAuthRefreshAuth
from outreach_connector.server.settings import ServerSettings


class ConnectorPool:
    def __init__(self, store: CredentialStore, settings: ServerSettings, transport: Any = None) -> None:
        self._store = store
        self._settings = settings
        self._transport = transport
        self._connectors: dict[str, Connector] = {}
        self._building = asyncio.Lock()

    async def get(self, auth_id: str) -> Connector:
        """The authentication's connector; raises ``AuthenticationNotFound``."""
        connector = self._connectors.get(auth_id)
        if connector is not None:
            return connector
        async with self._building:  # two builders would mean two auth objects refreshing one token
            if auth_id not in self._connectors:
                stored = await run_in_threadpool(self._store.load, auth_id)
                self._connectors[auth_id] = self.build(stored)
            return self._connectors[auth_id]

    def build(self, stored: StoredAuthentication) -> Connector:
        settings = self._settings.connector
        credentials = stored.credentials
        if isinstance(credentials, AccessTokenCredentials):
            return Connector(settings=settings, access_token=credentials.access_token.get_secret_value(),
                             transport=self._transport)
        tokens = stored.tokens
        assert tokens is not None  # an OAuth row always carries its refresh token
        auth = OAuthRefreshAuth(
            client_id=credentials.client_id, client_secret=credentials.client_secret.get_secret_value(),
            refresh_token=tokens.refresh_token, token_url=credentials.token_url or self._settings.token_url,
            access_token=tokens.access_token or None, expires_at=tokens.expires_at,
            on_refresh=functools.partial(self._store.save_tokens, stored.info.id))
        return Connector(settings=settings, auth=auth, transport=self._transport)

    async def forget(self, auth_id: str) -> None:
        connector = self._connectors.pop(auth_id, None)
        if connector is not None:
            await connector.aclose()

    async def aclose(self) -> None:
        for auth_id in list(self._connectors):
            await self.forget(auth_id)

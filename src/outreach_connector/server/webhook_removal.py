"""Removing a subscription's Outreach webhook: through its authentication, else with the webhook's cleanup token.

Outreach returns a ``cleanupToken`` with a new webhook, and ``POST /webhooks/cleanup`` removes the webhook even
after the org revoked the app's access (the reference names the route, not its body: ours is
``{"cleanupToken"}``). The token is kept sealed with the subscription's secrets.
"""
from __future__ import annotations

import logging
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool

from . import subscription_store as rows

logger = logging.getLogger("outreach_connector.server.triggers")

CLEANUP_TIMEOUT_SECONDS = 10.0


def webhook_id_of(value: str | None) -> Any:
    """The stored webhook id as Outreach has it (an integer)."""
    return int(value) if value is not None and value.isdigit() else value


async def delete_webhook(svc: Any, row: dict[str, Any]) -> bool:
    """Delete the subscription's Outreach webhook through its authentication; True once it is gone."""
    try:
        connector = await svc.pool.get(row["auth_id"], row["owner"])
        await connector.acall("delete_webhook", {"webhook_id": webhook_id_of(row["webhook_id"])})
    except Exception as exc:  # noqa: BLE001 - Outreach or the authentication failing must not keep the row
        if getattr(exc, "status_code", None) == 404:
            return True
        logger.warning("subscription %s: Outreach did not delete the webhook %s (%s)", row["id"],
                       row["webhook_id"], type(exc).__name__)
        return False
    return True


async def cleanup_webhook(svc: Any, row: dict[str, Any]) -> None:
    """``POST /webhooks/cleanup`` with the cleanup token Outreach gave when it created the webhook: removes it
    without the authentication's access (the reference gives the route, not the body: ours is
    ``{"cleanupToken"}``). Logs whether it went; the row goes either way."""
    token = (await run_in_threadpool(rows.secrets_of, svc.store, row)).get("cleanup_token")
    if not token:
        logger.warning("subscription %s: no cleanup token for the webhook %s; it stays in Outreach", row["id"],
                       row["webhook_id"])
        return
    url = f"{svc.settings.outreach_base_url.rstrip('/')}/webhooks/cleanup"
    try:
        async with httpx.AsyncClient(transport=svc.pool.transport, timeout=CLEANUP_TIMEOUT_SECONDS) as client:
            answer = await client.post(url, json={"cleanupToken": token})
    except httpx.HTTPError as exc:
        logger.warning("subscription %s: the webhook cleanup failed (%s)", row["id"], type(exc).__name__)
        return
    if answer.status_code >= 300 and answer.status_code != 404:
        logger.warning("subscription %s: Outreach refused the webhook cleanup (HTTP %s)", row["id"],
                       answer.status_code)
        return
    logger.info("subscription %s: the webhook %s removed with its cleanup token", row["id"], row["webhook_id"])

"""A server killed (SIGKILL) while receiving loses no event it acknowledged: ``outreach-connector serve`` as its
own process on a real socket, signed deliveries sent many at a time, the process killed mid-burst, started
again on the same database. Every delivery that got a 200 is readable by long poll, once; the ones that got
no answer, sent again as Outreach retries a network failure, are then stored once too."""
from __future__ import annotations

import asyncio
import os
import signal

import httpx

from outreach_connector.bench.server import served_server
from outreach_connector.bench.triggers import delivery, stored_events, stored_subscription
from outreach_connector.server.secrets_box import generate_key_text

NOWHERE = "http://127.0.0.1:9/api/v2"  # the receiver needs no Outreach
DELIVERIES = 600
KILL_AFTER = 150  # acknowledged deliveries before the kill
AT_ONCE = 20


async def burst(url: str, sid: str, indexes: list[int], kill_pid: int | None = None) -> tuple[set[str], set[int]]:
    """Send the deliveries ``AT_ONCE`` at a time; the event ids answered 200, and the indexes that got no answer.
    With ``kill_pid``, that process is killed once ``KILL_AFTER`` deliveries were acknowledged."""
    acknowledged: set[str] = set()
    unanswered: set[int] = set()
    queue = list(reversed(indexes))

    async def sender(client: httpx.AsyncClient) -> None:
        while queue:
            index = queue.pop()
            body, headers = delivery(index)
            try:
                answer = await client.post(f"/webhooks/outreach/{sid}", content=body, headers=headers)
            except httpx.TransportError:
                unanswered.add(index)  # the connection failed or was cut: Outreach would send it again
                continue
            assert answer.status_code == 200, answer.text  # never an error answer: Outreach would not retry
            acknowledged.add(headers["Outreach-Webhook-Event-Id"])
            if kill_pid is not None and len(acknowledged) == KILL_AFTER:
                os.kill(kill_pid, signal.SIGKILL)

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(sender(client) for _ in range(AT_ONCE)))
    return acknowledged, unanswered


def test_a_server_killed_while_receiving_loses_no_acknowledged_event(database):
    key = generate_key_text()
    sid = stored_subscription(database, key)
    flags = ("--encryption-key", key)
    with served_server(NOWHERE, database, flags) as (url, pid):
        acknowledged, unanswered = asyncio.run(burst(url, sid, list(range(DELIVERIES)), kill_pid=pid))
    assert len(acknowledged) >= KILL_AFTER and unanswered, "the kill did not come mid-burst"

    with served_server(NOWHERE, database, flags) as (url, _):
        ids = [event["id"] for event in stored_events(url, sid)]
        assert len(ids) == len(set(ids)), "an event was stored twice"
        assert acknowledged <= set(ids), f"{len(acknowledged - set(ids))} acknowledged events were lost"

        _, still_unanswered = asyncio.run(burst(url, sid, sorted(unanswered)))  # Outreach's retries
        assert not still_unanswered
        ids = [event["id"] for event in stored_events(url, sid)]
    assert sorted(ids) == sorted(f"bench-{index}" for index in range(DELIVERIES))  # each event once

"""GET /connectors/outreach/versions/{v}/triggers: every trigger with form-ready schemas, behind the API key."""
from __future__ import annotations

import pytest

from .helpers import make_client

pytestmark = pytest.mark.anyio
TRIGGERS = "/connectors/outreach/versions/1.0/triggers"


@pytest.fixture
async def client(tmp_path, fake):
    async with make_client(tmp_path, fake) as client:
        yield client


async def test_the_trigger_list_has_every_trigger_with_reduced_schemas(client):
    response = await client.get(TRIGGERS)
    assert response.status_code == 200
    elements = response.json()["elements"]
    assert len(elements) == 42
    finished = next(e for e in elements if e["name"] == "sequence_state_finished")
    assert sorted(finished) == ["description", "inputSchema", "name", "outputSchema", "title"]
    assert finished["inputSchema"]["properties"]["sequence_id"]["lookup"]["operation"] == "list_sequences_ddl"
    assert finished["outputSchema"]["properties"]["event"]["enum"] == ["sequenceState.finished"]
    assert "$schema" not in finished["inputSchema"]  # reduced to what form builders read


@pytest.mark.parametrize("path", ["/connectors/outreach/versions/9.9/triggers",
                                  "/connectors/slack/versions/1.0/triggers"])
async def test_unknown_connector_or_version_is_404(client, path):
    assert (await client.get(path)).status_code == 404


async def test_the_trigger_list_needs_the_api_key(client):
    client.headers.pop("Authorization")
    assert (await client.get(TRIGGERS)).status_code == 401

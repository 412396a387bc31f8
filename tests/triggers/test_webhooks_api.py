"""webhooks.verify and parse_event: the Python API for hosts that run their own webhook endpoint."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from outreach_connector import Connector, webhooks
from outreach_connector.errors import EventInvalid, WebhookSignatureInvalid
from outreach_connector.triggers import parse_event

SECRET = "whsec-canary-7f3a"
# The shape of a captured real delivery: flat relationships whose "type" is the relationship's name.
DELIVERY = {"data": {"type": "prospect", "id": 5,
                     "attributes": {"title": "CTO", "updatedAt": "2025-01-15T09:00:03.000Z"},
                     "relationships": {"owner": {"type": "owner", "id": 7}, "account": None,
                                       "stage": {"type": "stage", "id": 2}}},
            "meta": {"deliveredAt": "2025-01-15T09:00:04.000Z", "eventName": "prospect.updated"}}


def body_of(document: dict) -> bytes:
    return json.dumps(document).encode()


def signed(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("headers", [
    pytest.param(lambda sig: {"Outreach-Webhook-Signature": sig}, id="as-sent"),
    pytest.param(lambda sig: {"outreach-webhook-signature": sig}, id="lower-case"),
    pytest.param(lambda sig: [("OUTREACH-WEBHOOK-SIGNATURE", sig.upper())], id="pairs-upper-case"),
    pytest.param(lambda sig: [(b"outreach-webhook-signature", sig.encode())], id="asgi-bytes"),
])
def test_verify_accepts_the_signature_of_the_raw_body(headers):
    body = body_of(DELIVERY)
    assert webhooks.verify(SECRET, body, headers(signed(body))) is None


@pytest.mark.parametrize("case, headers", [
    ("missing", {}),
    ("wrong", {"Outreach-Webhook-Signature": "0" * 64}),
    ("other-secret", {"Outreach-Webhook-Signature": signed(body_of(DELIVERY), "another-secret")}),
    ("one-byte-changed", {"Outreach-Webhook-Signature": signed(body_of(DELIVERY) + b" ")}),
    ("not-ascii", {"Outreach-Webhook-Signature": "é" * 64}),
])
def test_verify_refuses_and_reveals_nothing(case, headers):
    body = body_of(DELIVERY)
    with pytest.raises(WebhookSignatureInvalid) as caught:
        webhooks.verify(SECRET, body, headers)
    text = f"{caught.value} {caught.value.to_dict()} {caught.value!r}"
    assert SECRET not in text and signed(body) not in text and "CTO" not in text


def test_verify_refuses_two_different_signature_headers():
    body = body_of(DELIVERY)
    pairs = [("Outreach-Webhook-Signature", signed(body)), ("outreach-webhook-signature", "0" * 64)]
    with pytest.raises(WebhookSignatureInvalid, match="2 different"):
        webhooks.verify(SECRET, body, pairs)


def test_verify_compares_in_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(webhooks.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    body = body_of(DELIVERY)
    webhooks.verify(SECRET, body, {"Outreach-Webhook-Signature": signed(body)})
    assert compared == [(signed(body).encode(), signed(body).encode())]


def test_verify_needs_bytes_and_a_secret():
    with pytest.raises(TypeError, match="raw body as bytes"):
        webhooks.verify(SECRET, json.dumps(DELIVERY), {})
    with pytest.raises(WebhookSignatureInvalid, match="no webhook secret"):
        webhooks.verify("", b"{}", {"Outreach-Webhook-Signature": signed(b"{}", "")})


def test_parse_event_gives_the_contract_shape_with_flat_relationships_normalised():
    body = body_of(DELIVERY)
    event = Connector(access_token="unused").parse_event(body, {"Outreach-Webhook-Event-Id": "evt-1"})
    received = event.pop("received_at")
    assert event == {
        "id": "evt-1", "trigger": "prospect_updated", "event": "prospect.updated",
        "occurred_at": "2025-01-15T09:00:03.000Z", "resource": {"type": "prospect", "id": 5},
        "attributes": {"title": "CTO", "updatedAt": "2025-01-15T09:00:03.000Z"},
        "relationships": {"owner": {"type": "user", "id": 7}, "account": None, "stage": {"type": "stage", "id": 2}},
        "meta": {"deliveredAt": "2025-01-15T09:00:04.000Z", "eventName": "prospect.updated"}}
    assert received.endswith("Z")


def test_relationships_in_api_form_and_to_many_are_normalised_too():
    document = {"data": {"type": "sequenceState", "id": 9, "attributes": {},
                         "relationships": {"sequence": {"data": {"type": "sequence", "id": 3}},
                                           "calls": {"links": {"related": "https://x/calls"}},
                                           "tags": {"type": "tags", "id": [1, 2]},
                                           "mystery": {"type": "widget", "id": 4}}},
                "meta": {"eventName": "sequenceState.finished", "deliveredAt": "2025-01-15T09:00:04.000Z"}}
    event = parse_event(body_of(document), {}, received_at="2025-01-15T09:00:05.000Z")
    assert event["trigger"] == "sequence_state_finished"
    assert event["relationships"] == {"sequence": {"type": "sequence", "id": 3},
                                      "tags": [{"type": "tags", "id": 1}, {"type": "tags", "id": 2}],
                                      "mystery": {"type": "widget", "id": 4}}
    assert event["occurred_at"] == "2025-01-15T09:00:04.000Z"  # no timestamp attribute: when it was delivered


def test_a_destroyed_event_occurred_when_it_was_delivered():
    document = {"data": {"type": "prospect", "id": 5, "attributes": {"updatedAt": "2024-01-01T00:00:00.000Z"}},
                "meta": {"eventName": "prospect.destroyed", "deliveredAt": "2025-01-15T09:00:04.000Z"}}
    assert parse_event(body_of(document), {})["occurred_at"] == "2025-01-15T09:00:04.000Z"


def test_the_event_id_is_the_header_else_the_job_id_else_a_hash_without_delivered_at():
    with_job = {**DELIVERY, "meta": {**DELIVERY["meta"], "jobId": "job-77"}}
    assert parse_event(body_of(with_job), {"outreach-webhook-event-id": " evt-9 "})["id"] == "evt-9"
    assert parse_event(body_of(with_job), {})["id"] == "job-77"
    later = {**DELIVERY, "meta": {**DELIVERY["meta"], "deliveredAt": "2025-01-15T10:00:00.000Z"}}
    first, redelivered = parse_event(body_of(DELIVERY), {})["id"], parse_event(body_of(later), {})["id"]
    assert first == redelivered and first.startswith("sha256:")
    changed = {**DELIVERY, "data": {**DELIVERY["data"], "attributes": {"title": "CEO"}}}
    assert parse_event(body_of(changed), {})["id"] != first


@pytest.mark.parametrize("body, message", [
    (b"not json", "not JSON"),
    (b"[]", "no data object"),
    (b'{"data": {"type": "prospect"}, "meta": {"eventName": "prospect.created"}}', "data.id"),
    (b'{"data": {"type": "prospect", "id": true}, "meta": {"eventName": "prospect.created"}}', "data.id"),
    (b'{"data": {"type": "prospect", "id": 1}}', "meta.eventName"),
    (b'{"data": {"type": "prospect", "id": 1}, "meta": {"eventName": "created"}}', "meta.eventName"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
])
def test_a_body_that_is_not_an_event_is_refused_by_name(body, message):
    with pytest.raises(EventInvalid, match=message):
        parse_event(body, {})


def test_an_oversized_body_is_refused_before_parsing():
    with pytest.raises(EventInvalid, match="at most 100 are accepted"):
        parse_event(b" " * 101, {}, max_bytes=100)

"""Outreach's error answers become the connector's typed errors, with every errors[] entry kept."""
from __future__ import annotations

import httpx
import pytest

from conftest import TOKEN, FakeOutreach, jsonapi
from outreach_connector.errors import (AuthError, NotFound, OutcomeUnknown, OutputInvalid, PermissionDenied,
                                       RateLimited, TransportError, UpstreamError, ValidationFailed)
from outreach_connector.retry import RetryPolicy

NOT_FOUND = {"errors": [{"id": "resourceNotFound", "title": "Resource Not Found",
                         "detail": "Could not find 'stage' with ID '9'."}]}
INVALID = {"errors": [{"id": "validationError", "title": "Validation Error", "detail": "Name can't be blank.",
                       "source": {"pointer": "/data/attributes/name"}},
                      {"id": "validationError", "title": "Validation Error", "detail": "Order is too big.",
                       "source": {"pointer": "/data/attributes/order"}}]}
SCOPE = {"errors": [{"id": "unauthorizedOauthScope", "title": "Unauthorized OAuth Scope",
                     "detail": "Your authorization does not include the required scope 'stages.read'."}]}


@pytest.mark.parametrize("status,body,error_class", [
    pytest.param(401, {"error": "Invalid JWT token.", "description": "The JWT token could not be decoded."},
                 AuthError, id="401-gateway"),
    pytest.param(403, SCOPE, PermissionDenied, id="403-scope"),
    pytest.param(404, NOT_FOUND, NotFound, id="404"),
    pytest.param(415, {"errors": [{"id": "unsupportedMediaType", "title": "Unsupported Media Type"}]},
                 UpstreamError, id="415"),
    pytest.param(422, INVALID, ValidationFailed, id="422-pointers"),
    pytest.param(500, "<html>oops</html>", UpstreamError, id="500-html"),
])
def test_error_statuses_map_to_typed_errors(status, body, error_class, make_connector):
    fake = FakeOutreach(lambda request: jsonapi(status, body) if not isinstance(body, str)
                        else httpx.Response(status, text=body))
    conn = make_connector(fake, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(error_class) as caught:
        conn.call("get_stage", {"stage_id": 9})
    error = caught.value
    assert type(error) is error_class
    assert error.status_code == status
    assert str(status) in str(error)
    assert TOKEN not in str(error) and TOKEN not in repr(error)
    if isinstance(body, dict) and "errors" in body:
        assert error.errors == body["errors"]


def test_422_names_every_pointer(make_connector):
    conn = make_connector(FakeOutreach(lambda r: jsonapi(422, INVALID)))
    with pytest.raises(ValidationFailed) as caught:
        conn.call("update_stage", {"stage_id": 1, "attributes": {"name": ""}})
    assert "(at /data/attributes/name)" in str(caught.value)
    assert "(at /data/attributes/order)" in str(caught.value)


def test_403_names_the_missing_scope(make_connector):
    conn = make_connector(FakeOutreach(lambda r: jsonapi(403, SCOPE)))
    with pytest.raises(PermissionDenied) as caught:
        conn.call("get_stage", {"stage_id": 1})
    assert caught.value.missing_scope == "stages.read"
    assert "lacks the OAuth scope 'stages.read'" in str(caught.value)


def test_429_is_retried_then_succeeds(make_connector):
    answers = iter([jsonapi(429, {"errors": [{"id": "rateLimitExceeded"}]}, {"Retry-After": "0"}),
                    jsonapi(200, {"data": {"type": "stage", "id": 1}})])
    fake = FakeOutreach(lambda r: next(answers))
    conn = make_connector(fake)
    assert conn.call("get_stage", {"stage_id": 1}) == {"data": {"type": "stage", "id": 1}}
    assert len(fake.requests) == 2


def test_429_past_the_wait_budget_raises_rate_limited_with_the_wait(make_connector):
    fake = FakeOutreach(lambda r: jsonapi(429, {"errors": [{"id": "rateLimitExceeded"}]}, {"Retry-After": "3600"}))
    conn = make_connector(fake, retry=RetryPolicy(max_total_wait=5))
    with pytest.raises(RateLimited) as caught:
        conn.call("list_stages", {})
    assert caught.value.retry_after == 3600
    assert len(fake.requests) == 1


def test_a_create_is_not_repeated_after_a_5xx(make_connector):
    fake = FakeOutreach(lambda r: jsonapi(502, None))
    conn = make_connector(fake)
    with pytest.raises(UpstreamError):
        conn.call("create_stage", {"attributes": {"name": "x"}})
    assert len(fake.requests) == 1


def test_a_get_is_retried_after_a_5xx(make_connector):
    answers = iter([jsonapi(503, None), jsonapi(502, None), jsonapi(200, {"data": {"type": "stage", "id": 1}})])
    fake = FakeOutreach(lambda r: next(answers))
    assert make_connector(fake).call("get_stage", {"stage_id": 1})["data"]["id"] == 1
    assert len(fake.requests) == 3


def test_a_dropped_connection_after_a_create_is_outcome_unknown(make_connector):
    def drop(request):
        raise httpx.RemoteProtocolError("server disconnected", request=request)

    fake = FakeOutreach(drop)
    with pytest.raises(OutcomeUnknown, match="may or may not have applied"):
        make_connector(fake).call("create_prospect", {"attributes": {"firstName": "A"}})
    assert len(fake.requests) == 1


def test_a_refused_connection_is_retried_even_for_a_create(make_connector):
    calls = []

    def refuse_once(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return jsonapi(201, {"data": {"type": "prospect", "id": 5}})

    assert make_connector(FakeOutreach(refuse_once)).call(
        "create_prospect", {"attributes": {"firstName": "A"}})["data"]["id"] == 5


def test_a_dropped_get_past_the_budget_is_a_transport_error(make_connector):
    def drop(request):
        raise httpx.ReadError("reset", request=request)

    with pytest.raises(TransportError) as caught:
        make_connector(FakeOutreach(drop), retry=RetryPolicy(max_attempts=2, base_delay=0)).call(
            "get_stage", {"stage_id": 1})
    assert type(caught.value) is TransportError


def test_an_unexpected_shape_is_output_invalid_and_keeps_the_raw_body(make_connector):
    body = {"data": [{"type": "stage", "id": 1}]}  # a list where a get returns one resource
    with pytest.raises(OutputInvalid) as caught:
        make_connector(FakeOutreach(lambda r: jsonapi(200, body))).call("get_stage", {"stage_id": 1})
    assert caught.value.raw == body
    assert caught.value.errors[0]["path"] == "data"

"""The endpoints: connectors, operations, call, authentications, health. Each reads like the contract.

Authentications are per tenant: ``request.state.owner`` (set by the API-key gate) scopes every lookup, and
another tenant's authentication answers exactly like one that does not exist.
"""
from __future__ import annotations

import logging
import time

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .credentials import AuthenticationNotFound, OAuthCredentials, parse_credentials
from .credentials import credentials_problems
from ..errors import ConnectorError
from ..responses import TOO_DEEP
from ..suggest import did_you_mean
from . import envelopes, status
from .catalogue import Catalogue
from .envelopes import shown
from .requests import (AuthenticationRequest, BadRequest, CallRequest,
                                                parse_body)
from .services import known_id, not_found, owner, services
from .store import TooManyAuthentications
from .subscriptions import remove_for_authentication

logger = logging.getLogger("outreach_connector.server")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await run_in_threadpool(services(request).store.ping)
    except Exception as exc:  # noqa: BLE001 - any store failure means "not ready", said without details
        logger.warning("readiness check failed: the store did not answer (%s)", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "store": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "store": "ok"})


async def list_connectors(request: Request) -> Response:
    return JSONResponse(services(request).catalogue.connectors())


async def list_operations(request: Request) -> Response:
    catalogue = require_connector(request)
    return JSONResponse(catalogue.operations)


async def list_triggers(request: Request) -> Response:
    catalogue = require_connector(request)
    return JSONResponse(catalogue.triggers)


async def call_operation(request: Request) -> Response:
    catalogue = require_connector(request)
    try:
        limits = services(request).settings
        call = await parse_body(request, CallRequest, "call request", limits.max_json_depth, limits.max_json_items)
    except BadRequest as exc:
        return envelopes.problem(400, exc.message)
    if call.operation not in catalogue.operation_names:
        return envelopes.problem(404, f"The connector operation {shown(call.operation)!r} was not found"
                                      f"{did_you_mean(call.operation, catalogue.operation_names)}")
    if not known_id(call.authId):
        return not_found(call.authId)
    try:
        connector, info = await services(request).pool.get_with_info(call.authId, owner(request))
    except AuthenticationNotFound:
        return not_found(call.authId)
    if info.status != "connected":
        return status.reconnect_response(info)  # nothing is sent with a marked authentication
    started = time.perf_counter()
    response, outcome = await run_call(connector, call, catalogue)
    await status.mark_after_failure(services(request), info, outcome)
    logger.info("call %s auth=%s -> %s in %.1f ms", call.operation, call.authId, outcome,
                (time.perf_counter() - started) * 1000)
    return response


async def run_call(connector, call: CallRequest, catalogue: Catalogue) -> tuple[Response, str]:
    """The call's response, and a word for the log: success, or the error's class name."""
    try:
        if call.returnOutputSchema:
            # Validate, but do not send: asking for the schema of a create must not create anything.
            connector.validate(call.operation, call.input)
            return envelopes.success({"output_schema": catalogue.output_schema(call.operation)}), "schema"
        output = await connector.acall(call.operation, call.input)
        try:
            return envelopes.success(output), "success"
        except RecursionError:  # an answer the parser took but the encoder cannot nest that deep
            return envelopes.outreach_failure(f"Outreach's answer is {TOO_DEEP}", None, None), "NestedTooDeep"
    except ConnectorError as exc:
        response = envelopes.for_error(exc)
        if response is None:
            raise
        return response, type(exc).__name__


async def create_authentication(request: Request) -> Response:
    try:
        limits = services(request).settings
        body = await parse_body(request, AuthenticationRequest, "authentication", limits.max_json_depth,
                                limits.max_json_items)
        credentials = parse_credentials(body.credentials)
    except BadRequest as exc:
        return envelopes.problem(400, exc.message)
    except ValidationError as exc:
        return envelopes.problem(400, f"Invalid authentication: {credentials_problems(exc)}")
    if isinstance(credentials, OAuthCredentials) and credentials.token_url is not None and \
            credentials.token_url.rstrip("/") not in services(request).settings.trusted_token_urls:
        return envelopes.problem(400, "Invalid authentication: credentials.token_url: not a token endpoint this "
                                      "server trusts (its --token-url, or one given with --allow-token-url)")
    try:
        created = await run_in_threadpool(services(request).store.create, body.name, credentials,
                                          owner=owner(request),
                                          max_per_owner=services(request).settings.max_authentications_per_key)
    except TooManyAuthentications as exc:
        return envelopes.problem(409, str(exc))
    logger.info("stored authentication %s (%s)", created.id, created.kind)
    return JSONResponse({"id": created.id}, status_code=201)


async def list_authentications(request: Request) -> Response:
    """The caller's authentications, oldest first: ``?limit=`` (1-100, default 50) and ``?after=<cursor>``;
    ``?status=`` and ``?changed_since=`` filter (see status.list_filters)."""
    limit_text = request.query_params.get("limit", "50")
    if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= 100:
        return envelopes.problem(400, "Invalid query: limit must be a whole number from 1 to 100")
    try:
        filters = status.list_filters(request.query_params)
    except ValueError as exc:
        return envelopes.problem(400, f"Invalid query: {exc}")
    try:
        found, cursor = await run_in_threadpool(services(request).store.page, owner(request),
                                                request.query_params.get("after"), int(limit_text), **filters)
    except ValueError:
        return envelopes.problem(400, "Invalid query: after is not a cursor this server handed out")
    return JSONResponse({"elements": [auth.to_public_dict() for auth in found], "next_page_after": cursor})


async def get_authentication(request: Request) -> Response:
    auth_id = request.path_params["auth_id"]
    if not known_id(auth_id):
        return not_found(auth_id)
    found = await run_in_threadpool(services(request).store.get, auth_id, owner(request))
    if found is None:
        return not_found(auth_id)
    return JSONResponse(found.to_public_dict())


async def delete_authentication(request: Request) -> Response:
    auth_id = request.path_params["auth_id"]
    if known_id(auth_id):  # its subscriptions first: deleting their Outreach webhooks needs its credentials
        await remove_for_authentication(services(request), auth_id, owner(request))
    if not known_id(auth_id) or not await run_in_threadpool(services(request).store.delete, auth_id, owner(request)):
        return not_found(auth_id)
    await services(request).pool.forget(auth_id)
    logger.info("deleted authentication %s", auth_id)
    return Response(status_code=204)


def require_connector(request: Request) -> Catalogue:
    catalogue = services(request).catalogue
    name, version = request.path_params["name"], request.path_params["version"]
    if not catalogue.serves(name, version):
        raise HTTPException(404, f"Connector {shown(name)!r} version {shown(version)!r} was not found")
    return catalogue

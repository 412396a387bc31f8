"""The endpoints: connectors, operations, call, authentications. Each reads like the contract."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from outreach_connector.server.credentials import AuthenticationNotFound, CredentialStore, parse_credentials
from outreach_connector.errors import ConnectorError
from outreach_connector.suggest import did_you_mean
from outreach_connector.server import envelopes
from outreach_connector.server.catalogue import Catalogue
from outreach_connector.server.connections import ConnectorPool
from outreach_connector.server.requests import (AuthenticationRequest, BadRequest, CallRequest, describe,
                                                parse_body)

logger = logging.getLogger("outreach_connector.server")


@dataclass(frozen=True)
class Services:
    catalogue: Catalogue
    store: CredentialStore
    pool: ConnectorPool


def services(request: Request) -> Services:
    return request.app.state.services


async def list_connectors(request: Request) -> Response:
    return JSONResponse(services(request).catalogue.connectors())


async def list_operations(request: Request) -> Response:
    catalogue = require_connector(request)
    return JSONResponse(catalogue.operations)


async def call_operation(request: Request) -> Response:
    catalogue = require_connector(request)
    try:
        call = await parse_body(request, CallRequest, "call request")
    except BadRequest as exc:
        return envelopes.problem(400, exc.message)
    if call.operation not in catalogue.operation_names:
        return envelopes.problem(404, f"The connector operation {call.operation!r} was not found"
                                      f"{did_you_mean(call.operation, catalogue.operation_names)}")
    try:
        connector = await services(request).pool.get(call.authId)
    except AuthenticationNotFound:
        return envelopes.problem(404, f"Authentication {call.authId!r} was not found")
    started = time.perf_counter()
    response, outcome = await run_call(connector, call, catalogue)
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
        return envelopes.success(await connector.acall(call.operation, call.input)), "success"
    except ConnectorError as exc:
        response = envelopes.for_error(exc)
        if response is None:
            raise
        return response, type(exc).__name__


async def create_authentication(request: Request) -> Response:
    try:
        body = await parse_body(request, AuthenticationRequest, "authentication")
        credentials = parse_credentials(body.credentials)
    except BadRequest as exc:
        return envelopes.problem(400, exc.message)
    except ValidationError as exc:
        return envelopes.problem(400, f"Invalid authentication: {describe(exc, 'credentials.')}")
    created = await run_in_threadpool(services(request).store.create, body.name, credentials)
    logger.info("stored authentication %s (%s)", created.id, created.kind)
    return JSONResponse({"id": created.id}, status_code=201)


async def get_authentication(request: Request) -> Response:
    auth_id = request.path_params["auth_id"]
    found = await run_in_threadpool(services(request).store.get, auth_id)
    if found is None:
        return envelopes.problem(404, f"Authentication {auth_id!r} was not found")
    return JSONResponse(found.to_public_dict())


async def delete_authentication(request: Request) -> Response:
    auth_id = request.path_params["auth_id"]
    if not await run_in_threadpool(services(request).store.delete, auth_id):
        return envelopes.problem(404, f"Authentication {auth_id!r} was not found")
    await services(request).pool.forget(auth_id)
    logger.info("deleted authentication %s", auth_id)
    return Response(status_code=204)


def require_connector(request: Request) -> Catalogue:
    catalogue = services(request).catalogue
    name, version = request.path_params["name"], request.path_params["version"]
    if not catalogue.serves(name, version):
        raise HTTPException(404, f"Connector {name!r} version {version!r} was not found")
    return catalogue

"""The Starlette application: routes, and the translation between HTTP and the API pipeline.

Routes: ``/api/v2/...`` (every method; the pipeline decides), ``POST /oauth/token``, the consent page
``GET``/``POST /oauth/authorize``, and a JSON 404 for anything else. The fault gate wraps the whole middleware
stack, outside Starlette's error handling.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .consent import authorize
from .clock import iso
from .errors import method_not_allowed, route_not_found
from .gate import FaultGate
from .oauth import token_request
from .resources import JSONAPI, ApiRequest, ApiResponse, error_response
from .webhooks import SIMULATED

if TYPE_CHECKING:
    from .sandbox import Sandbox

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def encode(document: object) -> bytes:
    # check_circular off: documents are trees built per request, and a 1000-prospect page is ~5 MB
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), check_circular=False).encode()


def to_response(result: ApiResponse) -> Response:
    if result.document is None:
        return Response(status_code=result.status, headers=result.headers)
    return Response(encode(result.document), result.status, result.headers, media_type=JSONAPI)


def api_request(request: Request, body: bytes) -> ApiRequest:
    return ApiRequest(method=request.method, path=request.url.path, query=request.query_params.multi_items(),
                      headers={k.lower(): v for k, v in request.headers.items()}, body=body, base=api_base(request),
                      url=str(request.url))


def api_base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}/api/v2"


def control_error(status: int, detail: str) -> Response:
    return Response(encode({"errors": [{"status": str(status), "detail": detail}]}), status,
                    media_type="application/json")


def control_answer(document: dict) -> Response:
    return Response(encode(document), 202, media_type="application/json")


MAX_CONTROL_BODY = 4096


def control_body(body: bytes, fields: dict[str, type], optional: bool = False) -> dict | Response:
    """A sandbox control request's JSON object, its members checked by type (a 400 naming the member)."""
    if len(body) > MAX_CONTROL_BODY:
        return control_error(413, f"at most {MAX_CONTROL_BODY} bytes")
    try:
        document = json.loads(body)
    except ValueError:
        return control_error(400, "the body must be a JSON object")
    if not isinstance(document, dict):
        return control_error(400, "the body must be a JSON object")
    for name, kind in fields.items():
        value = document.get(name)
        if value is None and optional:
            continue
        if not isinstance(value, kind) or isinstance(value, bool):
            return control_error(400, f"{name!r} must be {'a string' if kind is str else 'an integer'}")
    return document


class SandboxStarlette(Starlette):
    """Starlette with the fault gate as the outermost layer (a dropped connection must not become a 500)."""

    def __init__(self, sandbox: Sandbox, **kwargs):
        self._sandbox = sandbox
        super().__init__(**kwargs)

    def build_middleware_stack(self):
        sandbox = self._sandbox
        return FaultGate(super().build_middleware_stack(), sandbox.faults, sandbox.requests,
                         sandbox.config.max_logged_requests)


def build_app(sandbox: Sandbox) -> Starlette:
    async def api(request: Request) -> Response:
        body = await request.body()
        with sandbox.lock:
            result = sandbox.api.handle(api_request(request, body))
        return to_response(result)

    async def token(request: Request) -> Response:
        if request.method != "POST":
            return to_response(error_response(method_not_allowed(request.method, request.url.path, ["POST"])))
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        with sandbox.lock:
            status, payload, extra = token_request(sandbox.tokens, sandbox.config, headers, body, sandbox.now())
        return Response(encode(payload), status, extra, media_type="application/json")

    async def consent(request: Request) -> Response:
        body = await request.body() if request.method == "POST" else b""
        path_qs = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        with sandbox.lock:
            page = authorize(sandbox.config, sandbox.tokens, request.method, path_qs,
                             dict(request.query_params), body, sandbox.now())
        if page.location:
            return Response(status_code=page.status, headers={"Location": page.location, "Cache-Control": "no-store"})
        return HTMLResponse(page.html, page.status, headers={"Cache-Control": "no-store"})

    async def simulate_event(request: Request) -> Response:
        """``POST /sandbox/events`` ``{"event": "mailing.replied", "id": 12}``: simulated activity, delivered."""
        found = control_body(await request.body(), {"event": str, "id": int})
        if isinstance(found, Response):
            return found
        with sandbox.lock:
            try:
                events = sandbox.webhooks.simulate(found["event"], found["id"], api_base(request),
                                                   iso(sandbox.now()))
            except KeyError:
                return control_error(400, f"cannot simulate {found['event']!r}; one of: {', '.join(SIMULATED)}")
            except LookupError:
                return control_error(404, f"no {found['event'].partition('.')[0]} {found['id']}")
        return control_answer({"event": found["event"], "id": found["id"], "event_ids": [e.id for e in events]})

    async def redeliver(request: Request) -> Response:
        """``POST /sandbox/webhooks/{id}/redeliver`` ``{"event_id"?}``: that event again, same event id."""
        found = control_body(await request.body() or b"{}", {"event_id": str}, optional=True)
        if isinstance(found, Response):
            return found
        raw = request.path_params["webhook_id"]
        event = None
        if raw.isdigit():
            with sandbox.lock:
                event = sandbox.webhooks.redeliver(int(raw), found.get("event_id"), iso(sandbox.now()))
        if event is None:
            return control_error(404, "no such webhook, or it was never sent that event")
        return control_answer({"webhook_id": int(raw), "event_id": event.id, "event": event.name})

    async def cleanup_webhook(request: Request) -> Response:
        """``POST /api/v2/webhooks/cleanup`` ``{"cleanupToken"}``: removes that webhook, no access token needed."""
        found = control_body(await request.body(), {"cleanupToken": str})
        if isinstance(found, Response):
            return found
        with sandbox.lock:
            removed = sandbox.webhooks.cleanup(found["cleanupToken"])
        return Response(status_code=204) if removed is not None else control_error(404, "no webhook has this token")

    async def unknown(request: Request) -> Response:
        return to_response(error_response(route_not_found(request.url.path)))

    routes = [Route("/oauth/token", token, methods=METHODS),
              Route("/oauth/authorize", consent, methods=["GET", "POST"]),
              Route("/api/v2/webhooks/cleanup", cleanup_webhook, methods=["POST"]),
              Route("/api/v2/{rest:path}", api, methods=METHODS),
              Route("/sandbox/events", simulate_event, methods=["POST"]),
              Route("/sandbox/webhooks/{webhook_id}/redeliver", redeliver, methods=["POST"]),
              Route("/{rest:path}", unknown, methods=METHODS)]
    return SandboxStarlette(sandbox, routes=routes)

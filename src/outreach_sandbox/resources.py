"""Generic handlers for every resource type: list, get, create, update, delete and member actions.

Nothing here branches on a type's name except the compliance-request endpoint, which Outreach itself
documents as non-standard. What a type allows comes from its resource schema (``x-outreach.methods`` and
``actions``); what the server maintains comes from :mod:`.lifecycle`.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlencode

from . import actions, bulk, compliance, paging
from .config import SandboxConfig
from .errors import ApiError, method_not_allowed, not_found, route_not_found, unsupported_media_type
from .lifecycle import WriteContext, on_create, on_update, touch
from .query import parse_fields, parse_list_query
from .render import Renderer
from .schema import Catalogue, ResourceType
from .store import Record, Store
from .validation import check_identity, parse_document, validate_write

API_PREFIX = "/api/v2"
JSONAPI = "application/vnd.api+json"
COLLECTION_VERBS = {"GET": "list", "POST": "create"}
MEMBER_VERBS = {"GET": "get", "PATCH": "update", "DELETE": "delete"}
CURSOR_PARAMS = ("page[after]", "page[before]")


@dataclass(frozen=True)
class ApiRequest:
    """One API request, reduced to what the handlers need."""

    method: str
    path: str  # as received, e.g. /api/v2/prospects/1
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base: str  # absolute API base URL of this request, e.g. http://sandbox.test/api/v2
    url: str  # the absolute request URL

    @property
    def route(self) -> str:
        return self.path[len(API_PREFIX):] if self.path.startswith(API_PREFIX) else self.path


@dataclass
class ApiResponse:
    status: int
    document: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


def error_response(error: ApiError) -> ApiResponse:
    return ApiResponse(error.status, error.document(), dict(error.headers))


def _verb(rtype: ResourceType, verbs: dict[str, str], request: ApiRequest) -> str:
    allowed = [method for method, verb in verbs.items() if verb in rtype.methods]
    if not allowed:
        raise route_not_found(request.path)
    if verbs.get(request.method) not in rtype.methods:
        raise method_not_allowed(request.method, request.path, allowed)
    return verbs[request.method]


def _require_jsonapi(request: ApiRequest) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JSONAPI:
        raise unsupported_media_type(request.headers.get("content-type"))


def _member_id(rtype: ResourceType, raw: str) -> int:
    if not raw.isdigit():
        raise not_found(rtype.name, raw)
    return int(raw)


def _query_string(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs, quote_via=quote, safe="[],:")


class Resources:
    """The resource endpoints of one sandbox."""

    def __init__(self, catalogue: Catalogue, store: Store, config: SandboxConfig, rng: random.Random):
        self.catalogue = catalogue
        self.store = store
        self.config = config
        self.rng = rng
        self.renderer = Renderer(catalogue, store)
        # Told of every write: (type, created|updated|destroyed, record before, record after, API base, now ISO);
        # what it returns is not used.
        self.on_write: Callable[[str, str, Record | None, Record | None, str, str], object] | None = None

    def _written(self, request: ApiRequest, ctx: WriteContext, rtype: ResourceType, action: str,
                 before: Record | None, after: Record | None) -> None:
        if self.on_write is not None:
            self.on_write(rtype.name, action, before, after, request.base, ctx.now)

    def dispatch(self, request: ApiRequest, ctx: WriteContext) -> ApiResponse:
        """Route by shape: /{collection}, /{collection}/{id}, /{collection}/{id}/{relationship},
        /{collection}/{id}/actions/{name}."""
        segments = [s for s in request.route.split("/") if s]
        rtype = self.catalogue.by_collection.get(segments[0]) if segments else None
        if rtype is None or len(segments) > 4 or (len(segments) == 4 and segments[2] != "actions"):
            raise route_not_found(request.path)
        if len(segments) == 3 and segments[1] == "actions":
            return self.bulk_action(request, ctx, rtype, segments[2])
        if len(segments) == 1:
            verb = _verb(rtype, COLLECTION_VERBS, request)
            return self.list(request, rtype) if verb == "list" else self.create(request, ctx, rtype)
        ident = _member_id(rtype, segments[1])
        if len(segments) == 4:
            return self.action(request, ctx, rtype, ident, segments[3])
        if len(segments) == 3:
            return self.related(request, rtype, ident, segments[2])
        verb = _verb(rtype, MEMBER_VERBS, request)
        return getattr(self, verb)(request, ctx, rtype, ident)

    def _existing(self, rtype: ResourceType, ident: int) -> Record:
        record = self.store.get(rtype.name, ident)
        if record is None:
            raise not_found(rtype.name, ident)
        return record

    def _document(self, request: ApiRequest, rtype: ResourceType, record: Record, fields=None) -> dict:
        return {"data": self.renderer.resource(rtype.name, record, request.base, fields)}

    def list(self, request: ApiRequest, rtype: ResourceType) -> ApiResponse:
        config = self.config
        query = parse_list_query(self.catalogue, rtype, request.query, config.default_page_size, config.max_page_size,
                                 self._resolve_to_many)
        page = paging.run(self.store, rtype.name, query)
        data = [self.renderer.resource(rtype.name, r, request.base, query.fields) for r in page.records]
        document = {"data": data, "links": self._links(request, rtype, page)}
        if query.count:
            document["meta"] = {"count": page.total}
        return ApiResponse(200, document)

    def _resolve_to_many(self, rtype: ResourceType, relationship: str, wanted: set[int]) -> set[int] | None:
        """ids of ``rtype`` records whose to-many ``relationship`` includes any of ``wanted``."""
        target = rtype.relationships[relationship].targets[0]
        inverse = self.catalogue.inverse(rtype.name, relationship)
        if inverse is None:
            return None
        related = (self.store.get(target, ident) for ident in wanted)
        owners = (r.ref_id(inverse) for r in related if r is not None)
        return {owner for owner in owners if owner is not None}

    def _links(self, request: ApiRequest, rtype: ResourceType, page: paging.Page) -> dict:
        kept = [(k, v) for k, v in request.query if k not in CURSOR_PARAMS]
        collection = f"{request.base}/{rtype.collection}"

        def url(extra: list[tuple[str, str]]) -> str:
            query = _query_string(kept + extra)
            return f"{collection}?{query}" if query else collection

        links = {"self": request.url, "first": url([]),
                 "prev": url([("page[before]", page.prev_cursor)]) if page.prev_cursor else None}
        if page.next_cursor:
            links["next"] = url([("page[after]", page.next_cursor)])
        return links

    def related(self, request: ApiRequest, rtype: ResourceType, ident: int, name: str) -> ApiResponse:
        """A relationship's records: the related resource (to-one) or a filtered list of them (to-many)."""
        rel = rtype.relationships.get(name)
        if rel is None or not rel.targets:
            raise route_not_found(request.path)
        target = self.catalogue.types.get(rel.targets[0])
        link_filter = self.catalogue.link_filter(rtype.name, name) if rel.to_many else None
        if target is None or (rel.to_many and link_filter is None) or "list" not in target.methods:
            raise route_not_found(request.path)
        if request.method != "GET":
            raise method_not_allowed(request.method, request.path, ["GET"])
        record = self._existing(rtype, ident)
        if rel.to_many:
            query = [*request.query, (f"filter[{link_filter}][id]", str(ident))]
            return self.list(replace(request, query=query), target)
        ref = record.relationships.get(name)
        related = self.store.get(*ref) if ref else None
        if related is None:
            return ApiResponse(200, {"data": None})
        return ApiResponse(200, self._document(request, target, related, parse_fields(self.catalogue, target,
                                                                                       request.query)))

    def get(self, request: ApiRequest, _ctx: WriteContext, rtype: ResourceType, ident: int) -> ApiResponse:
        fields = parse_fields(self.catalogue, rtype, request.query)
        return ApiResponse(200, self._document(request, rtype, self._existing(rtype, ident), fields))

    def create(self, request: ApiRequest, ctx: WriteContext, rtype: ResourceType) -> ApiResponse:
        _require_jsonapi(request)
        data = parse_document(request.body)
        check_identity(rtype, data, None)
        if rtype.name == "complianceRequest":
            return self._create_compliance_request(request, ctx, data)
        write = validate_write(self.catalogue, self.store, rtype, data, creating=True)
        attributes = {k: v for k, v in write.attributes.items() if v is not None}
        record = Record(0, attributes, write.relationships)
        on_create(ctx, rtype, record)
        self.store.table(rtype.name).insert(record)
        self.store.log_write("POST", request.path, rtype.name, record.id)
        self._written(request, ctx, rtype, "created", None, record)
        document = self._document(request, rtype, record)
        return ApiResponse(201, document, {"Location": document["data"]["links"]["self"]})

    def _create_compliance_request(self, request: ApiRequest, ctx: WriteContext, data: dict) -> ApiResponse:
        record, batch = compliance.create(ctx, self.rng, data)
        self.store.log_write("POST", request.path, "complianceRequest", record.id)
        return ApiResponse(201, {"data": {"batch_compliance_request_id": batch}})

    def update(self, request: ApiRequest, ctx: WriteContext, rtype: ResourceType, ident: int) -> ApiResponse:
        _require_jsonapi(request)
        before = self._existing(rtype, ident)
        record = before.copy()
        data = parse_document(request.body)
        check_identity(rtype, data, ident)
        write = validate_write(self.catalogue, self.store, rtype, data, creating=False)
        for name, value in write.attributes.items():
            if value is None:
                record.attributes.pop(name, None)
            else:
                record.attributes[name] = value
        record.relationships.update(write.relationships)
        on_update(ctx, rtype, record)
        self.store.table(rtype.name).put(record)
        self.store.log_write("PATCH", request.path, rtype.name, ident)
        self._written(request, ctx, rtype, "updated", before, record)
        return ApiResponse(200, self._document(request, rtype, record))

    def delete(self, request: ApiRequest, ctx: WriteContext, rtype: ResourceType, ident: int) -> ApiResponse:
        before = self._existing(rtype, ident)
        self.store.table(rtype.name).delete(ident)
        self.store.log_write("DELETE", request.path, rtype.name, ident)
        self._written(request, ctx, rtype, "destroyed", before, None)
        return ApiResponse(204)

    def bulk_action(self, request: ApiRequest, ctx: WriteContext, rtype: ResourceType, name: str) -> ApiResponse:
        """/batches/actions/{name}: a bulk action, answered (200) with the batch it made."""
        if rtype.name != "batch" or bulk.find(name) is None:
            raise route_not_found(request.path)
        if request.method != "POST":
            raise method_not_allowed(request.method, request.path, ["POST"])
        _require_jsonapi(request)
        batch = bulk.start(ctx, name, parse_document(request.body).get("attributes") or {}, request.query)
        self.store.log_write("POST", request.path, "batch", batch.id)
        return ApiResponse(200, self._document(request, rtype, batch))

    def action(self, request: ApiRequest, ctx: WriteContext, rtype: ResourceType, ident: int,
               name: str) -> ApiResponse:
        spec = actions.find(rtype.name, name) if name in rtype.actions else None
        if spec is None:
            raise ApiError(404, [{"id": "resourceNotFound", "title": "Resource Not Found",
                                  "detail": f"{rtype.name} has no action '{name}'."}])
        if request.method != "POST":
            raise method_not_allowed(request.method, request.path, ["POST"])
        if request.body:
            _require_jsonapi(request)  # actions take no body; one that comes must still be JSON:API
        before = self._existing(rtype, ident)
        record = before.copy()
        raw = {k[len("actionParams["):-1]: v for k, v in request.query
               if k.startswith("actionParams[") and k.endswith("]")}
        result = spec.perform(ctx, record, actions.parse_params(spec, raw))
        if not isinstance(result, Record):
            return ApiResponse(200, result)
        touch(ctx, rtype, result)
        self.store.table(rtype.name).put(result)
        self.store.log_write("POST", request.path, rtype.name, ident)
        self._written(request, ctx, rtype, "updated", before, result)
        return ApiResponse(200, self._document(request, rtype, result))

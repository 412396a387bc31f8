"""The handler protocol, its one-step default, and the generic handlers: list, get, create, update, delete,
member actions, collection-level bulk actions and compliance requests.

A handler is a flow, after httpx's ``Auth.auth_flow``: a generator that yields each planned request
(``HttpCall``), receives its ``Reply`` and returns the output, never touching the network itself. Most kinds
need one request: they write a pure ``build``/``parse`` pair and take ``OneStep.flow``. Every generic
handler is driven by the operation entry (resource, path, id input) and the resource schema; none knows an
operation by name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from .. import jsonapi
from ..catalogue_folders import resource_for
from ..labels import LabelCache
from ..spec import MemberSpec, OperationSpec, ResourceSpec
from ..wire import Context, Flow, HttpCall, Reply


@dataclass(frozen=True)
class CallContext(Context):
    """What a handler may know of its session besides the base URL: the session's dropdown label indexes."""

    labels: LabelCache = field(default_factory=LabelCache)


# The spec type a handler takes: its kind's (spec.py), so it reads the fields the kind always has.
SpecIn = TypeVar("SpecIn", bound=OperationSpec, contravariant=True)
Spec = TypeVar("Spec", bound=OperationSpec)
ResourceSpecT = TypeVar("ResourceSpecT", bound=ResourceSpec)


class Handler(Protocol[SpecIn]):
    def build(self, spec: SpecIn, data: dict[str, Any], ctx: Context) -> HttpCall: ...

    def parse(self, spec: SpecIn, data: dict[str, Any], reply: Reply, ctx: Context) -> Any: ...

    def flow(self, spec: SpecIn, data: dict[str, Any], ctx: CallContext) -> Flow: ...


class OneStep(Generic[Spec]):
    """The flow of a handler that needs one request: ``build`` it, ``parse`` its reply."""

    def build(self, spec: Spec, data: dict[str, Any], ctx: Context) -> HttpCall:
        raise NotImplementedError

    def parse(self, spec: Spec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        raise NotImplementedError

    def flow(self, spec: Spec, data: dict[str, Any], ctx: CallContext) -> Flow:
        reply = yield self.build(spec, data, ctx)
        return self.parse(spec, data, reply, ctx)


class Writes(OneStep[ResourceSpecT]):
    """A create, update or delete: the session's labels of that resource are stale once it is done, so its
    next dropdown search shows the change."""

    def flow(self, spec: ResourceSpecT, data: dict[str, Any], ctx: CallContext) -> Flow:
        output = yield from super().flow(spec, data, ctx)
        ctx.labels.forget(spec.resource)
        return output


def member_path(spec: MemberSpec, data: dict[str, Any], **extra: str) -> str:
    return spec.path.format(**{spec.id_input: jsonapi.record_id(data[spec.id_input]), **extra})


class ReturnsBody(OneStep[Spec]):
    """Outreach's JSON:API document is the output, as it came."""

    def parse(self, spec: Spec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        return reply.body


class ListHandler(ReturnsBody[ResourceSpec]):
    def build(self, spec: ResourceSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        return HttpCall("GET", spec.path, params=tuple(jsonapi.list_params(spec.resource, data)))


class GetHandler(ReturnsBody[MemberSpec]):
    def build(self, spec: MemberSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        params = [(f"fields[{spec.resource}]", ",".join(data["fields"]))] if data.get("fields") else []
        return HttpCall("GET", member_path(spec, data), params=tuple(params))


class CreateHandler(ReturnsBody[ResourceSpec], Writes[ResourceSpec]):
    def build(self, spec: ResourceSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        resource = resource_for(spec)
        relationships: dict[str, Any] | None = data.get("relationships")
        if spec.id_relationships:  # flat id inputs, e.g. prospect_id -> relationships.prospect
            relationships = {rel: data[key] for key, rel in spec.id_relationships.items()}
        body = jsonapi.resource_document(resource, data.get("attributes"), relationships)
        return HttpCall("POST", spec.path, json=body, creates=True)


class UpdateHandler(ReturnsBody[MemberSpec], Writes[MemberSpec]):
    def build(self, spec: MemberSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        resource = resource_for(spec)
        body = jsonapi.resource_document(resource, data.get("attributes"), data.get("relationships"),
                                         id_value=data[spec.id_input])
        return HttpCall("PATCH", member_path(spec, data), json=body)


class DeleteHandler(Writes[MemberSpec]):
    def build(self, spec: MemberSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        return HttpCall("DELETE", member_path(spec, data))

    def parse(self, spec: MemberSpec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any:
        return {"deleted": True}


def action_param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ActionHandler(ReturnsBody[MemberSpec]):
    """``POST /{plural}/{id}/actions/{action}`` with ``actionParams[name]=value`` in the query string."""

    def build(self, spec: MemberSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        params = tuple((f"actionParams[{k}]", action_param_text(v))
                       for k, v in (data.get("action_params") or {}).items())
        return HttpCall("POST", member_path(spec, data, action=data["action"]), params=params)

# --- collection-level bulk actions ------------------------------------------------------------------------
# ``POST /batches/actions/<name>``; Outreach answers with the batch it made. The body is ``{"data": {"type":
# "batch", "attributes": {...}}}`` (``ids``, ``tags``, ``ownerId``... as the entry's ``bulk.attributes``
# declare); ``actionParams`` go in the query string, the ``filter`` one as a deep object built like a list's
# filters (``actionParams[filter][owner][id]=3``). Every call makes a batch, so the planned call is marked
# ``creates`` and is never blindly retried after an ambiguous failure.

def bulk_params(action_params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    params = []
    for name, value in action_params.items():
        if name == "filter":
            # filter[owner][id] -> actionParams[filter][owner][id]
            params += [("actionParams[filter]" + key.removeprefix("filter"), text)
                       for key, text in jsonapi.filter_params(value)]
        else:
            params.append((f"actionParams[{name}]", action_param_text(value)))
    return tuple(params)


class CollectionActionHandler(ReturnsBody[ResourceSpec]):
    def build(self, spec: ResourceSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        body = {"data": {"type": "batch", "attributes": dict(data.get("attributes") or {})}}
        return HttpCall("POST", spec.path, params=bulk_params(data.get("action_params") or {}), json=body,
                        creates=True)

# --- compliance requests: Outreach's non-standard create (snake_case attributes, non-JSON:API answer) -------

COMPLIANCE_FIELDS = ("requester_email", "request_type", "object_type", "request_object_email")


class ComplianceRequestHandler(ReturnsBody[ResourceSpec]):
    def build(self, spec: ResourceSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        body = {"data": {"type": spec.resource, "attributes": {k: data[k] for k in COMPLIANCE_FIELDS}}}
        return HttpCall("POST", spec.path, json=body, creates=True)

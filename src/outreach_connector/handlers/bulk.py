"""Collection-level bulk actions: ``POST /batches/actions/<name>``; Outreach answers with the batch it made.

The body is ``{"data": {"type": "batch", "attributes": {...}}}`` (``ids``, ``tags``, ``ownerId``... as the
entry's ``bulk.attributes`` declare); ``actionParams`` go in the query string, the ``filter`` one as a deep
object built like a list's filters (``actionParams[filter][owner][id]=3``). Every call makes a batch, so the
planned call is marked ``creates`` and is never blindly retried after an ambiguous failure.
"""
from __future__ import annotations

from typing import Any

from .. import jsonapi
from ..spec import ResourceSpec
from ..wire import Context, HttpCall
from .resources import ReturnsBody, action_param_text


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

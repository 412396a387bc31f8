"""Compliance requests: Outreach's non-standard create (snake_case attributes, non-JSON:API answer)."""
from __future__ import annotations

from typing import Any

from ..spec import ResourceSpec
from ..wire import Context, HttpCall
from .resources import ReturnsBody

FIELDS = ("requester_email", "request_type", "object_type", "request_object_email")


class ComplianceRequestHandler(ReturnsBody[ResourceSpec]):
    def build(self, spec: ResourceSpec, data: dict[str, Any], ctx: Context) -> HttpCall:
        body = {"data": {"type": spec.resource, "attributes": {k: data[k] for k in FIELDS}}}
        return HttpCall("POST", spec.path, json=body, creates=True)

"""The handler protocol: build a planned HTTP request, parse the reply it got.

Handlers are pairs of pure functions (``build`` and ``parse``) that never touch the network, so each can be
tested by feeding it data.
"""
from __future__ import annotations

from typing import Any, Protocol

from ..spec import OperationSpec
from ..wire import Context, HttpCall, Reply


class Handler(Protocol):
    def build(self, spec: OperationSpec, data: dict[str, Any], ctx: Context) -> HttpCall: ...

    def parse(self, spec: OperationSpec, data: dict[str, Any], reply: Reply, ctx: Context) -> Any: ...

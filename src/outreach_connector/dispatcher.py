"""One call, start to finish: look up, validate input, build, send, parse, validate output, return."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from .client import Sender
from .drift import DriftMonitor
from .errors import InputInvalid
from .wire import Context, HttpCall, Reply
from .registry import Registered, Registry
from .validation import input_problems
from .responses import nested_too_deep, too_deep


class Dispatcher:
    def __init__(self, registry: Registry, sender: Sender, ctx: Context, drift: DriftMonitor | None = None) -> None:
        self.registry = registry
        self.sender = sender
        self.ctx = ctx
        self.drift = drift or DriftMonitor()

    def validate(self, name: str, data: Any) -> Registered:
        entry = self.registry[name]
        problems = input_problems(entry.input_validator, data, entry.read_only, entry.input_schema)
        if problems:
            raise InputInvalid(name, problems)
        return entry

    def prepare(self, name: str, data: Any, shrinkable: bool = False) -> tuple[Registered, HttpCall]:
        """Validate the input and plan the request; raises before anything is sent."""
        entry = self.validate(name, data)
        request = entry.handler.build(entry.spec, data, self.ctx)
        return entry, replace(request, shrinkable=True) if shrinkable else request

    def finish(self, entry: Registered, data: Any, reply: Reply, request: HttpCall) -> Any:
        try:
            output = entry.handler.parse(entry.spec, data, reply, self.ctx)
            self.drift.check(entry.spec.name, entry.output_validator, output, reply.body, reply.status_code)
        except (RecursionError, ValueError) as exc:
            if not too_deep(exc):
                raise
            raise nested_too_deep(reply, request.method) from None
        return output

    def call(self, name: str, data: Any, shrinkable: bool = False) -> Any:
        entry, request = self.prepare(name, data, shrinkable)
        return self.finish(entry, data, self.sender.send(request), request)

    async def acall(self, name: str, data: Any, shrinkable: bool = False) -> Any:
        entry, request = self.prepare(name, data, shrinkable)
        return self.finish(entry, data, await self.sender.asend(request), request)

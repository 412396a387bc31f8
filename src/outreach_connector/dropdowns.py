"""Runs DDL calls for one session: validates, drives the handler's request flow, validates the output.

A DDL call may take several requests (see handlers/ddl.py), and its label indexes belong to the session
(``Connector``), so DDL calls come here instead of the dispatcher's one-request path. The same flow runs
sync and async: a generator that yields planned requests and receives their replies.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Generator

from .dispatcher import Dispatcher
from .errors import OutputInvalid
from .labels import LabelCache
from .validation import errors_for
from .wire import HttpCall, Reply


WRITES = frozenset({"create", "update", "delete"})


class Dropdowns:
    def __init__(self, dispatcher: Dispatcher, labels: LabelCache | None = None) -> None:
        self.dispatcher = dispatcher
        self.labels = labels or LabelCache()

    def handles(self, name: str) -> bool:
        """Operations whose handler runs a request flow (the DDLs); an unknown name raises UnknownOperation."""
        return hasattr(self.dispatcher.registry[name].handler, "flow")

    def written(self, name: str) -> None:
        """After a call: a create, update or delete makes the session's labels of that resource stale."""
        spec = self.dispatcher.registry[name].spec
        if spec.kind in WRITES and spec.resource:
            self.labels.forget(spec.resource)

    def _start(self, name: str, data: Any) -> tuple[Any, Generator[HttpCall, Reply, Any]]:
        entry = self.dispatcher.validate(name, data)
        return entry, entry.handler.flow(entry.spec, data, self.labels)

    def call(self, name: str, data: Any) -> Any:
        entry, flow = self._start(name, data)
        return checked(entry, drive(flow, self.dispatcher.sender.send))

    async def acall(self, name: str, data: Any) -> Any:
        entry, flow = self._start(name, data)
        return checked(entry, await adrive(flow, self.dispatcher.sender.asend))


def drive(flow: Generator[HttpCall, Reply, Any], send: Callable[[HttpCall], Reply]) -> Any:
    try:
        request = next(flow)
        while True:
            request = flow.send(send(request))
    except StopIteration as done:
        return done.value


async def adrive(flow: Generator[HttpCall, Reply, Any], send: Callable[[HttpCall], Awaitable[Reply]]) -> Any:
    try:
        request = next(flow)
        while True:
            request = flow.send(await send(request))
    except StopIteration as done:
        return done.value


def checked(entry: Any, output: Any) -> Any:
    problems = errors_for(entry.output_validator, output)
    if problems:
        raise OutputInvalid(entry.spec.name, problems, raw=output, status_code=200)
    return output

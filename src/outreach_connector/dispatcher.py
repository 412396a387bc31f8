"""One call, start to finish: look up, validate input, run the handler's flow, validate output, return.

Every call takes the same way: the handler's flow (handlers/resources.py) yields requests, ``drive`` (or
``adrive``) sends each one and hands the reply back, or throws the error in where the flow may handle it (a
walk shrinking its page). A ``paginate: true`` input wraps the list flow in a walk (pagination.py) whose
pages are each validated, so a walk that fails part-way keeps what came before.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator

from .client import Sender
from .drift import DriftMonitor
from .errors import ConnectorError, InputInvalid
from .handlers import CallContext
from .pagination import AnswerBound, CursorPaginator, PageFlow, gathered, keeps_partial, next_page
from .registry import Registered, Registry
from .responses import nested_too_deep, too_deep
from .validation import input_problems
from .wire import Flow, HttpCall, Reply


class Dispatcher:
    def __init__(self, registry: Registry, sender: Sender, ctx: CallContext, drift: DriftMonitor | None = None) -> None:
        self.registry = registry
        self.sender = sender
        self.ctx = ctx
        self.drift = drift or DriftMonitor()
        # A host's bound on what one ``paginate`` call gathers (the server sets it per session).
        self.answer_bound: AnswerBound | None = None

    def validate(self, name: str, data: Any) -> Registered:
        entry = self.registry[name]
        problems = input_problems(entry.input_validator, data, entry.read_only, entry.input_schema)
        if problems:
            raise InputInvalid(name, problems)
        return entry

    def start(self, name: str, data: Any) -> Flow:
        """The call as one flow, its input validated; nothing is sent until it is driven."""
        entry = self.validate(name, data)
        if isinstance(data, dict) and data.get("paginate"):
            return gathered(self.page_flow(entry), self.paginator(entry, data, self.answer_bound))
        return self.checked(entry, data)

    def prepare(self, name: str, data: Any) -> HttpCall | None:
        """Everything ``drive`` checks before the first request, and that request (None: none is needed)."""
        flow = self.start(name, data)
        try:
            return next(flow)
        except StopIteration:
            return None
        finally:
            flow.close()

    def drive(self, name: str, data: Any) -> Any:
        return run(self.start(name, data), self.sender.send)

    async def adrive(self, name: str, data: Any) -> Any:
        return await arun(self.start(name, data), self.sender.asend)

    def pages(self, name: str, data: Any) -> tuple[PageFlow, CursorPaginator]:
        """A walk over a list operation, page by page (``iterate``): never bounded by ``answer_bound``."""
        entry = self.validate(name, data)
        return self.page_flow(entry), self.paginator(entry, data)

    def walk(self, page_flow: PageFlow, paginator: CursorPaginator) -> Iterator[Any]:
        # The walks hold no name for a page: the previous page is freed before the next is fetched, so at most
        # one page (plus the record the caller holds) is alive at a time.
        with keeps_partial(paginator):
            while not paginator.done:
                yield from run(next_page(page_flow, paginator), self.sender.send)

    async def awalk(self, page_flow: PageFlow, paginator: CursorPaginator) -> AsyncIterator[Any]:
        with keeps_partial(paginator):
            while not paginator.done:
                for record in await arun(next_page(page_flow, paginator), self.sender.asend):
                    yield record

    @staticmethod
    def paginator(entry: Registered, data: dict[str, Any], bound: AnswerBound | None = None) -> CursorPaginator:
        if entry.spec.kind != "list":
            raise InputInvalid(entry.spec.name, [{"path": "paginate", "message": "only list operations paginate"}])
        return CursorPaginator.for_input(data, bound)

    def page_flow(self, entry: Registered) -> PageFlow:
        return lambda page_input, shrinkable: self.checked(entry, page_input, shrinkable)

    def checked(self, entry: Registered, data: Any, shrinkable: bool = False) -> Flow:
        """The handler's flow, its output validated against the last reply (drift reported, not raised).

        ``shrinkable`` marks its requests as pages a walk will ask again smaller (never retried on 502/504).
        """
        flow = entry.handler.flow(entry.spec, data, self.ctx)
        request: HttpCall | None = None
        reply: Reply | None = None
        outcome: Reply | ConnectorError | None = None
        try:
            try:
                while True:
                    request = resume(flow, outcome)
                    try:
                        outcome = reply = yield replace(request, shrinkable=True) if shrinkable else request
                    except ConnectorError as error:
                        outcome = error
            except StopIteration as done:
                output = done.value
            raw, status = (output, 200) if reply is None else (reply.body, reply.status_code)
            self.drift.check(entry.spec.name, entry.output_validator, output, raw, status)
        except (RecursionError, ValueError) as exc:
            # An answer nesting deeper than the handlers or the validator can follow is Outreach's fault.
            if reply is None or request is None or not too_deep(exc):
                raise
            raise nested_too_deep(reply, request.method) from None
        return output


def resume(flow: Flow, outcome: Reply | ConnectorError | None) -> HttpCall:
    """The flow's next request: its first, or the one after the reply sent in or the error thrown in (a flow
    that does not handle the error raises it again)."""
    if outcome is None:
        return next(flow)
    if isinstance(outcome, ConnectorError):
        return flow.throw(outcome)
    return flow.send(outcome)


def run(flow: Flow, send: Callable[[HttpCall], Reply]) -> Any:
    """Send each request the flow yields and hand it the outcome; return the flow's output."""
    outcome: Reply | ConnectorError | None = None
    try:
        while True:
            request = resume(flow, outcome)
            try:
                outcome = send(request)
            except ConnectorError as error:
                outcome = error
    except StopIteration as done:
        return done.value


async def arun(flow: Flow, send: Callable[[HttpCall], Awaitable[Reply]]) -> Any:
    outcome: Reply | ConnectorError | None = None
    try:
        while True:
            request = resume(flow, outcome)
            try:
                outcome = await send(request)
            except ConnectorError as error:
                outcome = error
    except StopIteration as done:
        return done.value

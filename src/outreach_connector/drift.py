"""Output drift: an attribute whose value does not fit its schema is reported, and the record kept as sent.

Output validation runs on every call. What it finds falls in two kinds:

- a **structural** violation (no ``data``, a wrong ``type``, no ``id``, a list where one record belongs, a
  relationship that is not a relationship object): the answer cannot be trusted as a record, so
  ``OutputInvalid`` is raised, always;
- **drift**: an attribute value of another type than its schema says (Outreach changed a type, or its documents
  never matched its data). By default the output is returned exactly as Outreach sent it and the drift is
  reported: one ``logging`` warning per operation and attribute path (on the ``outreach_connector.drift``
  logger, never with the value), a count in ``DriftMonitor.counts``, and a :class:`DriftReport` for each
  drifted value handed to the host's ``on_drift`` callback. With ``strict=True`` drift raises ``OutputInvalid``
  like a structural violation.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from .errors import OutputInvalid
from .validation import dotted, errors_for

logger = logging.getLogger("outreach_connector.drift")

JSON_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number",
                   type(None): "null"}


@dataclass(frozen=True)
class DriftReport:
    """One attribute value that does not fit its schema, in a record returned to the caller as sent."""

    operation: str
    attribute_path: str  # the same for every record: ``attributes.duties``
    path: str  # where in this output: ``data[3].attributes.duties``
    record_type: Any
    record_id: Any
    message: str  # the schema's complaint; it may quote the value
    value: Any


def attribute_path(path: list[Any]) -> list[Any] | None:
    """``[data, (index,) attributes, name, ...]`` -> ``[attributes, name, ...]``; None for anything else."""
    rest = path[1:] if path[:1] == ["data"] else None
    if rest and isinstance(rest[0], int):
        rest = rest[1:]
    return rest if rest and len(rest) >= 2 and rest[0] == "attributes" else None


def value_at(instance: Any, path: list[Any]) -> Any:
    for part in path:
        instance = instance[part]
    return instance


def record_of(output: Any, path: list[Any]) -> dict:
    record = value_at(output, path[:2] if isinstance(path[1], int) else path[:1])
    return record if isinstance(record, dict) else {}


class DriftMonitor:
    """Sorts output violations into structural and drift; raises or reports. One per ``Connector``."""

    def __init__(self, strict: bool = False, on_drift: Callable[[DriftReport], None] | None = None) -> None:
        self.strict = strict
        self.on_drift = on_drift
        self.counts: Counter[tuple[str, str]] = Counter()  # (operation, attribute path) -> drifted values
        self._lock = threading.Lock()

    def check(self, operation: str, validator: Any, output: Any, raw: Any, status_code: int) -> None:
        """Raise ``OutputInvalid`` on a structural violation (or any violation when strict); report drift."""
        if validator.is_valid(output):
            return
        drift = []
        for error in validator.iter_errors(output):
            attr = attribute_path(list(error.instance_path))
            if self.strict or attr is None:
                raise OutputInvalid(operation, errors_for(validator, output), raw=raw, status_code=status_code)
            drift.append((error, attr))
        for error, attr in drift:
            self.report(self.report_of(operation, output, list(error.instance_path), attr, error.message))

    @staticmethod
    def report_of(operation: str, output: Any, path: list[Any], attr: list[Any], message: str) -> DriftReport:
        record = record_of(output, path)
        return DriftReport(operation=operation, attribute_path=dotted(attr), path=dotted(path),
                           record_type=record.get("type"), record_id=record.get("id"), message=message,
                           value=value_at(output, path))

    def report(self, drift: DriftReport) -> None:
        key = (drift.operation, drift.attribute_path)
        with self._lock:
            self.counts[key] += 1
            first = self.counts[key] == 1
        if first:  # the value is left out: it may be personal data
            logger.warning("%s: Outreach sent %s as %s, which its output schema does not allow; the record is "
                           "returned as sent (further drift on this path is counted, not logged)",
                           drift.operation, drift.attribute_path, JSON_TYPE_NAMES.get(type(drift.value), "value"))
        if self.on_drift is not None:
            self.on_drift(drift)

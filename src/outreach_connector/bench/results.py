"""What a case measured, the target it is held to, and the table and JSON the bench prints."""
from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Target:
    """``value <= limit`` (a cost ratio), ``value < limit`` (megabytes) or ``value >= limit`` (a throughput)."""

    op: Literal["<=", "<", ">="]
    limit: float
    unit: str = "x"

    def met(self, value: float) -> bool:
        return {"<=": value <= self.limit, "<": value < self.limit, ">=": value >= self.limit}[self.op]

    def __str__(self) -> str:
        return f"{self.op} {self.limit:g}{' ' if self.unit != 'x' else ''}{self.unit}"


@dataclass
class Result:
    """One row: connector and floor as measured (``unit``), and the checked ``value``."""

    key: str
    label: str
    connector: float
    floor: float
    unit: str
    value: float
    target: Target
    runs: int
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.target.met(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "target": str(self.target), "passed": self.passed}


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "cpus": os.cpu_count(), "cpu_model": cpu_model(), "platform": platform.platform()}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def number(value: float, unit: str) -> str:
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.0f} us"
        return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit in ("MB", "KB", "ms"):
        return f"{value:.1f} {unit}"
    return f"{value:.3g} {unit}"


def value_text(result: Result) -> str:
    return f"{result.value:.2f}x" if result.target.unit == "x" else number(result.value, result.target.unit)


def table(results: list[Result]) -> str:
    """A Markdown table, readable in a terminal and pasteable into the README."""
    rows = [["case", "connector", "raw httpx floor", "ratio / value", "target", "ok", "runs"]]
    for r in results:
        rows.append([r.label, number(r.connector, r.unit), number(r.floor, r.unit), value_text(r),
                     str(r.target), "yes" if r.passed else "NO", str(r.runs)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def notes(results: list[Result]) -> str:
    return "\n".join(f"- {r.label}: {r.note}" for r in results if r.note)


def write_json(path: str, results: list[Result], settings: dict[str, Any], seconds: float) -> None:
    document = {"machine": machine(), "settings": settings, "seconds": round(seconds, 1),
                "passed": all(r.passed for r in results), "results": [r.to_dict() for r in results]}
    Path(path).write_text(json.dumps(document, indent=2) + "\n")

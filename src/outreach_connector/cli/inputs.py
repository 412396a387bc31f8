"""The operation input a user gives ``call``: inline JSON, ``@file``, ``-`` for stdin, or nothing for ``{}``."""
from __future__ import annotations

import json
import sys
from typing import Any, TextIO

# Re-exported for the old import path: errors.py holds every error class.
from ..errors import InputUnreadable as InputUnreadable

FORMS = "give it inline ('{\"page_size\": 5}'), as @file.json, or as - with JSON piped on stdin"


def read_input(text: str | None, stdin: TextIO | None = None) -> Any:
    if text is None:
        return {}
    if text == "-":
        return parse(read_stdin(stdin or sys.stdin), "stdin")
    if text.startswith("@"):
        return parse(read_file(text[1:]), text)
    return parse(text, "the input")


def read_stdin(stream: TextIO) -> str:
    if stream.isatty():
        raise InputUnreadable(f"input '-' reads JSON from stdin, but stdin is a terminal: {FORMS}")
    return stream.read()


def read_file(path: str) -> str:
    if not path:
        raise InputUnreadable(f"'@' needs a file name, e.g. @input.json; {FORMS}")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InputUnreadable(f"input file {path!r} does not exist") from None
    except IsADirectoryError:
        raise InputUnreadable(f"input file {path!r} is a directory") from None
    except PermissionError:
        raise InputUnreadable(f"input file {path!r} is not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise InputUnreadable(f"input file {path!r} is not UTF-8 text") from None
    except OSError as exc:
        raise InputUnreadable(f"input file {path!r} cannot be read: {exc.strerror or type(exc).__name__}") from None


def parse(text: str, source: str) -> Any:
    if not text.strip():
        raise InputUnreadable(f"{source} is empty: the operation input is a JSON object; {FORMS}")
    try:
        return json.loads(text)
    except ValueError as exc:
        detail = f"{exc.msg} at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) \
            else str(exc)
        raise InputUnreadable(f"{source} is not valid JSON ({detail})") from None

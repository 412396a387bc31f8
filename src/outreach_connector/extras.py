"""Optional parts of the package and the extra that installs each: a missing one is a clear error."""
from __future__ import annotations

# Re-exported for the old import path: errors.py holds every error class.
from .errors import ExtraMissing as ExtraMissing

# top-level module -> the extra that brings it
EXTRA_FOR = {"starlette": "sandbox", "uvicorn": "sandbox", "cryptography": "server", "psycopg": "server",
             "psycopg_pool": "server",
             "mcp": "mcp", "mcp_types": "mcp"}


def missing_extra(error: ModuleNotFoundError, extra: str | None = None) -> ExtraMissing | None:
    """The ``ExtraMissing`` a failed import of an optional package stands for, or None if it is not one.

    ``extra`` is the one the command needs, when several bring the module: ``serve`` needs ``server``, though
    ``sandbox`` brings starlette too (naming ``sandbox`` would send the user round twice).
    """
    module = (error.name or "").split(".")[0]
    if module not in EXTRA_FOR:
        return None
    extra = extra or EXTRA_FOR[module]
    return ExtraMissing(f"this command needs {module!r}, which the {extra!r} extra installs: "
                        f"pip install 'outreach-connector[{extra}]'"
                        f"{' (or [server,sandbox] for both)' if extra in ('server', 'sandbox') else ''}")

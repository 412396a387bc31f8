"""``GET /editor``: the solution editor page and its files (the HTML, the CSS, the icon and the JavaScript
modules), shipped in the package (server/static/).

The page holds no data and needs no API key to load (the person types the key into it); everything it
shows comes from the API-key-guarded endpoints. A strict Content-Security-Policy keeps it to this server.
"""
from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from . import envelopes

STATIC = Path(__file__).resolve().parent / "static"
FILES = {"": ("editor.html", "text/html; charset=utf-8"), "/": ("editor.html", "text/html; charset=utf-8"),
         **{f"/{name}": (name, "text/javascript; charset=utf-8")  # the page's modules
            for name in ("editor.js", "consent.js", "dom.js", "form.js", "lookup.js", "output.js", "triggers.js")},
         "/editor.css": ("editor.css", "text/css; charset=utf-8"),
         "/editor.svg": ("editor.svg", "image/svg+xml")}  # the page's icon: else the browser asks /favicon.ico
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer",
}


def is_public(path: str, method: str) -> bool:
    """The editor's own files: readable without the API key."""
    return method in ("GET", "HEAD") and (path == "/editor" or path.startswith("/editor/"))


async def page(request: Request) -> Response:
    found = FILES.get(request.path_params["rest"])
    if found is None:
        return envelopes.problem(404, "Not found")
    name, media_type = found
    return Response((STATIC / name).read_bytes(), media_type=media_type, headers=HEADERS)

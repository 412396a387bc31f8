"""Run an ASGI app under uvicorn on a real loopback socket, in a thread, for end-to-end tests."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable

import uvicorn


class LiveServer:
    """``with LiveServer(app) as url:`` serves ``app`` at ``url`` until the block ends.

    ``LiveServer(make_app=lambda url: ...)`` builds the app once its URL is known (an app whose settings
    name its own public URL, as the OAuth redirect URI does)."""

    def __init__(self, app: Any = None, config: uvicorn.Config | None = None, listener: socket.socket | None = None,
                 *, make_app: Callable[[str], Any] | None = None) -> None:
        """``config``: uvicorn's (default: plain, logging left alone); ``listener``: a socket already bound."""
        assert (app is None) != (make_app is None), "give the app or a function of the URL that makes it"
        self._app = app
        self._make_app = make_app
        self._config = config
        self._listener = listener
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> str:
        listener = self._listener or socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self._listener is None:
            listener.bind(("127.0.0.1", 0))  # the kernel picks a free port; bound before uvicorn starts: no race
        port = listener.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        if self._make_app is not None:
            self._app = self._make_app(url)
        # log_config=None: uvicorn leaves logging alone, so its records reach the test's handlers.
        config = self._config or uvicorn.Config(self._app, log_config=None, lifespan="on", access_log=True)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listener]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return url

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(15)

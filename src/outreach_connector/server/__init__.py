"""The Connectors API server: ``create_app(settings, transport=None)`` and ``main(argv)``
(``outreach-connector serve``).

Wire-compatible with the Connectors API of embedded-integration platforms; see docs/server.md and
docs/deployment.md (several replicas).
"""
from .app import create_app, main
from .settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "main"]

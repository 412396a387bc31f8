"""Outreach sandbox: an independent, stateful emulator of the Outreach REST API v2 (JSON:API).

Placeholder docstring; replaced below.
"""
from .config import SandboxConfig
from .sandbox import Sandbox

__all__ = ["Sandbox", "SandboxConfig"]

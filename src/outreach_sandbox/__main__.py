"""``python -m outreach_sandbox``: serve the sandbox (see :mod:`outreach_sandbox.server`)."""
import sys

from .server import main

sys.exit(main())

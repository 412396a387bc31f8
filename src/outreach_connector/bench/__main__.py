"""``python -m outreach_connector.bench`` (see the package docstring)."""
import sys

from . import main

sys.exit(main())

"""``python -m outreach_connector.cli``."""
import sys

from . import main

sys.exit(main())

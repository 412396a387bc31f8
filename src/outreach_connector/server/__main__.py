import sys

from outreach_connector.server import main

sys.exit(main())

"""Outreach connector: every Outreach API operation as a declarative, validated, pluggable entry.

    from outreach_connector import Connector
    conn = Connector(base_url="https://api.outreach.io/api/v2", access_token="...")
    conn.call("list_prospects", {"page_size": 2})
"""
from .connector import Connector
from .errors import ConnectorError
from .hookspecs import hookimpl
from .spec import OperationSpec
from .wire import RetryPolicy

__all__ = ["Connector", "ConnectorError", "OperationSpec", "RetryPolicy", "hookimpl"]
__version__ = "1.0.0"

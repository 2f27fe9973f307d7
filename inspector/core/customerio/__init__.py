"""What Customer.io will do with a session: the people and events a workspace would hold."""

from inspector.core.customerio.holdings import TRIGGER_WINDOW_SECONDS, Holdings, customerio_holdings
from inspector.core.customerio.workspace import CustomerIOProfile, WorkspaceModel

__all__ = [
    "TRIGGER_WINDOW_SECONDS",
    "CustomerIOProfile",
    "Holdings",
    "WorkspaceModel",
    "customerio_holdings",
]

"""fapiao: issue, reverse and track China's 数电发票 through any certified provider.

Business code uses canonical models (``fapiao.models``) and never names a vendor; provider
and ERP connector plugins are found through entry points (``fapiao.plugins``).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fapiao.engine.client import AsyncClient
    from fapiao.engine.sync_client import Client
    from fapiao.errors import FapiaoError, ValidationIssue
    from fapiao.models import (
        Delivery,
        Document,
        DocumentFormat,
        Invoice,
        InvoiceKind,
        InvoiceLine,
        InvoiceState,
        InvoiceStatus,
        IssueResult,
        Party,
        Quota,
        RedConfirmation,
        RedLine,
        RedReason,
        RedReversalRequest,
    )

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "Client",
    "Delivery",
    "Document",
    "DocumentFormat",
    "FapiaoError",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceState",
    "InvoiceStatus",
    "IssueResult",
    "Party",
    "Quota",
    "RedConfirmation",
    "RedLine",
    "RedReason",
    "RedReversalRequest",
    "ValidationIssue",
    "__version__",
]


_HOME = {
    "AsyncClient": "fapiao.engine",
    "Client": "fapiao.engine",
    "FapiaoError": "fapiao.errors",
    "ValidationIssue": "fapiao.errors",
}
"""Where a public name lives when it is not a model (``fapiao.models``)."""


def __getattr__(name: str) -> Any:
    """Every public name loads on first use, so that ``import fapiao`` (the CLI's start,
    a plugin importing ``fapiao.sdk``) pays only for what it touches: ``fapiao.Client`` loads
    the engine, ``fapiao.Invoice`` the models."""
    if name in __all__ and name != "__version__":
        value = getattr(import_module(_HOME.get(name, "fapiao.models")), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fapiao' has no attribute {name!r}")

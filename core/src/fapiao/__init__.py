"""fapiao: issue, reverse and track China's 数电发票 through any certified provider.

Business code uses canonical models (``fapiao.models``) and never names a vendor; provider
and ERP connector plugins are found through entry points (``fapiao.plugins``).
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from fapiao.engine.client import AsyncClient
    from fapiao.engine.sync_client import Client

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


def __getattr__(name: str) -> Any:
    """``fapiao.Client``/``fapiao.AsyncClient`` load the engine on first use, so that
    ``import fapiao`` (plugins, the models) stays light."""
    if name in {"Client", "AsyncClient"}:
        from fapiao import engine

        value = getattr(engine, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fapiao' has no attribute {name!r}")

"""fapiao: issue, reverse and track China's 数电发票 through any certified provider.

Business code uses canonical models (``fapiao.models``) and never names a vendor; provider
and ERP connector plugins are found through entry points (``fapiao.plugins``).
"""

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

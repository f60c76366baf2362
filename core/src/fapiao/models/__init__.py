"""Canonical models: the vendor-neutral vocabulary of fapiao."""

from fapiao.models.base import CanonicalModel, ValueModel
from fapiao.models.enums import (
    DeliveryChannel,
    DocumentFormat,
    Environment,
    InvoiceKind,
    InvoiceState,
    LineKind,
    Operation,
    RedApplicant,
    RedConfirmationState,
    RedReason,
    SpecialBusiness,
    TaxTreatment,
)
from fapiao.models.invoice import Invoice, InvoiceLine, Party
from fapiao.models.money import CENT, Money, Quantity, Rate, to_decimal
from fapiao.models.red import (
    RED_FORM_STATUS_CODES,
    RedConfirmation,
    RedLine,
    RedReversalRequest,
)
from fapiao.models.results import (
    CallbackResult,
    Delivery,
    DeliveryResult,
    Document,
    ErrorInfo,
    InvoiceStatus,
    IssueResult,
    Quota,
)

__all__ = [
    "CENT",
    "RED_FORM_STATUS_CODES",
    "CallbackResult",
    "CanonicalModel",
    "Delivery",
    "DeliveryChannel",
    "DeliveryResult",
    "Document",
    "DocumentFormat",
    "Environment",
    "ErrorInfo",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceState",
    "InvoiceStatus",
    "IssueResult",
    "LineKind",
    "Money",
    "Operation",
    "Party",
    "Quantity",
    "Quota",
    "Rate",
    "RedApplicant",
    "RedConfirmation",
    "RedConfirmationState",
    "RedLine",
    "RedReason",
    "RedReversalRequest",
    "SpecialBusiness",
    "TaxTreatment",
    "ValueModel",
    "to_decimal",
]

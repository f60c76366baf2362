"""What a provider plugin declares it can do (Libcloud: declared, never assumed).

The engine and the conformance kit read these declarations: an operation that is not
declared is refused with ``UnsupportedOperation`` before any network call, and the
comparison report's capability matrix is generated from them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fapiao.models.base import ValueModel
from fapiao.models.enums import (
    DeliveryChannel,
    DocumentFormat,
    InvoiceKind,
    Operation,
    SpecialBusiness,
)

__all__ = ["Capabilities", "ProviderInfo"]


class Capabilities(ValueModel):
    operations: frozenset[Operation]
    invoice_kinds: frozenset[InvoiceKind] = frozenset(InvoiceKind)
    document_formats: frozenset[DocumentFormat] = frozenset()
    delivery_channels: frozenset[DeliveryChannel] = frozenset()
    issuance: Literal["sync", "async"] = Field(
        description="sync: the invoice number comes back in the issue response; async: later"
    )
    status_updates: Literal["callback", "polling"] = Field(
        description="callback: the provider pushes status; polling: only queries"
    )
    red_partial: bool = Field(default=False, description="partial red reversal supported")
    red_confirmation_by_buyer: bool = Field(
        default=True, description="a buyer-raised 红字确认单 can be confirmed through this API"
    )
    documents_inline: bool = Field(
        default=False, description="documents come as bytes in the response, not by URL"
    )
    special_businesses: frozenset[SpecialBusiness] = frozenset()
    max_lines_per_invoice: int = Field(default=2000, ge=1)
    max_query_batch: int = Field(default=50, ge=1)
    max_order_id_length: int = Field(default=64, ge=1)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    order_visibility_seconds: float = Field(
        default=60.0,
        ge=0,
        description="after an accepted issue request, how long a query by order id may still "
        "answer 'not found'; only after this may an unseen order be resubmitted",
    )
    idempotent_operations: frozenset[Operation] = Field(
        default=frozenset(
            {Operation.QUERY, Operation.RED_QUERY, Operation.DOCUMENTS, Operation.QUOTA}
        ),
        description="operations safe to retry blindly at the transport level",
    )

    def supports(self, operation: Operation) -> bool:
        return operation in self.operations


class ProviderInfo(ValueModel):
    """Metadata for listings and reports (ActiveMerchant's gateway metadata)."""

    display_name: str
    display_name_zh: str | None = None
    homepage: str | None = None
    docs_url: str | None = None
    protocol_notes: str | None = None

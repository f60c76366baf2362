"""The ERP connector contract: pull billing documents, map them, write the outcome back.

Async-first like providers. A connector never issues invoices itself: ``fapiao sync`` feeds
what it maps to the engine, which routes by seller tax ID and guarantees exactly-once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import Field

from fapiao.contract.settings import ConnectorSettings
from fapiao.models import Invoice, InvoiceState, RedReversalRequest
from fapiao.models.base import ValueModel

__all__ = ["Connector", "MappedDocument", "SourceDocument", "WriteBack"]


class SourceDocument(ValueModel):
    """One billing document as the ERP holds it (raw payload kept for mapping and audit)."""

    id: str = Field(description="the ERP's document id, e.g. SAP BillingDocument")
    kind: Literal["invoice", "red"] = "invoice"
    changed_at: datetime | None = None
    cursor: str | None = Field(default=None, description="resume position after this document")
    payload: dict[str, Any] = Field(default_factory=dict)


class MappedDocument(ValueModel):
    """A source document turned into a canonical request (exactly one of the two)."""

    source_id: str
    invoice: Invoice | None = None
    red: RedReversalRequest | None = None


class WriteBack(ValueModel):
    """The outcome written back into the ERP."""

    source_id: str
    order_id: str
    state: InvoiceState
    invoice_number: str | None = None
    issued_at: datetime | None = None
    document_urls: dict[str, str] = Field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None


@runtime_checkable
class Connector(Protocol):
    name: ClassVar[str]
    settings_model: ClassVar[type[ConnectorSettings]]

    def pending(self, cursor: str | None) -> AsyncIterator[SourceDocument]:
        """Documents changed since ``cursor`` that still need an invoice, oldest first."""
        ...

    def map(self, document: SourceDocument) -> MappedDocument:
        """Canonical request for one document; raises ``InvalidInvoice`` with field paths."""
        ...

    async def write_back(self, outcome: WriteBack) -> None:
        """Record the outcome in the ERP; must be idempotent (it may be retried)."""
        ...

    async def aclose(self) -> None: ...

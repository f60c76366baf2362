"""What a provider plugin declares it can do (Libcloud: declared, never assumed).

The engine and the conformance kit read these declarations: an operation that is not
declared is refused with ``UnsupportedOperation`` before any network call, and the
comparison report's capability matrix is generated from them. The checks of an invoice
against the declared kinds, special businesses and limits live here, once
(:meth:`Capabilities.refuse_invoice`): the engine runs them before it records a request, the
plugin base class before a plugin sends one; plugins keep only their vendor's own checks.
The same goes for a document format or a delivery channel the provider does not declare
(:meth:`Capabilities.refuse_document_format`, :meth:`Capabilities.refuse_delivery_channel`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from fapiao.errors import UnsupportedOperation
from fapiao.models.base import ValueModel
from fapiao.models.enums import (
    DeliveryChannel,
    DocumentFormat,
    InvoiceKind,
    Operation,
    SpecialBusiness,
)
from fapiao.models.invoice import Invoice

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

    def supports(self, operation: Operation) -> bool:
        return operation in self.operations

    def query_batches(self, order_ids: Iterable[str]) -> list[list[str]]:
        """``order_ids`` without repeats, split into calls of at most ``max_query_batch``."""
        unique, step = list(dict.fromkeys(order_ids)), self.max_query_batch
        return [unique[start : start + step] for start in range(0, len(unique), step)]

    def refuse_operation(
        self, operation: Operation, provider: str, *, profile: str | None = None
    ) -> UnsupportedOperation | None:
        """The refusal of an undeclared operation, or ``None`` when it is declared."""
        if operation in self.operations:
            return None
        where_en = f" (profile {profile})" if profile else ""
        where_zh = f"（配置档 {profile}）" if profile else ""
        return UnsupportedOperation(
            f"provider {provider}{where_en} does not support {operation.value}",
            message_zh=f"服务商 {provider}{where_zh}不支持操作 {operation.value}",
            provider=provider,
        )

    def refuse_invoice(
        self, invoice: Invoice, provider: str, *, strict_features: bool = True
    ) -> UnsupportedOperation | None:
        """The first declared limit ``invoice`` breaks (kind, special business, lines, order
        id length), as the refusal to raise before anything is recorded or sent; ``None``
        when the provider can take it. Without ``strict_features`` (a profile setting) a
        special business the provider cannot honour is left for the plugin to drop."""

        def refuse(field: str, en: str, zh: str) -> UnsupportedOperation:
            return UnsupportedOperation(
                f"{provider}: {en}", message_zh=f"{provider}：{zh}", provider=provider, field=field
            )

        if invoice.kind not in self.invoice_kinds:
            return refuse(
                "kind",
                f"invoice kind {invoice.kind.value} not supported",
                f"不支持发票种类 {invoice.kind.label_zh}",
            )
        if (
            strict_features
            and invoice.special_business is not None
            and invoice.special_business not in self.special_businesses
        ):
            return refuse(
                "special_business",
                f"special business {invoice.special_business.value} not supported",
                f"不支持特定业务 {invoice.special_business.label_zh}",
            )
        if len(invoice.lines) > self.max_lines_per_invoice:
            return refuse(
                "lines",
                f"at most {self.max_lines_per_invoice} lines per invoice, got {len(invoice.lines)}",
                f"每张发票最多 {self.max_lines_per_invoice} 行，实为 {len(invoice.lines)} 行",
            )
        if len(invoice.order_id) > self.max_order_id_length:
            return refuse(
                "order_id",
                f"order ids are at most {self.max_order_id_length} characters",
                f"订单号最长 {self.max_order_id_length} 个字符",
            )
        return None

    def refuse_document_format(
        self, fmt: DocumentFormat, provider: str, *, field: str = "format"
    ) -> UnsupportedOperation | None:
        """The refusal of an undeclared document format, or ``None`` (before any download)."""
        if fmt in self.document_formats:
            return None
        return UnsupportedOperation(
            f"provider {provider} does not deliver {fmt.value} files",
            message_zh=f"服务商 {provider} 不提供 {fmt.value} 格式",
            provider=provider,
            field=field,
        )

    def refuse_delivery_channel(
        self, channel: DeliveryChannel, provider: str
    ) -> UnsupportedOperation | None:
        """The refusal of a delivery channel the provider does not declare, or ``None``."""
        if channel in self.delivery_channels:
            return None
        offered = ", ".join(sorted(c.value for c in self.delivery_channels)) or "-"
        return UnsupportedOperation(
            f"provider {provider} does not deliver invoices by {channel.value} "
            f"(declared: {offered})",
            message_zh=f"服务商 {provider} 不支持以 {channel.value} 交付发票（支持：{offered}）",
            provider=provider,
            field="channel",
        )


class ProviderInfo(ValueModel):
    """Metadata for listings and reports (ActiveMerchant's gateway metadata)."""

    display_name: str
    display_name_zh: str | None = None
    homepage: str | None = None
    docs_url: str | None = None
    protocol_notes: str | None = None

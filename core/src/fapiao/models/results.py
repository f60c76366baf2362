"""What providers answer, in canonical form: statuses, documents, deliveries, quota."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from fapiao.models.base import ValueModel
from fapiao.models.enums import DeliveryChannel, DocumentFormat, InvoiceState
from fapiao.models.money import Money

__all__ = [
    "CallbackResult",
    "Delivery",
    "DeliveryResult",
    "Document",
    "ErrorInfo",
    "InvoiceStatus",
    "IssueResult",
    "Quota",
]


class ErrorInfo(ValueModel):
    """A canonical error as data (for results, the ledger and JSON output)."""

    nul_in_text: ClassVar[Literal["refuse", "escape"]] = "escape"  # it may quote any input

    code: str
    message_zh: str
    message_en: str
    retryable: bool = False
    raw_code: str | None = None
    raw_message: str | None = None
    field: str | None = None


class Document(ValueModel):
    """One file of an issued invoice: the bytes (checked) and/or where the provider keeps it."""

    format: DocumentFormat
    invoice_number: str
    content: bytes | None = Field(default=None, repr=False)
    url: str | None = None
    sha256: str | None = None
    size: int | None = None
    filename: str | None = None

    @model_validator(mode="after")
    def _hash_matches(self) -> Document:
        if self.content is None and self.url is None:
            raise ValueError("文件需有内容或链接 / a document needs content or a URL")
        if self.content is not None:
            digest = hashlib.sha256(self.content).hexdigest()
            if self.sha256 is not None and self.sha256 != digest:
                raise ValueError(
                    f"文件哈希不符 / sha256 mismatch: declared {self.sha256}, computed {digest}"
                )
            object.__setattr__(self, "sha256", digest)
            object.__setattr__(self, "size", len(self.content))
        return self

    @classmethod
    def from_bytes(
        cls, fmt: DocumentFormat, invoice_number: str, content: bytes, url: str | None = None
    ) -> Document:
        return cls(
            format=fmt,
            invoice_number=invoice_number,
            content=content,
            url=url,
            filename=f"{invoice_number}.{fmt.value}",
        )


class InvoiceStatus(ValueModel):
    """A provider's answer about one invoice request, from a query, callback or issue call.

    Providers report only part of the state machine: ``issuing``, ``issued``, ``failed``,
    ``partially_reversed``, ``reversed``, ``cancelled``.
    """

    provider: str
    seller_tax_id: str
    order_id: str
    state: InvoiceState
    serial_number: str | None = Field(default=None, description="provider's request id")
    invoice_number: str | None = Field(default=None, description="20-digit 数电票号码")
    issued_at: datetime | None = None
    total_amount: Money | None = None
    total_tax: Money | None = None
    total_with_tax: Money | None = None
    documents: tuple[Document, ...] = ()
    is_red: bool = False
    original_invoice_number: str | None = None
    error: ErrorInfo | None = None
    raw_status: str | None = Field(default=None, description="the provider's own status code")


class IssueResult(InvoiceStatus):
    """The answer to an issue call: ``issued`` for synchronous vendors, ``issuing`` for
    asynchronous ones (the final state then comes by callback or query)."""


class Delivery(ValueModel):
    """Send an issued invoice to the buyer by e-mail or SMS."""

    seller_tax_id: str
    invoice_number: str
    order_id: str | None = None
    channel: DeliveryChannel
    address: str = Field(min_length=3, max_length=100, description="e-mail or mobile number")


class DeliveryResult(ValueModel):
    accepted: bool
    channel: DeliveryChannel
    invoice_number: str
    provider_ref: str | None = None
    error: ErrorInfo | None = None


class Quota(ValueModel):
    """授信额度: how much the seller may still invoice (amounts without tax, yuan)."""

    seller_tax_id: str
    total: Money | None = None
    used: Money | None = None
    remaining: Money | None = None
    invoices_remaining: int | None = None
    as_of: datetime | None = None


class CallbackResult(ValueModel):
    """A verified, normalised provider callback, and what to answer the provider with."""

    statuses: tuple[InvoiceStatus, ...]
    replay_id: str | None = Field(
        default=None,
        max_length=200,
        description="the provider's unique id of this delivery (e.g. Nuonuo's senid): the engine "
        "refuses a second delivery with it, in every process, for replay_window_seconds",
    )
    replay_window_seconds: float = Field(
        default=600.0, gt=0, description="how long a delivery passes the freshness check"
    )
    response_status: int = 200
    response_body: bytes = b""
    response_media_type: str = "application/json"

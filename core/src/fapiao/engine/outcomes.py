"""What the client hands back: statuses rebuilt from ledger records, batch items, red outcomes.

The ledger record is the truth about a request; the provider's last answer is only one input
to it. So every status the client returns is rebuilt from the committed record, and a
recorded failure is rebuilt into the same canonical exception the first call raised, which
is what makes a replayed request indistinguishable from the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fapiao.errors import FapiaoError, NotAccepted, OutcomeUnknown, error_class_for
from fapiao.masking import mask_tax_id
from fapiao.models import (
    Document,
    ErrorInfo,
    InvoiceState,
    InvoiceStatus,
    RedConfirmation,
    RedConfirmationState,
)

from .ledger import LedgerRecord, RequestKind

__all__ = [
    "BatchItem",
    "RedOutcome",
    "error_from_record",
    "error_info_from_record",
    "status_from_record",
]


def error_info_from_record(record: LedgerRecord) -> ErrorInfo | None:
    """The stored error as data; the ledger keeps ``"zh / en (provider: raw)"`` text."""
    if not record.error_code:
        return None
    text = record.error_message or ""
    zh, sep, en = text.partition(" / ")
    if not sep:
        zh = en = text
    klass = error_class_for(record.error_code)
    return ErrorInfo(
        code=record.error_code,
        message_zh=zh or klass.default_zh,
        message_en=en or klass.default_en,
        retryable=klass.default_retryable,
    )


def error_from_record(record: LedgerRecord) -> FapiaoError:
    """The canonical exception a failed request raised, rebuilt from the ledger."""
    info = error_info_from_record(record)
    if info is None:
        return FapiaoError(
            f"order {record.key.order_id} failed (no error recorded)",
            message_zh=f"订单 {record.key.order_id} 开票失败（未记录原因）",
        )
    return FapiaoError.from_info(info, provider=record.provider)


def status_from_record(
    record: LedgerRecord,
    *,
    documents: Sequence[Document] = (),
    raw_status: str | None = None,
    original_invoice_number: str | None = None,
) -> InvoiceStatus:
    original = original_invoice_number
    if original is None and record.kind is RequestKind.RED:
        value = record.payload.get("original_invoice_number")
        original = value if isinstance(value, str) else None
    return InvoiceStatus(
        provider=record.provider,
        seller_tax_id=record.key.seller_tax_id,
        order_id=record.key.order_id,
        state=record.state,
        serial_number=record.serial_number,
        invoice_number=record.invoice_number,
        issued_at=record.issued_at,
        total_amount=record.total_amount,
        total_tax=record.total_tax,
        total_with_tax=record.total_with_tax,
        documents=tuple(documents),
        is_red=record.kind is RequestKind.RED,
        original_invoice_number=original,
        error=error_info_from_record(record),
        raw_status=raw_status,
    )


@dataclass(frozen=True)
class BatchItem:
    """One request of ``issue_many``: its position in the input and its outcome.

    Exactly one of ``status`` (issued, issuing) and ``error`` is set. An ``OUTCOME_UNKNOWN``
    error means the request was sent and is being settled (never resent); ``reconcile``
    finishes it.
    """

    index: int
    seller_tax_id: str
    order_id: str
    status: InvoiceStatus | None = None
    error: FapiaoError | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.error is None

    @property
    def pending(self) -> bool:
        """Sent, outcome not final yet (async issuing, or unknown and left to reconcile)."""
        if self.status is not None:
            return self.status.state in {InvoiceState.SUBMITTED, InvoiceState.ISSUING}
        return isinstance(self.error, OutcomeUnknown | NotAccepted)

    @property
    def state(self) -> InvoiceState | None:
        return self.status.state if self.status is not None else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the seller tax ID masked (reports are read like logs)."""
        out: dict[str, Any] = {
            "index": self.index,
            "seller_tax_id": mask_tax_id(self.seller_tax_id),
            "order_id": self.order_id,
            "state": self.state.value if self.state is not None else None,
            "invoice_number": self.status.invoice_number if self.status else None,
        }
        if self.error is not None:
            out["error"] = self.error.to_info().model_dump(mode="json")
        return out


@dataclass(frozen=True)
class RedOutcome:
    """Where a red reversal stands after one call.

    ``red`` is the red request (``validated`` while its 红字确认单 awaits the other party,
    then ``submitted``/``issuing``/``issued``, or ``failed`` if the form was rejected or
    lapsed); ``blue`` is the reversed invoice (``red_requested``, ``red_confirmed``, then
    ``partially_reversed``/``reversed``, or back to ``issued``).
    """

    red: InvoiceStatus
    blue: InvoiceStatus
    confirmation: RedConfirmation | None

    @property
    def issued(self) -> bool:
        return self.red.state is InvoiceState.ISSUED

    @property
    def awaiting_confirmation(self) -> bool:
        return (
            self.confirmation is not None
            and self.confirmation.state is RedConfirmationState.PENDING
        )

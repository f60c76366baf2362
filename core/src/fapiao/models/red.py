"""Red reversal (红冲): 数电票 are never voided; they are reversed by a red invoice issued
against a 红字确认单 (red-letter confirmation form)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from fapiao.models.base import ValueModel
from fapiao.models.enums import RedApplicant, RedConfirmationState, RedReason
from fapiao.models.money import Money, Quantity

__all__ = ["RedConfirmation", "RedLine", "RedReversalRequest"]


class RedLine(ValueModel):
    """Part of one blue line to reverse. Amounts are positive magnitudes; the red invoice
    carries them negated."""

    original_line: int = Field(ge=0, description="0-based index of the blue invoice line")
    amount: Money = Field(description="不含税金额 to reverse (positive)")
    tax: Money | None = Field(default=None, description="tax to reverse (computed when absent)")
    quantity: Quantity | None = Field(default=None, description="quantity returned (positive)")


class RedReversalRequest(ValueModel):
    """Raise a 红字确认单 against an issued blue invoice.

    ``lines`` empty means full reversal (required for 开票有误). ``order_id`` is the red
    invoice's own idempotency key.
    """

    order_id: str = Field(min_length=1, max_length=64)
    seller_tax_id: str
    buyer_tax_id: str | None = None
    original_invoice_number: str = Field(min_length=8, max_length=20)
    original_issue_date: date | None = None
    original_order_id: str | None = None
    reason: RedReason
    applicant: RedApplicant = RedApplicant.SELLER
    lines: tuple[RedLine, ...] = ()

    @property
    def is_full(self) -> bool:
        return not self.lines


class RedConfirmation(ValueModel):
    """A 红字确认单 as the provider holds it."""

    provider: str
    confirmation_id: str = Field(description="provider's id of the form")
    confirmation_number: str | None = Field(default=None, description="红字确认单编号")
    seller_tax_id: str
    original_invoice_number: str
    order_id: str
    reason: RedReason
    applicant: RedApplicant = RedApplicant.SELLER
    state: RedConfirmationState
    amount: Money = Field(description="red amount without tax (negative)")
    tax: Money = Field(description="red tax (negative)")
    requires_confirmation: bool = Field(
        default=False, description="buyer had used the invoice: the other party must confirm"
    )
    created_at: datetime | None = None
    expires_at: datetime | None = Field(default=None, description="created + 72 h when pending")
    raw_status: str | None = None

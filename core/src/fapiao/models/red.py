"""Red reversal (红冲): 数电票 are never voided; they are reversed by a red invoice issued
against a 红字确认单 (red-letter confirmation form)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType

from pydantic import Field

from fapiao.models.base import ValueModel
from fapiao.models.enums import RedApplicant, RedConfirmationState, RedReason
from fapiao.models.money import Money, Quantity

__all__ = ["RED_FORM_STATUS_CODES", "RedConfirmation", "RedLine", "RedReversalRequest"]


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


RED_FORM_STATUS_CODES: Mapping[str, RedConfirmationState] = MappingProxyType(
    {
        "01": RedConfirmationState.CONFIRMED,  # 无需确认
        "02": RedConfirmationState.PENDING,  # 销方录入待购方确认
        "03": RedConfirmationState.PENDING,  # 购方录入待销方确认
        "04": RedConfirmationState.CONFIRMED,  # 购销双方已确认
        "05": RedConfirmationState.REJECTED,  # 作废（销方录入购方否认）
        "06": RedConfirmationState.REJECTED,  # 作废（购方录入销方否认）
        "07": RedConfirmationState.LAPSED,  # 作废（超 72 小时未确认）
        "08": RedConfirmationState.REVOKED,  # 作废（发起方撤销）
        "09": RedConfirmationState.REVOKED,  # 作废（确认后撤销）
        "10": RedConfirmationState.REVOKED,  # 作废（异常凭证）: voided by the system, not refused
    }
)
"""The tax bureau's 红字确认单状态 codes (01–10), which every provider passes through; one
table so that two vendors never disagree on what a code means."""

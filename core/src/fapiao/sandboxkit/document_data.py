"""What an issued invoice shows, ready to print: the input of every renderer.

Values are final (amounts and tax per line, totals, 大写, printed item names): renderers
only lay them out, so the three formats of one invoice can never disagree. On a red
invoice amounts are negative, as printed. :func:`document_data_from_invoice` builds this
from a canonical :class:`~fapiao.models.Invoice` with the project's rules.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from fapiao.models import InvoiceKind, Money, Party, Quantity, Rate, TaxTreatment, ValueModel

if TYPE_CHECKING:
    from fapiao.models import Invoice
    from fapiao.rules.arithmetic import InvoiceTotals

__all__ = [
    "DocumentLine",
    "DocumentParty",
    "InvoiceDocumentData",
    "document_data_from_invoice",
    "rate_label",
]

KIND_LABELS = {
    InvoiceKind.SPECIAL: "电子发票（增值税专用发票）",
    InvoiceKind.NORMAL: "电子发票（普通发票）",
}


def rate_label(rate: Decimal | None, treatment: TaxTreatment = TaxTreatment.TAXABLE) -> str:
    """The 税率/征收率 column: ``13%``, ``1.5%``, ``0%``, ``免税`` or ``不征税``."""
    if treatment is TaxTreatment.EXEMPT:
        return "免税"
    if treatment is TaxTreatment.NOT_TAXABLE:
        return "不征税"
    if rate is None:
        return ""
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


class DocumentParty(ValueModel):
    """购买方 or 销售方 as printed."""

    name: str
    tax_id: str | None = None
    address: str | None = None
    phone: str | None = None
    bank: str | None = None
    account: str | None = None

    @property
    def address_phone(self) -> str:
        return " ".join(p for p in (self.address, self.phone) if p)

    @property
    def bank_account(self) -> str:
        return " ".join(p for p in (self.bank, self.account) if p)


class DocumentLine(ValueModel):
    """One printed line. ``name`` is the display name ``*简称*名称``; ``rate_label`` what the
    税率 column shows; a 免税/不征税 line prints ``***`` for its tax."""

    name: str
    tax_code: str | None = None
    spec: str | None = None
    unit: str | None = None
    quantity: Quantity | None = None
    unit_price: Quantity | None = None
    amount: Money
    tax_rate: Rate | None = None
    rate_label: str
    tax: Money
    treatment: TaxTreatment = TaxTreatment.TAXABLE

    @property
    def tax_shown(self) -> bool:
        return self.treatment not in (TaxTreatment.EXEMPT, TaxTreatment.NOT_TAXABLE)


class InvoiceDocumentData(ValueModel):
    """Everything printed on one 数电票."""

    invoice_number: str = Field(pattern=r"^\d{20}$", description="20-digit 数电票号码")
    issued_at: datetime
    kind: InvoiceKind = InvoiceKind.NORMAL
    kind_label: str | None = Field(default=None, description="title; default from kind")
    is_red: bool = False
    original_invoice_number: str | None = Field(default=None, description="红冲的蓝字发票号码")
    red_confirmation_number: str | None = Field(default=None, description="红字确认单编号")
    seller: DocumentParty
    buyer: DocumentParty
    lines: tuple[DocumentLine, ...] = Field(min_length=1)
    total_amount: Money
    total_tax: Money
    total_with_tax: Money
    amount_in_words: str
    remarks: str | None = None
    issuer: str | None = None
    tax_bureau_code: str | None = Field(default=None, description="主管税务机关代码")
    tax_bureau_name: str | None = Field(default=None, description="主管税务机关名称")

    @model_validator(mode="after")
    def _red_has_original(self) -> InvoiceDocumentData:
        if self.is_red and not self.original_invoice_number:
            raise ValueError(
                "红字发票须注明被红冲的蓝字发票号码 / a red invoice needs original_invoice_number"
            )
        return self

    @property
    def title(self) -> str:
        return self.kind_label or KIND_LABELS[self.kind]

    @property
    def red_remark(self) -> str:
        """What a red 数电票 prints in 备注 about what it reverses."""
        if not self.is_red:
            return ""
        text = f"被红冲蓝字数电发票号码：{self.original_invoice_number}"
        if self.red_confirmation_number:
            text += f" 红字发票信息确认单编号：{self.red_confirmation_number}"
        return text

    @property
    def printed_remarks(self) -> str:
        return "\n".join(p for p in (self.red_remark, self.remarks or "") if p)


def document_data_from_invoice(
    invoice: Invoice,
    totals: InvoiceTotals | None = None,
    *,
    invoice_number: str,
    issued_at: datetime,
    is_red: bool = False,
    original_invoice_number: str | None = None,
    red_confirmation_number: str | None = None,
    tax_bureau_code: str | None = None,
    tax_bureau_name: str | None = None,
) -> InvoiceDocumentData:
    """Build the printed data of ``invoice`` from its totals (computed when not given).

    ``is_red`` negates every amount: pass the red invoice's lines as positive magnitudes,
    the way :class:`~fapiao.models.RedLine` holds them.
    """
    from fapiao.rules.amount_words import amount_in_words
    from fapiao.rules.arithmetic import compute_totals

    totals = totals or compute_totals(invoice)
    sign = Decimal(-1) if is_red else Decimal(1)

    def party(p: Party) -> DocumentParty:
        return DocumentParty(
            name=p.name,
            tax_id=p.tax_id,
            address=p.address,
            phone=p.phone,
            bank=p.bank,
            account=p.account,
        )

    lines = tuple(
        DocumentLine(
            name=t.display_name,
            tax_code=t.tax_code or None,
            spec=t.spec,
            unit=t.unit,
            quantity=None if t.quantity is None else t.quantity * sign,
            unit_price=t.unit_price,
            amount=t.amount * sign,
            tax_rate=t.rate,
            rate_label=rate_label(t.rate, t.treatment),
            tax=t.tax * sign,
            treatment=t.treatment,
        )
        for t in totals.lines
    )
    total_with_tax = totals.total_with_tax * sign
    return InvoiceDocumentData(
        invoice_number=invoice_number,
        issued_at=issued_at,
        kind=invoice.kind,
        is_red=is_red,
        original_invoice_number=original_invoice_number,
        red_confirmation_number=red_confirmation_number,
        seller=party(invoice.seller),
        buyer=party(invoice.buyer),
        lines=lines,
        total_amount=totals.total_amount * sign,
        total_tax=totals.total_tax * sign,
        total_with_tax=total_with_tax,
        amount_in_words=amount_in_words(total_with_tax),
        remarks=invoice.remarks,
        issuer=invoice.issuer,
        tax_bureau_code=tax_bureau_code,
        tax_bureau_name=tax_bureau_name,
    )

"""Canonical models ⇄ Baiwang payloads, both directions.

The plugin uses the ``*_body`` builders and the ``*_from_*`` readers; the sandbox uses the
inverse (:func:`invoice_from_issue_data`) to rebuild a canonical invoice from the wire and
validate it with the same rules. Keeping both directions here lets a test prove they round
trip, so client and sandbox cannot silently disagree on a field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fapiao.sdk import (
    Invoice,
    InvoiceLine,
    InvoiceState,
    InvoiceTotals,
    IssueResult,
    LineKind,
    LineTotals,
    Party,
    Quota,
    RedApplicant,
    RedConfirmation,
    RedConfirmationState,
    RedReason,
    RedReversalRequest,
    TaxTreatment,
    line_nature,
    optional_decimal,
)
from fapiao_provider_b.protocol import (
    CONFIRM_STATE,
    ENTRY_IDENTITY,
    INVOICE_TYPE_CODE,
    RED_LABEL,
    SPEC_DATE_FORMAT,
    format_date,
    parse_date,
)

__all__ = [
    "BLUE",
    "INVOICE_STATUS",
    "RED",
    "blue_invoice_from_record",
    "confirmation_from_form",
    "invoice_from_issue_data",
    "issue_data",
    "quota_from_credit",
    "red_add_body",
    "red_issue_data",
    "status_from_record",
]

BLUE = "0"  # invoiceType: 蓝字
RED = "1"  # invoiceType: 红字

INVOICE_STATUS: dict[str, InvoiceState] = {
    "00": InvoiceState.ISSUED,  # 正常
    "01": InvoiceState.ISSUING,  # 开具中
    "02": InvoiceState.FAILED,  # 开具失败
    "03": InvoiceState.CANCELLED,  # 已作废 (paper/税控 only; never for 数电)
    "04": InvoiceState.PARTIALLY_REVERSED,  # 部分红冲
    "05": InvoiceState.REVERSED,  # 全额红冲
}
"""``invoiceStatus`` of a query record (inferred codes; see README)."""

_FREE_TAX_MARK = {
    TaxTreatment.TAXABLE: "",
    TaxTreatment.EXEMPT: "1",  # 免税
    TaxTreatment.NOT_TAXABLE: "2",  # 不征税
    TaxTreatment.ZERO_RATE: "3",  # 普通零税率
}
_TREATMENT = {mark: treatment for treatment, mark in _FREE_TAX_MARK.items() if mark}
_KIND_BY_CODE = {code: kind for kind, code in INVOICE_TYPE_CODE.items()}
_REASON_BY_LABEL = {label: reason for reason, label in RED_LABEL.items()}
_APPLICANT_BY_ENTRY = {entry: applicant for applicant, entry in ENTRY_IDENTITY.items()}


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop absent optional fields: empty values only make the signed body longer."""
    return {k: v for k, v in mapping.items() if v is not None and v != ""}


def _line_data(line: InvoiceLine, totals: LineTotals, nature: str) -> dict[str, Any]:
    special = line.preferential_policy
    if special is None and line.treatment in (TaxTreatment.EXEMPT, TaxTreatment.NOT_TAXABLE):
        special = line.treatment.label_zh
    return _clean(
        {
            "goodsLineNo": totals.index + 1,
            "invoiceLineNature": nature,
            "goodsCode": line.tax_code,
            "goodsName": line.name,
            "goodsSpecification": line.spec,
            "goodsUnit": line.unit,
            "goodsQuantity": line.quantity,
            "goodsPrice": totals.unit_price,
            "goodsTotalPrice": totals.amount,
            "goodsTotalTax": totals.tax,
            "goodsTaxRate": line.tax_rate,
            "preferentialMarkFlag": "1" if special else "0",
            "vatSpecialManagement": special,
            "freeTaxMark": _FREE_TAX_MARK[line.treatment],
        }
    )


def issue_data(
    invoice: Invoice,
    totals: InvoiceTotals,
    *,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``data`` of a blue ``baiwang.output.invoice.issue`` call.

    Amounts are sent already normalised to 不含税 (``priceTaxMark`` 0) with the taxes the
    shared rules computed, so every provider invoices the same cents for the same request.
    """
    seller, buyer = invoice.seller, invoice.buyer
    data: dict[str, Any] = _clean(
        {
            "invoiceType": BLUE,
            "invoiceTypeCode": INVOICE_TYPE_CODE[invoice.kind],
            "serialNo": invoice.order_id,
            "priceTaxMark": "0",
            "invoiceListMark": "0",
            "taxationMethod": "0",
            "sellerName": seller.name,
            "sellerAddress": seller.address,
            "sellerTelphone": seller.phone,
            "sellerBankName": seller.bank,
            "sellerBankNumber": seller.account,
            "buyerName": buyer.name,
            "buyerTaxNo": buyer.tax_id,
            "naturalPersonFlag": "Y" if buyer.natural_person else "N",
            "buyerAddress": buyer.address,
            "buyerTelphone": buyer.phone,
            "buyerBankName": buyer.bank,
            "buyerBankNumber": buyer.account,
            "buyerEmail": buyer.email,
            "buyerPhone": buyer.mobile,
            "invoiceTotalPrice": totals.total_amount,
            "invoiceTotalTax": totals.total_tax,
            "invoiceTotalPriceTax": totals.total_with_tax,
            "remarks": invoice.remarks,
            "drawer": invoice.issuer,
            "payee": invoice.payee,
            "checker": invoice.reviewer,
        }
    )
    data["invoiceDetailsList"] = [
        _line_data(line, line_totals, line_nature(invoice.lines, i))
        for i, (line, line_totals) in enumerate(zip(invoice.lines, totals.lines, strict=True))
    ]
    if extra:
        data.update(extra)
    return data


def red_issue_data(confirmation: RedConfirmation) -> dict[str, Any]:
    """A red invoice is issued *against its confirmed form*: the platform takes lines and
    amounts from the form, so the request names the form and carries no lines of its own."""
    return {
        "invoiceType": RED,
        "serialNo": confirmation.order_id,
        "originalInvoiceNo": confirmation.original_invoice_number,
        "redConfirmUuid": confirmation.confirmation_id,
        "redConfirmNo": confirmation.confirmation_number or "",
        "priceTaxMark": "0",
    }


def invoice_from_issue_data(
    tax_no: str, data: Mapping[str, Any], *, seller_name: str | None = None
) -> Invoice:
    """The canonical invoice a blue issue request describes (sandbox side).

    Raises pydantic's ``ValidationError`` when the payload is not even shaped like an
    invoice; the sandbox answers that with the platform's "required field empty" code.
    """
    lines = []
    for item in data.get("invoiceDetailsList") or []:
        treatment = _TREATMENT.get(str(item.get("freeTaxMark") or ""), TaxTreatment.TAXABLE)
        policy = item.get("vatSpecialManagement") or None
        if policy in (TaxTreatment.EXEMPT.label_zh, TaxTreatment.NOT_TAXABLE.label_zh):
            policy = None
        lines.append(
            InvoiceLine(
                name=item.get("goodsName") or "",
                tax_code=str(item.get("goodsCode") or ""),
                spec=item.get("goodsSpecification"),
                unit=item.get("goodsUnit"),
                quantity=optional_decimal(item.get("goodsQuantity")),
                unit_price=optional_decimal(item.get("goodsPrice")),
                amount=optional_decimal(item.get("goodsTotalPrice")),
                tax_rate=optional_decimal(item.get("goodsTaxRate")),
                tax=optional_decimal(item.get("goodsTotalTax")),
                treatment=treatment,
                preferential_policy=policy,
                kind=LineKind.DISCOUNT if item.get("invoiceLineNature") == "1" else LineKind.NORMAL,
            )
        )
    buyer_tax = data.get("buyerTaxNo") or None
    return Invoice(
        order_id=str(data.get("serialNo") or ""),
        kind=_KIND_BY_CODE[str(data.get("invoiceTypeCode"))],
        seller=Party(
            name=data.get("sellerName") or seller_name or "",
            tax_id=tax_no,
            address=data.get("sellerAddress"),
            phone=data.get("sellerTelphone"),
            bank=data.get("sellerBankName"),
            account=data.get("sellerBankNumber"),
        ),
        buyer=Party(
            name=data.get("buyerName") or "",
            tax_id=buyer_tax,
            natural_person=data.get("naturalPersonFlag") == "Y",
            address=data.get("buyerAddress"),
            phone=data.get("buyerTelphone"),
            bank=data.get("buyerBankName"),
            account=data.get("buyerBankNumber"),
            email=data.get("buyerEmail"),
            mobile=data.get("buyerPhone"),
        ),
        lines=tuple(lines),
        prices_include_tax=data.get("priceTaxMark") == "1",
        remarks=data.get("remarks"),
        issuer=data.get("drawer"),
        payee=data.get("payee"),
        reviewer=data.get("checker"),
    )


def status_from_record(
    record: Mapping[str, Any], *, provider: str, seller_tax_id: str
) -> IssueResult:
    """An invoice record (issue answer or query row) in canonical form.

    An issue answer has no ``invoiceStatus``: a number in a synchronous answer means issued.
    """
    raw_status = record.get("invoiceStatus")
    state = INVOICE_STATUS.get(str(raw_status), InvoiceState.ISSUED)
    if raw_status is None and not record.get("invoiceNo"):
        state = InvoiceState.FAILED
    return IssueResult(
        provider=provider,
        seller_tax_id=seller_tax_id,
        order_id=str(record.get("serialNo") or ""),
        state=state,
        serial_number=record.get("invoiceId") or None,
        invoice_number=record.get("invoiceNo") or None,
        issued_at=parse_date(record.get("invoiceDate")),
        total_amount=optional_decimal(record.get("invoiceTotalPrice")),
        total_tax=optional_decimal(record.get("invoiceTotalTax")),
        total_with_tax=optional_decimal(record.get("invoiceTotalPriceTax")),
        is_red=str(record.get("invoiceType")) == RED,
        original_invoice_number=record.get("originalInvoiceNo") or None,
        raw_status=str(raw_status) if raw_status is not None else None,
    )


def red_add_body(
    request: RedReversalRequest,
    blue: Mapping[str, Any],
    red: Sequence[LineTotals],
    blue_lines: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The flat (v7.0) body of ``baiwang.output.redinvoice.add``.

    ``blue`` is the platform's own record of the blue invoice (from a query), ``red`` the red
    lines computed by the shared rules, each pointing at its blue line by ``index``.
    """
    details = []
    for n, line in enumerate(red, start=1):
        source = blue_lines[line.index]
        details.append(
            _clean(
                {
                    "originalInvoiceDetailNo": source.get("goodsLineNo", line.index + 1),
                    "goodsLineNo": n,
                    "goodsCode": line.tax_code,
                    "goodsName": line.display_name,
                    "goodsSpecification": line.spec,
                    "goodsUnit": line.unit,
                    "goodsQuantity": line.quantity,  # already negative on a red line
                    "goodsPrice": line.unit_price,
                    "goodsTaxRate": line.rate,
                    "goodsTotalPrice": line.amount,
                    "goodsTotalTax": line.tax,
                }
            )
        )
    total_amount = sum((line.amount for line in red), Decimal("0.00"))
    total_tax = sum((line.tax for line in red), Decimal("0.00"))
    issued = parse_date(blue.get("invoiceDate"))
    return _clean(
        {
            "redConfirmSerialNo": request.order_id,
            "entryIdentity": ENTRY_IDENTITY[request.applicant],
            "sellerTaxNo": request.seller_tax_id,
            "sellerTaxName": blue.get("sellerName"),
            "buyerTaxNo": request.buyer_tax_id or blue.get("buyerTaxNo"),
            "buyerTaxName": blue.get("buyerName"),
            "originInvoiceIsPaper": "N",
            "originalInvoiceNo": request.original_invoice_number,
            "originInvoiceDate": format_date(issued, SPEC_DATE_FORMAT) if issued else None,
            "originInvoiceTotalPrice": optional_decimal(blue.get("invoiceTotalPrice")),
            "originInvoiceTotalTax": optional_decimal(blue.get("invoiceTotalTax")),
            "originInvoiceType": blue.get("invoiceTypeCode"),
            "invoiceTotalPrice": total_amount,
            "invoiceTotalTax": total_tax,
            "redInvoiceLabel": RED_LABEL[request.reason],
            "invoiceSource": "2",
            "priceTaxMark": "0",
            "autoIssueSwitch": "N",
            "redConfirmDetailReqEntityList": details,
        }
    )


def confirmation_from_form(
    form: Mapping[str, Any], *, provider: str, seller_tax_id: str
) -> RedConfirmation:
    """A 红字确认单 as the platform reports it (``redforminfo`` or the ``add`` answer)."""
    raw = str(form.get("confirmState") or "")
    state = CONFIRM_STATE.get(raw, RedConfirmationState.PENDING)
    if form.get("alreadyRedInvoiceFlag") == "Y":
        state = RedConfirmationState.RED_ISSUED
    created: datetime | None = parse_date(form.get("entryDate"))
    expires: datetime | None = parse_date(form.get("confirmDeadline"))
    return RedConfirmation(
        provider=provider,
        confirmation_id=str(form.get("redConfirmUuid") or ""),
        confirmation_number=form.get("redConfirmNo") or None,
        seller_tax_id=form.get("sellerTaxNo") or seller_tax_id,
        original_invoice_number=str(form.get("originalInvoiceNo") or ""),
        order_id=str(form.get("redConfirmSerialNo") or ""),
        reason=_REASON_BY_LABEL.get(str(form.get("redInvoiceLabel")), RedReason.INVOICING_ERROR),
        applicant=_APPLICANT_BY_ENTRY.get(str(form.get("entryIdentity")), RedApplicant.SELLER),
        state=state,
        amount=optional_decimal(form.get("invoiceTotalPrice")) or Decimal("0.00"),
        tax=optional_decimal(form.get("invoiceTotalTax")) or Decimal("0.00"),
        requires_confirmation=raw in ("02", "03"),
        created_at=created,
        expires_at=expires,
        raw_status=raw or None,
    )


def blue_invoice_from_record(record: Mapping[str, Any], seller_tax_id: str) -> Invoice:
    """Rebuild the canonical blue invoice from a query record, so the shared red-reversal
    rules can check a request against the invoice the platform actually holds."""
    data = dict(record)
    data.setdefault("priceTaxMark", "0")
    return invoice_from_issue_data(seller_tax_id, data)


def quota_from_credit(answer: Mapping[str, Any], seller_tax_id: str) -> Quota:
    """The answer of ``creditquery`` (授信额度), read now: the platform stamps no time."""
    return Quota(
        seller_tax_id=seller_tax_id,
        total=optional_decimal(answer.get("totalCreditLine")),
        used=optional_decimal(answer.get("usedCreditLine")),
        remaining=optional_decimal(answer.get("remainingCreditLine")),
        as_of=datetime.now(UTC),
    )

"""Canonical models ⇄ the platform's payloads (field names as the platform spells them).

One builder per direction and nothing else: no I/O, so every mapping is unit-testable and
the sandbox can reuse the parsing side. Amounts travel as strings (the platform types them
``String``) and come back through ``Decimal`` only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fapiao.models import (
    CENT,
    RED_FORM_STATUS_CODES,
    Document,
    DocumentFormat,
    ErrorInfo,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    InvoiceStatus,
    LineKind,
    Party,
    RedApplicant,
    RedConfirmation,
    RedConfirmationState,
    RedReason,
    RedReversalRequest,
    TaxTreatment,
)

if TYPE_CHECKING:
    from fapiao.rules import InvoiceTotals, LineTotals

__all__ = [
    "CHINA",
    "INVOICE_LINE",
    "RED_REASON",
    "bill_id_for",
    "blue_invoice_from_result",
    "confirmation_from_form",
    "money",
    "order_payload",
    "rate_text",
    "red_detail",
    "status_from_callback",
    "status_from_result",
]

PROVIDER = "nuonuo"
CHINA = ZoneInfo("Asia/Shanghai")

INVOICE_LINE = {InvoiceKind.SPECIAL: "bs", InvoiceKind.NORMAL: "pc"}
"""invoiceLine: bs 电子发票(增值税专用发票), pc 电子发票(普通发票)."""
KIND_OF_LINE = {v: k for k, v in INVOICE_LINE.items()}

RED_REASON = {
    RedReason.SALES_RETURN: "1",
    RedReason.INVOICING_ERROR: "2",
    RedReason.SERVICE_SUSPENSION: "3",
    RedReason.SALES_ALLOWANCE: "4",
}
REASON_OF = {v: k for k, v in RED_REASON.items()}

# zeroRateFlag / favouredPolicyFlag for the zero-tax treatments.
_TREATMENT_FLAGS = {
    TaxTreatment.TAXABLE: ("", "0"),
    TaxTreatment.EXEMPT: ("1", "03"),
    TaxTreatment.NOT_TAXABLE: ("2", "04"),
    TaxTreatment.ZERO_RATE: ("3", "0"),
}
_TREATMENT_OF_FLAG = {
    "1": TaxTreatment.EXEMPT,
    "2": TaxTreatment.NOT_TAXABLE,
    "3": TaxTreatment.ZERO_RATE,
}

# queryInvoiceResult ``status``: 2 开票完成, 20 开票中, 21 开票成功签章中, 22 开票失败,
# 24 签章失败, 3 已作废, 31 作废中.
_STATE_OF_STATUS = {
    "2": InvoiceState.ISSUED,
    "20": InvoiceState.ISSUING,
    "21": InvoiceState.ISSUING,
    "22": InvoiceState.FAILED,
    "24": InvoiceState.FAILED,
    "3": InvoiceState.CANCELLED,
    "31": InvoiceState.CANCELLED,
}

# billStatus of a 红字确认单 (the tax bureau's codes, plus Nuonuo's 15/16).
_FORM_STATE = {
    **RED_FORM_STATUS_CODES,  # the tax bureau's 01–10
    "15": RedConfirmationState.PENDING,  # 申请中
    "16": RedConfirmationState.REJECTED,  # 申请失败
}
NEEDS_CONFIRMATION = frozenset({"02", "03", "04"})
CONFIRMATION_WINDOW = timedelta(hours=72)


def money(value: Decimal) -> str:
    return format(value.quantize(CENT), "f")


def rate_text(rate: Decimal) -> str:
    """0.13 → "0.13", 0 → "0": the platform's spelling of a rate."""
    text = format(rate.normalize(), "f")
    return text if text != "-0" else "0"


def _number(value: Decimal) -> str:
    """Plain notation, at most 8 decimals, no trailing zeros (quantities, unit prices)."""
    text = format(value.quantize(Decimal("0.00000001")).normalize(), "f")
    return text


def _dec(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value))


def _from_millis(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def millis(moment: datetime | None) -> int | None:
    """The platform's timestamps are epoch milliseconds (``invoiceTime``, ``c_kprq``…)."""
    return None if moment is None else int(moment.timestamp() * 1000)


def zero_rate_flag(treatment: TaxTreatment) -> str:
    """``zeroRateFlag`` of a line: "" when taxed, else 1 免税, 2 不征税, 3 零税率."""
    return _TREATMENT_FLAGS[treatment][0]


def treatment_of(zero_flag: Any) -> TaxTreatment:
    """The tax treatment a line's ``zeroRateFlag`` stands for (taxed when absent)."""
    return _TREATMENT_OF_FLAG.get(str(zero_flag or ""), TaxTreatment.TAXABLE)


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def bill_id_for(order_id: str) -> str:
    """The 红字确认单 billId (≤ 32 chars) for a red order id: derived, so that an unknown
    outcome of ``red_apply`` is resolved by querying the same billId."""
    if len(order_id) <= 32 and order_id.isalnum():
        return order_id
    return hashlib.sha1(order_id.encode()).hexdigest()[:32].upper()


def _line_payload(line: InvoiceLine, totals: LineTotals, prop: str) -> dict[str, Any]:
    """Amounts are sent already normalised to 不含税 by ``fapiao.rules`` (withTaxFlag 0), so
    the platform and fapiao can never round a 含税 price differently."""
    zero_flag, policy_flag = _TREATMENT_FLAGS[line.treatment]
    detail: dict[str, Any] = {
        "goodsName": line.name,
        "goodsCode": line.tax_code,
        "withTaxFlag": "0",
        "taxRate": rate_text(line.tax_rate),
        "taxExcludedAmount": money(totals.amount),
        "tax": money(totals.tax),
        "taxIncludedAmount": money(totals.gross),
        "invoiceLineProperty": prop,
        "favouredPolicyFlag": policy_flag,
        "zeroRateFlag": zero_flag,
    }
    if line.preferential_policy:
        detail["favouredPolicyName"] = line.preferential_policy
    if line.spec:
        detail["specType"] = line.spec
    if line.unit:
        detail["unit"] = line.unit
    if line.kind is LineKind.NORMAL and totals.quantity is not None:
        detail["num"] = _number(totals.quantity)
        if totals.unit_price is not None:
            detail["price"] = _number(totals.unit_price)
    return detail


def order_payload(
    invoice: Invoice,
    totals: InvoiceTotals,
    *,
    clerk: str,
    extension_number: str | None,
    callback_url: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``order`` of ``nuonuo.OpeMplatform.requestBillingNew`` for a blue invoice."""
    seller, buyer = invoice.seller, invoice.buyer
    details = []
    for index, (line, line_totals) in enumerate(zip(invoice.lines, totals.lines, strict=True)):
        discounted = (
            index + 1 < len(invoice.lines) and invoice.lines[index + 1].kind is LineKind.DISCOUNT
        )
        prop = "1" if line.kind is LineKind.DISCOUNT else "2" if discounted else "0"
        details.append(_line_payload(line, line_totals, prop))
    push_mode = "-1"
    if buyer.email and buyer.mobile:
        push_mode = "2"
    elif buyer.mobile:
        push_mode = "1"
    elif buyer.email:
        push_mode = "0"
    order: dict[str, Any] = {
        "orderNo": invoice.order_id,
        "invoiceDate": (now or datetime.now(CHINA)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        "invoiceType": "1",
        "invoiceLine": INVOICE_LINE[invoice.kind],
        "salerTaxNum": seller.tax_id or "",
        "salerTel": seller.phone or "",
        "salerAddress": seller.address or "",
        "salerAccount": _join(seller.bank, seller.account),
        "buyerName": buyer.name,
        "buyerTaxNum": buyer.tax_id or "",
        "buyerTel": buyer.phone or "",
        "buyerAddress": buyer.address or "",
        "buyerAccount": _join(buyer.bank, buyer.account),
        "naturalPersonFlag": "1" if buyer.natural_person else "0",
        "pushMode": push_mode,
        "buyerPhone": buyer.mobile or "",
        "email": buyer.email or "",
        "clerk": invoice.issuer or clerk,
        "payee": invoice.payee or "",
        "checker": invoice.reviewer or "",
        "remark": invoice.remarks or "",
        "invoiceDetail": details,
    }
    if extension_number:
        order["extensionNumber"] = extension_number
    if callback_url:
        order["callBackUrl"] = callback_url
    order.update(invoice.provider_extra)  # the escape hatch: vendor-only fields, untouched
    return order


def _documents(item: Mapping[str, Any], number: str | None) -> tuple[Document, ...]:
    if not number:
        return ()
    found = []
    for fmt, key in (
        (DocumentFormat.PDF, "pdfUrl"),
        (DocumentFormat.OFD, "ofdUrl"),
        (DocumentFormat.XML, "xmlUrl"),
    ):
        url = item.get(key)
        if url:
            found.append(Document(format=fmt, invoice_number=number, url=str(url)))
    return tuple(found)


def status_from_result(item: Mapping[str, Any], seller_tax_id: str) -> InvoiceStatus:
    """One entry of ``queryInvoiceResult``'s result list."""
    raw = str(item.get("status") or "")
    state = _STATE_OF_STATUS.get(raw, InvoiceState.ISSUING)
    number = item.get("allElectronicInvoiceNumber") or item.get("invoiceNo") or None
    error = None
    if state is InvoiceState.FAILED:
        cause = str(item.get("failCause") or item.get("statusMsg") or "开票失败")
        error = ErrorInfo(
            code="PROVIDER_ERROR",
            message_zh=cause,
            message_en=f"issuance failed at the platform (status {raw})",
            raw_code=raw,
            raw_message=cause,
            retryable=raw == "24",
        )
    return InvoiceStatus(
        provider=PROVIDER,
        seller_tax_id=str(item.get("salerTaxNum") or seller_tax_id),
        order_id=str(item.get("orderNo") or ""),
        state=state,
        serial_number=str(item.get("serialNo") or "") or None,
        invoice_number=str(number) if number else None,
        issued_at=_from_millis(item.get("invoiceTime")) if state is InvoiceState.ISSUED else None,
        total_amount=_dec(item.get("exTaxAmount")),
        total_tax=_dec(item.get("taxAmount")),
        total_with_tax=_dec(item.get("orderAmount")),
        documents=_documents(item, str(number) if number else None)
        if state is InvoiceState.ISSUED
        else (),
        is_red=str(item.get("invoiceType") or "1") == "2",
        original_invoice_number=str(item.get("oldEleInvoiceNumber") or "") or None,
        error=error,
        raw_status=raw or None,
    )


def status_from_callback(content: Mapping[str, Any], seller_tax_id: str) -> InvoiceStatus:
    """The ``content`` JSON of an ``operater=callback`` notification (c_* fields)."""
    raw = str(content.get("c_status") or "")
    state = {"1": InvoiceState.ISSUED, "2": InvoiceState.FAILED, "3": InvoiceState.FAILED}.get(
        raw, InvoiceState.ISSUING
    )
    number = str(content.get("c_fphm") or "") or None
    documents: tuple[Document, ...] = ()
    if state is InvoiceState.ISSUED and number:
        documents = tuple(
            Document(format=fmt, invoice_number=number, url=str(content[key]))
            for fmt, key in (
                (DocumentFormat.PDF, "c_url"),
                (DocumentFormat.OFD, "c_ofd_url"),
                (DocumentFormat.XML, "c_xml_url"),
            )
            if content.get(key)
        )
    error = None
    if state is InvoiceState.FAILED:
        cause = str(content.get("c_resultmsg") or content.get("c_msg") or "开票失败")
        error = ErrorInfo(
            code="PROVIDER_ERROR",
            message_zh=cause,
            message_en="issuance failed at the platform",
            raw_code=raw,
            raw_message=cause,
        )
    bhsje, hjse = _dec(content.get("c_bhsje")), _dec(content.get("c_hjse"))
    return InvoiceStatus(
        provider=PROVIDER,
        seller_tax_id=str(content.get("c_saletaxnum") or seller_tax_id),
        order_id=str(content.get("c_orderno") or ""),
        state=state,
        serial_number=str(content.get("c_fpqqlsh") or "") or None,
        invoice_number=number,
        issued_at=_from_millis(content.get("c_kprq")) if state is InvoiceState.ISSUED else None,
        total_amount=bhsje,
        total_tax=hjse,
        total_with_tax=(bhsje + hjse) if bhsje is not None and hjse is not None else None,
        documents=documents,
        is_red=str(content.get("c_invoice_type") or "1") == "2",
        original_invoice_number=str(content.get("c_yfphm") or "") or None,
        error=error,
        raw_status=raw or None,
    )


def confirmation_from_form(form: Mapping[str, Any], seller_tax_id: str) -> RedConfirmation:
    """One entry of ``queryInvoiceRedConfirm``'s ``list``."""
    raw = str(form.get("billStatus") or "")
    state = _FORM_STATE.get(raw, RedConfirmationState.PENDING)
    if str(form.get("openStatus") or "0") == "1":
        state = RedConfirmationState.RED_ISSUED
    created = _from_millis(form.get("billTime"))
    pending = state is RedConfirmationState.PENDING and raw in NEEDS_CONFIRMATION
    return RedConfirmation(
        provider=PROVIDER,
        confirmation_id=str(form.get("billId") or ""),
        confirmation_number=str(form.get("billNo") or "") or None,
        seller_tax_id=str(form.get("sellerTaxNo") or seller_tax_id),
        original_invoice_number=str(
            form.get("blueElecInvoiceNumber") or form.get("blueInvoiceNumber") or ""
        ),
        order_id=str(form.get("orderNo") or ""),
        reason=REASON_OF.get(str(form.get("redReason") or ""), RedReason.INVOICING_ERROR),
        applicant=RedApplicant.BUYER
        if str(form.get("applySource")) == "1"
        else RedApplicant.SELLER,
        state=state,
        amount=_dec(form.get("taxExcludedAmount")) or Decimal("0.00"),
        tax=_dec(form.get("taxAmount")) or Decimal("0.00"),
        requires_confirmation=raw in NEEDS_CONFIRMATION,
        created_at=created,
        expires_at=created + CONFIRMATION_WINDOW if pending and created else None,
        raw_status=raw or None,
    )


def blue_invoice_from_result(item: Mapping[str, Any], seller_tax_id: str) -> Invoice:
    """Rebuild the canonical blue invoice from a query with ``isOfferInvoiceDetail=1``, so
    ``fapiao.rules`` can check a red reversal against it before anything is sent."""
    lines = []
    for detail in item.get("invoiceItems") or []:
        prop = str(detail.get("invoiceLineProperty") or "0")
        num = _dec(detail.get("itemNum"))
        price = _dec(detail.get("itemPrice"))
        lines.append(
            InvoiceLine(
                name=str(detail.get("itemName") or ""),
                tax_code=str(detail.get("itemCode") or ""),
                spec=detail.get("itemSpec") or None,
                unit=detail.get("itemUnit") or None,
                quantity=num if prop != "1" else None,
                unit_price=price if prop != "1" else None,
                amount=Decimal(str(detail.get("itemAmount"))),
                tax_rate=Decimal(str(detail.get("itemTaxRate") or "0")),
                tax=_dec(detail.get("itemTaxAmount")),
                treatment=treatment_of(detail.get("zeroRateFlag")),
                kind=LineKind.DISCOUNT if prop == "1" else LineKind.NORMAL,
            )
        )
    kind = KIND_OF_LINE.get(str(item.get("invoiceLine") or "pc"), InvoiceKind.NORMAL)
    return Invoice(
        order_id=str(item.get("orderNo") or "unknown"),
        kind=kind,
        seller=Party(
            name=str(item.get("saleName") or "销方"),
            tax_id=str(item.get("salerTaxNum") or seller_tax_id),
        ),
        buyer=Party(
            name=str(item.get("payerName") or "购方"),
            tax_id=str(item.get("payerTaxNo") or "") or None,
            natural_person=not item.get("payerTaxNo") and kind is InvoiceKind.NORMAL,
        ),
        lines=tuple(lines),
    )


def red_detail(
    blue: Invoice, red_lines: tuple[LineTotals, ...], request: RedReversalRequest
) -> list[dict[str, Any]]:
    """``detail`` of ``saveInvoiceRedConfirm`` for a partial reversal: one entry per
    reversed blue line, 1-based ``blueDetailIndex`` in blue order, negative amounts."""
    details = []
    for red_line, totals in zip(request.lines, red_lines, strict=True):
        source = blue.lines[red_line.original_line]
        entry: dict[str, Any] = {
            "blueDetailIndex": str(red_line.original_line + 1),
            "goodsName": source.name,
            "goodsCode": source.tax_code,
            "taxRate": rate_text(source.tax_rate),
            "taxExcludedAmount": money(totals.amount),
            "taxAmount": money(totals.tax),
        }
        if source.unit:
            entry["unit"] = source.unit
        if source.spec:
            entry["specType"] = source.spec
        if red_line.quantity is not None:
            entry["num"] = _number(-red_line.quantity)
            if source.unit_price is not None:
                entry["taxExcludedPrice"] = _number(source.unit_price)
        details.append(entry)
    return details

"""Canonical models ⇄ the platform's payloads (field names as the platform spells them).

One builder per direction and nothing else: no I/O, so every mapping is unit-testable and
the sandbox can reuse the parsing side. Amounts travel as strings (the platform types them
``String``) and come back through ``Decimal`` only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from fapiao.sdk import (
    Document,
    DocumentFormat,
    ErrorInfo,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    InvoiceStatus,
    InvoiceTotals,
    LineKind,
    LineTotals,
    Party,
    Quota,
    RedApplicant,
    RedConfirmation,
    RedConfirmationState,
    RedReason,
    RedReversalRequest,
    line_nature,
    optional_decimal,
)
from fapiao_provider_a.protocol import (
    BUYER,
    CHINA,
    CONFIRMATION_WINDOW,
    FORM_STATE,
    INVOICE_LINE,
    KIND_OF_LINE,
    NEEDS_CONFIRMATION,
    REASON_OF,
    RED_REASON,
    SELLER,
    STATE_OF_STATUS,
    TREATMENT_FLAGS,
    from_millis,
    money,
    number_text,
    rate_text,
    treatment_of,
)

__all__ = [
    "bill_id_for",
    "blue_invoice_from_result",
    "confirmation_from_form",
    "invoice_from_order",
    "order_payload",
    "quota_from_credit_line",
    "red_detail",
    "red_form_payload",
    "status_from_callback",
    "status_from_result",
]

PROVIDER = "nuonuo"


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
    zero_flag, policy_flag = TREATMENT_FLAGS[line.treatment]
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
        detail["num"] = number_text(totals.quantity)
        if totals.unit_price is not None:
            detail["price"] = number_text(totals.unit_price)
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
    details = [
        _line_payload(line, line_totals, line_nature(invoice.lines, index))
        for index, (line, line_totals) in enumerate(zip(invoice.lines, totals.lines, strict=True))
    ]
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


def _bank_account(text: str | None) -> tuple[str | None, str | None]:
    """Split ``salerAccount``/``buyerAccount`` ("bank account", see ``_join``) again."""
    if not text:
        return None, None
    bank, _, account = text.rpartition(" ")
    return (bank or None, account or None) if bank else (None, text)


def invoice_from_order(order: Mapping[str, Any], seller: Party) -> Invoice:
    """The canonical invoice a ``requestBillingNew`` order describes: the inverse of
    :func:`order_payload` (sandbox side); ``seller`` as registered fills what the order
    leaves out. A malformed order raises ``KeyError``, ``TypeError``, ``ValueError`` (pydantic's
    ``ValidationError`` included) or ``decimal.InvalidOperation``."""
    details = order["invoiceDetail"]
    inclusive = str(details[0].get("withTaxFlag") or "0") == "1"
    amount_key = "taxIncludedAmount" if inclusive else "taxExcludedAmount"
    lines = []
    for d in details:
        discount = str(d.get("invoiceLineProperty") or "0") == "1"
        lines.append(
            InvoiceLine(
                name=str(d["goodsName"]),
                tax_code=str(d.get("goodsCode") or ""),
                spec=d.get("specType") or None,
                unit=d.get("unit") or None,
                quantity=optional_decimal(d.get("num")),
                unit_price=optional_decimal(d.get("price")),
                amount=Decimal(str(d.get(amount_key) or "0")),
                tax_rate=Decimal(str(d.get("taxRate") or "0")),
                tax=None if inclusive else optional_decimal(d.get("tax")),
                treatment=treatment_of(d.get("zeroRateFlag")),
                kind=LineKind.DISCOUNT if discount else LineKind.NORMAL,
            )
        )
    seller_bank, seller_account = _bank_account(order.get("salerAccount"))
    buyer_bank, buyer_account = _bank_account(order.get("buyerAccount"))
    return Invoice(
        order_id=str(order["orderNo"]),
        kind=KIND_OF_LINE.get(str(order.get("invoiceLine") or "pc"), InvoiceKind.NORMAL),
        seller=Party(
            name=seller.name,
            tax_id=str(order.get("salerTaxNum") or ""),
            address=order.get("salerAddress") or seller.address,
            phone=order.get("salerTel") or seller.phone,
            bank=seller_bank or seller.bank,
            account=seller_account or seller.account,
        ),
        buyer=Party(
            name=str(order["buyerName"]),
            tax_id=str(order.get("buyerTaxNum") or "") or None,
            natural_person=str(order.get("naturalPersonFlag") or "0") == "1",
            address=order.get("buyerAddress") or None,
            phone=order.get("buyerTel") or None,
            bank=buyer_bank,
            account=buyer_account,
            email=order.get("email") or None,
            mobile=order.get("buyerPhone") or None,
        ),
        lines=tuple(lines),
        prices_include_tax=inclusive,
        remarks=order.get("remark") or None,
        issuer=order.get("clerk") or None,
        payee=order.get("payee") or None,
        reviewer=order.get("checker") or None,
    )


def _documents(
    item: Mapping[str, Any], number: str | None, keys: tuple[str, str, str]
) -> tuple[Document, ...]:
    """The files an issued invoice's answer links to (``keys``: its PDF, OFD, XML fields)."""
    if not number:
        return ()
    return tuple(
        Document(format=fmt, invoice_number=number, url=str(item[key]))
        for fmt, key in zip(DocumentFormat, keys, strict=True)
        if item.get(key)
    )


def _failure(raw: str, cause: str, message_en: str, *, retryable: bool = False) -> ErrorInfo:
    return ErrorInfo(
        code="PROVIDER_ERROR",
        message_zh=cause,
        message_en=message_en,
        raw_code=raw,
        raw_message=cause,
        retryable=retryable,
    )


def status_from_result(item: Mapping[str, Any], seller_tax_id: str) -> InvoiceStatus:
    """One entry of ``queryInvoiceResult``'s result list."""
    raw = str(item.get("status") or "")
    state = STATE_OF_STATUS.get(raw, InvoiceState.ISSUING)
    issued = state is InvoiceState.ISSUED
    found = item.get("allElectronicInvoiceNumber") or item.get("invoiceNo") or None
    number = str(found) if found else None
    error = None
    if state is InvoiceState.FAILED:
        cause = str(item.get("failCause") or item.get("statusMsg") or "开票失败")
        message_en = f"issuance failed at the platform (status {raw})"
        error = _failure(raw, cause, message_en, retryable=raw == "24")
    return InvoiceStatus(
        provider=PROVIDER,
        seller_tax_id=str(item.get("salerTaxNum") or seller_tax_id),
        order_id=str(item.get("orderNo") or ""),
        state=state,
        serial_number=str(item.get("serialNo") or "") or None,
        invoice_number=number,
        issued_at=from_millis(item.get("invoiceTime")) if issued else None,
        total_amount=optional_decimal(item.get("exTaxAmount")),
        total_tax=optional_decimal(item.get("taxAmount")),
        total_with_tax=optional_decimal(item.get("orderAmount")),
        documents=_documents(item, number, ("pdfUrl", "ofdUrl", "xmlUrl")) if issued else (),
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
    issued = state is InvoiceState.ISSUED
    number = str(content.get("c_fphm") or "") or None
    error = None
    if state is InvoiceState.FAILED:
        cause = str(content.get("c_resultmsg") or content.get("c_msg") or "开票失败")
        error = _failure(raw, cause, "issuance failed at the platform")
    bhsje, hjse = optional_decimal(content.get("c_bhsje")), optional_decimal(content.get("c_hjse"))
    return InvoiceStatus(
        provider=PROVIDER,
        seller_tax_id=str(content.get("c_saletaxnum") or seller_tax_id),
        order_id=str(content.get("c_orderno") or ""),
        state=state,
        serial_number=str(content.get("c_fpqqlsh") or "") or None,
        invoice_number=number,
        issued_at=from_millis(content.get("c_kprq")) if issued else None,
        total_amount=bhsje,
        total_tax=hjse,
        total_with_tax=(bhsje + hjse) if bhsje is not None and hjse is not None else None,
        documents=_documents(content, number, ("c_url", "c_ofd_url", "c_xml_url"))
        if issued
        else (),
        is_red=str(content.get("c_invoice_type") or "1") == "2",
        original_invoice_number=str(content.get("c_yfphm") or "") or None,
        error=error,
        raw_status=raw or None,
    )


def confirmation_from_form(form: Mapping[str, Any], seller_tax_id: str) -> RedConfirmation:
    """One entry of ``queryInvoiceRedConfirm``'s ``list``."""
    raw = str(form.get("billStatus") or "")
    state = FORM_STATE.get(raw, RedConfirmationState.PENDING)
    if str(form.get("openStatus") or "0") == "1":
        state = RedConfirmationState.RED_ISSUED
    created = from_millis(form.get("billTime"))
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
        amount=optional_decimal(form.get("taxExcludedAmount")) or Decimal("0.00"),
        tax=optional_decimal(form.get("taxAmount")) or Decimal("0.00"),
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
        num = optional_decimal(detail.get("itemNum"))
        price = optional_decimal(detail.get("itemPrice"))
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
                tax=optional_decimal(detail.get("itemTaxAmount")),
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


def red_form_payload(
    request: RedReversalRequest,
    blue: Invoice,
    red_lines: tuple[LineTotals, ...] | None,
    *,
    extension_number: str | None,
    callback_url: str | None,
) -> dict[str, Any]:
    """The body of ``saveInvoiceRedConfirm`` (``red_lines``: a partial reversal's lines).

    Its ``billId`` derives from the red order id (:func:`bill_id_for`), so an unknown outcome
    is resolved by reading that form, and a resend is answered "duplicate billId"."""
    payload: dict[str, Any] = {
        "billId": bill_id_for(request.order_id),
        "blueInvoiceLine": INVOICE_LINE[blue.kind],
        "applySource": BUYER if request.applicant is RedApplicant.BUYER else SELLER,
        "blueElecInvoiceNumber": request.original_invoice_number,
        "sellerTaxNo": request.seller_tax_id,
        "sellerName": blue.seller.name,
        "buyerTaxNo": blue.buyer.tax_id or "",
        "buyerName": blue.buyer.name,
        "redReason": RED_REASON[request.reason],
        "orderNo": request.order_id,
        "autoInvoice": "1",
    }
    if extension_number:
        payload["extensionNumber"] = extension_number
    if callback_url:
        payload["callbackUrl"] = callback_url
    if red_lines is not None:
        payload["detail"] = red_detail(blue, red_lines, request)
    return payload


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
            entry["num"] = number_text(-red_line.quantity)
            if source.unit_price is not None:
                entry["taxExcludedPrice"] = number_text(source.unit_price)
        details.append(entry)
    return details


def quota_from_credit_line(result: Mapping[str, Any], seller_tax_id: str) -> Quota:
    """The answer of ``getCreditLine`` (授信额度), as of its ``amountUpdateTime``."""
    return Quota(
        seller_tax_id=seller_tax_id,
        total=optional_decimal(result.get("totalCreditLine")),
        used=optional_decimal(result.get("usedCreditLine")),
        remaining=optional_decimal(result.get("availableCreditLine")),
        as_of=from_millis(result.get("amountUpdateTime")),
    )

"""Invoices, server side: issuance (开票中 → 开票完成 after the configured delay), queries,
delivery by e-mail or SMS, and the credit line.

An order is rebuilt into a canonical invoice (``mapping.invoice_from_order``) and judged by
the project's own rules, answered with the platform's codes, so a client that skips
validation meets the same refusals as one that validated before sending.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from fapiao.sdk import Invoice, InvoiceTotals, LineKind, Party, check_invoice, compute_totals
from fapiao_provider_a.mapping import invoice_from_order
from fapiao_provider_a.protocol import ISSUED, millis, money, rate_text, zero_rate_flag
from fapiao_provider_a.sandbox.calls import Call
from fapiao_provider_a.sandbox.config import Merchant
from fapiao_provider_a.sandbox.documents import file_url
from fapiao_provider_a.sandbox.state import PlatformError, Record, SandboxState

__all__ = [
    "cancel",
    "credit_line",
    "deliver",
    "finalize",
    "find",
    "issue",
    "query",
    "schedule",
    "settle_due",
    "submit",
]

ISSUING = "20"

_ISSUE_TO_PLATFORM = {
    "INVALID_TAX_ID": None,  # seller or buyer, decided by the path
    "MISSING_TAX_ID": "E9110",
    "SPECIAL_NEEDS_ENTITY_BUYER": "E9110",
    "ZERO_AMOUNT": "E9103",
    "AMOUNT_MISMATCH": "E9104",
    "TAX_OUT_OF_TOLERANCE": "E9104",
    "TOTAL_TAX_OUT_OF_TOLERANCE": "E9104",
    "TOO_MANY_DECIMALS": "E9104",
    "NEGATIVE_AMOUNT": "E9104",
    "DISCOUNT_WITHOUT_PARENT": "E9105",
    "DISCOUNT_TOO_LARGE": "E9105",
    "DISCOUNT_MISMATCH": "E9105",
    "DISCOUNT_NOT_NEGATIVE": "E9105",
    "INVALID_TAX_CODE": "E9107",
    "UNKNOWN_TAX_CODE": "E9107",
    "TAX_CODE_IS_SUMMARY": "E9107",
    "RATE_NOT_ALLOWED": "E9108",
    "TREATMENT_MISMATCH": "E9108",
}
_STATUS_MSG = {ISSUED: "开票完成（最终状态）", ISSUING: "开票中", "22": "开票失败"}


def _invoice(merchant: Merchant, order: Mapping[str, Any]) -> Invoice:
    """The canonical invoice an order describes, or E9109 for a malformed order."""
    registered = Party.model_validate(merchant.model_dump(include=set(Party.model_fields)))
    try:
        details = order["invoiceDetail"]
        if not isinstance(details, list) or not details:
            raise PlatformError("E9109", "invoiceDetail")
        return invoice_from_order(order, registered)
    except (KeyError, TypeError, ValueError, InvalidOperation, ValidationError) as exc:
        raise PlatformError("E9109", type(exc).__name__) from None


def _validate(invoice: Invoice) -> InvoiceTotals:
    totals, issues = check_invoice(invoice)
    errors = [i for i in issues if not i.warning]
    if totals is not None and not errors:
        return totals
    first = errors[0]  # totals are missing only with an error that says why
    code = _ISSUE_TO_PLATFORM.get(first.code, "E9109")
    if code is None:
        code = "E9101" if first.path.startswith("seller") else "E9102"
    raise PlatformError(code, first.path)


def submit(
    state: SandboxState, merchant: Merchant, order: Mapping[str, Any], *, base_url: str
) -> Record:
    """Accept an order (开票中): validated, unique per seller, within the credit line."""
    if str(order.get("salerTaxNum") or "") not in ("", merchant.tax_id):
        raise PlatformError("E9111")
    order = {**order, "salerTaxNum": merchant.tax_id}
    if str(order.get("invoiceType") or "1") != "1":
        raise PlatformError("E9109", "invoiceType (红票请走红字确认单)")
    invoice = _invoice(merchant, order)
    totals = _validate(invoice)
    with state.lock:
        key = (merchant.tax_id, invoice.order_id)
        if key in state.by_order:
            raise PlatformError("E9106")
        if not state.use_credit(merchant.tax_id, totals.total_amount, merchant.credit_line):
            raise PlatformError("E9201")
        record = Record(
            serial=state.new_serial(),
            order_no=invoice.order_id,
            merchant=merchant,
            invoice=invoice,
            line_kind=str(order.get("invoiceLine") or "pc"),
            ready_at=time.monotonic() + state.config.issue_delay_seconds,
            base_url=base_url,
            callback_url=order.get("callBackUrl") or None,
            amount=totals.total_amount,
            tax=totals.total_tax,
            email=order.get("email") or None,
            phone=order.get("buyerPhone") or None,
        )
        state.records[record.serial] = record
        state.by_order[key] = record
        return record


def finalize(state: SandboxState, record: Record) -> bool:
    """开票中 → 开票完成 once its delay has passed; True when this call finished it."""
    with state.lock:
        if record.status != ISSUING or time.monotonic() < record.ready_at:
            return False
        record.issued_at = state.clock.now()
        record.number = state.numbers.next(record.merchant.tax_id, when=record.issued_at)
        record.status = ISSUED
        state.by_number[record.number] = record
    if state.on_issued is not None:
        state.on_issued(record)
    return True


def schedule(state: SandboxState, record: Record) -> None:
    """Finish ``record`` after the configured delay (a query finishes it earlier if due)."""
    delay = state.config.issue_delay_seconds
    asyncio.get_running_loop().call_later(delay, finalize, state, record)


def settle_due(state: SandboxState) -> None:
    for record in [r for r in state.records.values() if r.status == ISSUING]:
        finalize(state, record)


def find(
    state: SandboxState,
    merchant: Merchant,
    *,
    order_nos: Sequence[str] = (),
    serial_nos: Sequence[str] = (),
) -> list[Record]:
    settle_due(state)
    with state.lock:
        found = [state.by_order.get((merchant.tax_id, o)) for o in order_nos]
        found += [state.records.get(s) for s in serial_nos]
        return [r for r in found if r is not None and r.merchant.tax_id == merchant.tax_id]


def _result_item(state: SandboxState, record: Record, detail: bool) -> dict[str, Any]:
    """One entry of ``queryInvoiceResult``'s answer (with its lines when ``detail``)."""
    inv = record.invoice
    sign = Decimal(-1) if record.is_red else Decimal(1)
    item: dict[str, Any] = {
        "serialNo": record.serial,
        "orderNo": record.order_no,
        "status": record.status,
        "statusMsg": _STATUS_MSG.get(record.status, ""),
        "failCause": "",
        "allElectronicInvoiceNumber": record.number or "",
        "invoiceTime": millis(record.issued_at),
        "exTaxAmount": money(record.amount * sign),
        "taxAmount": money(record.tax * sign),
        "orderAmount": money((record.amount + record.tax) * sign),
        "salerTaxNum": record.merchant.tax_id,
        "saleName": record.merchant.name,
        "payerName": inv.buyer.name,
        "payerTaxNo": inv.buyer.tax_id or "",
        "invoiceLine": record.line_kind,
        "invoiceType": "2" if record.is_red else "1",
        "oldEleInvoiceNumber": record.original_number or "",
        "redReason": record.red_reason or "",
        "phone": record.phone or "",
        "notifyEmail": record.email or "",
    }
    if record.status == ISSUED and state.config.documents:
        for fmt in ("pdf", "ofd", "xml"):
            item[f"{fmt}Url"] = file_url(record, fmt)
    if detail:
        totals = compute_totals(inv)
        item["invoiceItems"] = [
            {
                "itemName": line.name,
                "itemCode": line.tax_code,
                "itemSpec": line.spec or "",
                "itemUnit": line.unit or "",
                "itemNum": format(t.quantity, "f") if t.quantity is not None else "",
                "itemPrice": format(t.unit_price, "f") if t.unit_price is not None else "",
                "itemTaxRate": rate_text(line.tax_rate),
                "itemAmount": money(t.amount * sign),
                "itemTaxAmount": money(t.tax * sign),
                "invoiceLineProperty": "1" if line.kind is LineKind.DISCOUNT else "0",
                "zeroRateFlag": zero_rate_flag(line.treatment),
            }
            for line, t in zip(inv.lines, totals.lines, strict=True)
        ]
    return item


# -- method handlers ----------------------------------------------------------------------
def issue(call: Call) -> Any:
    order = call.payload.get("order")
    if not isinstance(order, dict):
        raise PlatformError("E9109", "order")
    record = submit(call.state, call.merchant, order, base_url=call.base_url)
    schedule(call.state, record)
    return {"invoiceSerialNum": record.serial}


def query(call: Call) -> Any:
    orders = call.payload.get("orderNos") or []
    serials = call.payload.get("serialNos") or []
    if not (orders or serials) or len(orders) > 50 or len(serials) > 50:
        raise PlatformError("E9109", "orderNos/serialNos 1-50")
    records = find(
        call.state,
        call.merchant,
        order_nos=[str(o) for o in orders],
        serial_nos=[str(s) for s in serials],
    )
    if not records:
        raise PlatformError("E9500")
    detail = str(call.payload.get("isOfferInvoiceDetail") or "0") == "1"
    return [_result_item(call.state, r, detail) for r in records]


def deliver(call: Call) -> Any:
    state, payload = call.state, call.payload
    number = str(payload.get("invoiceNum") or "")
    phone, mail = str(payload.get("phone") or ""), str(payload.get("mail") or "")
    if not phone and not mail:
        raise PlatformError("E9109", "phone/mail")
    if phone and not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
        raise PlatformError("E9801")
    if mail and ("@" not in mail or "." not in mail.rpartition("@")[2]):
        raise PlatformError("E9801")
    with state.lock:
        record = state.by_number.get(number)
        if record is None or record.merchant.tax_id != call.merchant.tax_id:
            raise PlatformError("E9500")
        entry = {
            "deliveryId": secrets.token_hex(8),
            "invoiceNumber": number,
            "phone": phone or None,
            "mail": mail or None,
            "at": state.clock.now().isoformat(),
        }
        state.deliveries.append(entry)
        return {"deliveryId": entry["deliveryId"]}


def credit_line(call: Call) -> Any:
    state, merchant = call.state, call.merchant
    with state.lock:
        used = state.credit_used.get(merchant.tax_id, Decimal("0"))
        return {
            "totalCreditLine": money(merchant.credit_line),
            "usedCreditLine": money(used),
            "availableCreditLine": money(merchant.credit_line - used),
            "amountUpdateTime": millis(state.clock.now()),
            "requestStatus": "1",
        }


def cancel(call: Call) -> Any:
    raise PlatformError("E9601")

"""红字确认单, server side: apply, confirm/deny, read, the 72-hour lapse, the red invoice.

States are the tax bureau's ``billStatus`` codes (01 no confirmation needed; 02/03 waiting
for the buyer/seller when the buyer has used the invoice; 04 confirmed; 05/06 denied; 07
lapsed after 72 h on the sandbox clock) plus Nuonuo's 15/16. Red amounts are checked per
line against what remains of the blue invoice with the project's own red-reversal rules; a
confirmed form with an order number gets its red invoice (开票中, finished after the delay).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from fapiao.sandboxkit import red_invoice_from_form
from fapiao.sdk import (
    CENT,
    FapiaoError,
    RedLine,
    RedReason,
    RedReversalRequest,
    check_red_reversal,
    red_lines,
)
from fapiao_provider_a.protocol import CONFIRMATION_WINDOW, ISSUED, REASON_OF, millis, money
from fapiao_provider_a.sandbox.calls import Call
from fapiao_provider_a.sandbox.config import Merchant
from fapiao_provider_a.sandbox.invoices import ISSUING, schedule, settle_due
from fapiao_provider_a.sandbox.state import PlatformError, Record, RedForm, SandboxState

__all__ = [
    "confirm_form",
    "form_item",
    "red_confirm",
    "red_fast",
    "red_query",
    "red_save",
]

_PENDING_FORM = {"02", "03"}


def _refresh(state: SandboxState, form: RedForm) -> None:
    """Apply the 72-hour rule lazily, on the injectable clock."""
    if form.status in _PENDING_FORM and state.clock.now() > form.created + CONFIRMATION_WINDOW:
        form.status = "07"
        _release(state, form)


def _release(state: SandboxState, form: RedForm) -> None:
    for index, amount in form.lines.items():
        form.blue.reversed[index] = form.blue.reversed.get(index, Decimal("0")) - amount


def _save_red_form(
    state: SandboxState, merchant: Merchant, payload: Mapping[str, Any], *, base_url: str
) -> RedForm:
    bill_id = str(payload.get("billId") or secrets.token_hex(16).upper())
    source = str(payload.get("applySource") or "0")
    number = str(payload.get("blueElecInvoiceNumber") or payload.get("blueInvoiceNumber") or "")
    reason_code = str(payload.get("redReason") or "")
    if reason_code not in REASON_OF or source not in ("0", "1"):
        raise PlatformError("E9109", "redReason/applySource")
    with state.lock:
        settle_due(state)
        if bill_id in state.forms:
            raise PlatformError("E9706")
        blue = state.by_number.get(number)
        party = merchant.tax_id
        if (
            blue is None
            or blue.is_red
            or blue.status != ISSUED
            or (source == "0" and blue.merchant.tax_id != party)
            or (source == "1" and blue.invoice.buyer.tax_id != party)
        ):
            raise PlatformError("E9702")
        detail = list(payload.get("detail") or [])
        reason = REASON_OF[reason_code]
        try:
            red_request = RedReversalRequest(
                order_id=str(payload.get("orderNo") or bill_id),
                seller_tax_id=blue.merchant.tax_id,
                original_invoice_number=number,
                reason=reason,
                lines=tuple(
                    RedLine(
                        original_line=int(d["blueDetailIndex"]) - 1,
                        amount=abs(Decimal(str(d["taxExcludedAmount"]))),
                        tax=abs(Decimal(str(d["taxAmount"])))
                        if d.get("taxAmount") not in (None, "")
                        else None,
                        quantity=abs(Decimal(str(d["num"])))
                        if d.get("num") not in (None, "")
                        else None,
                    )
                    for d in detail
                ),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation, ValidationError):
            raise PlatformError("E9109", "detail") from None
        if reason is RedReason.INVOICING_ERROR and detail:
            raise PlatformError("E9705")
        issues = [
            i
            for i in check_red_reversal(
                blue.invoice, red_request, {k: v for k, v in blue.reversed.items() if v}
            )
            if not i.warning
        ]
        if issues:
            code = "E9705" if issues[0].code == "RED_FULL_ONLY" else "E9701"
            raise PlatformError(code, issues[0].path)
        try:
            lines = red_lines(blue.invoice, red_request)
        except FapiaoError:
            raise PlatformError("E9701") from None
        reversed_by_line: dict[int, Decimal] = {}
        for totals in lines:
            previous = reversed_by_line.get(totals.index, Decimal("0"))
            reversed_by_line[totals.index] = previous + abs(totals.amount)
        for index, amount in reversed_by_line.items():
            blue.reversed[index] = blue.reversed.get(index, Decimal("0")) + amount
        now = state.clock.now()
        status = ("02" if source == "0" else "03") if blue.used else "01"
        form = RedForm(
            bill_id=bill_id,
            bill_no=f"{now:%y%m%d}{secrets.randbelow(10**12):012d}"[:20],
            bill_uuid=secrets.token_hex(16),
            merchant=merchant,
            apply_source=source,
            blue=blue,
            reason=reason_code,
            order_no=str(payload.get("orderNo") or "") or None,
            lines=reversed_by_line,
            amount=sum((t.amount for t in lines), Decimal("0")).quantize(CENT),
            tax=sum((t.tax for t in lines), Decimal("0")).quantize(CENT),
            created=now,
            status=status,
            detail=[(t.index, t.amount, t.tax, t.quantity) for t in lines],
            callback_url=payload.get("callbackUrl") or None,
        )
        state.forms[bill_id] = form
        if status == "01" and form.order_no:
            _open_red(state, form, base_url)
    _form_changed(state, form)
    return form


def _form_changed(state: SandboxState, form: RedForm) -> None:
    if state.on_form_changed is not None:
        state.on_form_changed(form)


def _open_red(
    state: SandboxState, form: RedForm, base_url: str, order_no: str | None = None
) -> Record:
    """Create the red invoice of a confirmed form (开票中, finished after the delay)."""
    blue = form.blue
    order = order_no or form.order_no or form.bill_id
    key = (blue.merchant.tax_id, order)
    if key in state.by_order or form.red is not None:
        raise PlatformError("E9106")
    invoice = red_invoice_from_form(blue.invoice, form.detail, order_id=order)
    record = Record(
        serial=state.new_serial(),
        order_no=order,
        merchant=blue.merchant,
        invoice=invoice,
        line_kind=blue.line_kind,
        ready_at=time.monotonic() + state.config.issue_delay_seconds,
        base_url=base_url,
        callback_url=form.callback_url or blue.callback_url,
        is_red=True,
        original_number=blue.number,
        red_reason=form.reason,
        red_form_no=form.bill_no,
        amount=abs(form.amount),
        tax=abs(form.tax),
    )
    state.records[record.serial] = record
    state.by_order[key] = record
    form.red = record
    return record


def _forms_for(
    state: SandboxState, merchant: Merchant, identity: str, bill_id: str | None
) -> list[RedForm]:
    with state.lock:
        settle_due(state)
        found = []
        for form in state.forms.values():
            if bill_id and form.bill_id != bill_id:
                continue
            side = form.blue.merchant.tax_id if identity == "0" else form.blue.invoice.buyer.tax_id
            if side != merchant.tax_id:
                continue
            _refresh(state, form)
            found.append(form)
        return found


def form_item(form: RedForm) -> dict[str, Any]:
    """One entry of ``queryInvoiceRedConfirm``'s list (and a form callback's content)."""
    red = form.red
    return {
        "billId": form.bill_id,
        "billNo": form.bill_no,
        "billUuid": form.bill_uuid,
        "billStatus": form.status,
        "requestStatus": "2",
        "openStatus": 1 if red is not None and red.status == ISSUED else 0,
        "applySource": int(form.apply_source),
        "blueInvoiceLine": form.blue.line_kind,
        "blueElecInvoiceNumber": form.blue.number,
        "blueInvoiceTime": millis(form.blue.issued_at),
        "billTime": millis(form.created),
        "confirmTime": millis(form.confirm_time),
        "sellerTaxNo": form.blue.merchant.tax_id,
        "sellerName": form.blue.merchant.name,
        "buyerTaxNo": form.blue.invoice.buyer.tax_id or "",
        "buyerName": form.blue.invoice.buyer.name,
        "taxExcludedAmount": money(form.amount),
        "taxAmount": money(form.tax),
        "redReason": form.reason,
        "orderNo": form.order_no or "",
        "redInvoiceNumber": (red.number or "") if red is not None else "",
        "invoiceSerialNum": red.serial if red is not None else "",
    }


def confirm_form(
    state: SandboxState, merchant: Merchant, payload: Mapping[str, Any], *, base_url: str
) -> RedForm:
    bill_id = str(payload.get("billId") or "")
    identity = str(payload.get("identity") or "")
    agree = str(payload.get("confirmAgreement") or "") == "1"
    with state.lock:
        form = state.forms.get(bill_id)
        if form is None:
            raise PlatformError("E9703")
        _refresh(state, form)
        # The other party confirms: the buyer a seller's form (02), the seller a buyer's (03).
        expected = {
            "02": ("1", form.blue.invoice.buyer.tax_id),
            "03": ("0", form.blue.merchant.tax_id),
        }
        want = expected.get(form.status)
        if want is None or want != (identity, merchant.tax_id):
            raise PlatformError("E9704", f"billStatus {form.status}")
        form.confirm_time = state.clock.now()
        if agree:
            form.status = "04"
            if form.order_no:
                _open_red(state, form, base_url)
        else:
            form.status = "05" if form.status == "02" else "06"
            _release(state, form)
    _form_changed(state, form)
    return form


def _fast_red(
    state: SandboxState, merchant: Merchant, payload: Mapping[str, Any], *, base_url: str
) -> Record:
    bill_id = str(payload.get("billId") or "")
    with state.lock:
        form = state.forms.get(bill_id) or next(
            (f for f in state.forms.values() if f.bill_no == payload.get("billNo")), None
        )
        if form is None:
            raise PlatformError("E9703")
        _refresh(state, form)
        if form.blue.merchant.tax_id != merchant.tax_id:
            raise PlatformError("E9703")
        if form.status not in ("01", "04"):
            raise PlatformError("E9704", f"billStatus {form.status}")
        order_no = str(payload.get("orderNo") or "") or None
        if payload.get("callBackUrl"):
            form.callback_url = str(payload["callBackUrl"])
        return _open_red(state, form, base_url, order_no)


# -- method handlers ----------------------------------------------------------------------
def red_save(call: Call) -> Any:
    form = _save_red_form(call.state, call.merchant, call.payload, base_url=call.base_url)
    if form.red is not None:
        schedule(call.state, form.red)
    return form.bill_id


def red_query(call: Call) -> Any:
    payload = call.payload
    identity = str(payload.get("identity") or "0")
    forms = _forms_for(
        call.state, call.merchant, identity, str(payload.get("billId") or "") or None
    )
    size = min(int(payload.get("pageSize") or 10), 50)
    page = max(int(payload.get("pageNo") or 1), 1)
    chosen = forms[(page - 1) * size : page * size]
    return {"total": len(forms), "list": [form_item(f) for f in chosen]}


def red_confirm(call: Call) -> Any:
    form = confirm_form(call.state, call.merchant, call.payload, base_url=call.base_url)
    if form.red is not None and form.red.status == ISSUING:
        schedule(call.state, form.red)
    return {"billId": form.bill_id, "billStatus": form.status}


def red_fast(call: Call) -> Any:
    record = _fast_red(call.state, call.merchant, call.payload, base_url=call.base_url)
    schedule(call.state, record)
    return {"invoiceSerialNum": record.serial}

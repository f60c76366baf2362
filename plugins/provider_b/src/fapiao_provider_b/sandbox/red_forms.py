"""红字确认单, server side: apply, confirm/deny/revoke, read, list, the 72 h lapse.

States are the tax bureau's ``confirmState`` codes: 01 no confirmation needed; 02/03 waiting
for the buyer/seller (the buyer had used the invoice); 04 confirmed; 05/06 denied; 07 lapsed
after ``confirm_hours``; 08/09 revoked. One open form per blue invoice; red amounts are
checked per line against what remains, with the project's own red-reversal rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from fapiao.sdk import (
    RedLine,
    RedReason,
    RedReversalRequest,
    check_red_reversal,
    reversible_lines,
)
from fapiao_provider_b.errors_map import BaiwangError
from fapiao_provider_b.protocol import CONFIRM_STATE, RED_LABEL, SPEC_DATE_FORMAT, format_date
from fapiao_provider_b.sandbox.calls import Call, business
from fapiao_provider_b.sandbox.state import InvoiceRecord, RedForm, SandboxState

__all__ = ["counterparty_decides", "lapse", "red_add", "red_info", "red_list", "red_operate"]

_E = BaiwangError
_REASON_BY_LABEL = {label: reason for reason, label in RED_LABEL.items()}
_PENDING = ("02", "03")


def lapse(state: SandboxState, form: RedForm) -> None:
    if form.state in _PENDING and form.deadline and state.clock.now() >= form.deadline:
        form.state = "07"


def _form(state: SandboxState, form: RedForm) -> dict[str, Any]:
    lapse(state, form)
    return {
        "redConfirmUuid": form.uuid,
        "redConfirmNo": form.number,
        "redConfirmSerialNo": form.serial_no,
        "confirmState": form.state,
        "confirmStateName": CONFIRM_STATE[form.state].value,
        "sellerTaxNo": form.tax_no,
        "buyerTaxNo": form.buyer_tax_no or "",
        "entryIdentity": form.entry_identity,
        "originalInvoiceNo": form.original_invoice_number,
        "redInvoiceLabel": form.label,
        "invoiceTotalPrice": form.total_price,
        "invoiceTotalTax": form.total_tax,
        "entryDate": format_date(form.created_at, SPEC_DATE_FORMAT),
        "confirmDeadline": format_date(form.deadline, SPEC_DATE_FORMAT) if form.deadline else "",
        "alreadyRedInvoiceFlag": "Y" if form.issued else "N",
        "redInvoiceNo": form.red_invoice_number or "",
        "electricInvoiceDetails": form.details,
    }


def _red_request(
    call: Call, blue: InvoiceRecord, reason: RedReason, details: list[Mapping[str, Any]]
) -> tuple[RedReversalRequest, bool]:
    """The canonical red request a form describes, and whether it reverses everything left.

    A form always lists lines; it is a *full* reversal when they take every reversible blue
    line whole and nothing was reversed before.
    """
    body = call.body
    requested: dict[int, Decimal] = {}
    lines = []
    for item in details:
        index = int(item.get("originalInvoiceDetailNo") or 0) - 1
        amount = -Decimal(str(item.get("goodsTotalPrice")))
        tax = -Decimal(str(item.get("goodsTotalTax")))
        quantity = item.get("goodsQuantity")
        lines.append(
            RedLine(
                original_line=max(index, 0),
                amount=amount,
                tax=tax,
                quantity=-Decimal(str(quantity)) if quantity not in (None, "") else None,
            )
        )
        requested[index] = requested.get(index, Decimal("0.00")) + amount
    whole = reversible_lines(blue.invoice, blue.totals)
    full = not blue.reversed_by_line and requested == {i: lt.amount for i, lt in whole.items()}
    request = RedReversalRequest(
        order_id=str(body.get("redConfirmSerialNo") or "RED"),
        seller_tax_id=call.tax_no,
        buyer_tax_id=str(body.get("buyerTaxNo") or "") or None,
        original_invoice_number=blue.invoice_number,
        reason=reason,
        lines=() if full else tuple(lines),
    )
    return request, full


_RED_ISSUE_CODES = {
    "RED_FULL_ONLY": _E.RED_FULL_ONLY,
    "RED_ALREADY_REVERSED": _E.ALREADY_REVERSED,
}


def red_add(call: Call) -> Any:
    state, body = call.state, call.body
    serial = str(body.get("redConfirmSerialNo") or "")
    number = str(body.get("originalInvoiceNo") or "")
    label = str(body.get("redInvoiceLabel") or "")
    entry = str(body.get("entryIdentity") or "01")
    details = body.get("redConfirmDetailReqEntityList")
    if not serial or not number or label not in _REASON_BY_LABEL or entry not in ("01", "02"):
        raise business(_E.REQUIRED_EMPTY, "redConfirmSerialNo/originalInvoiceNo/redInvoiceLabel")
    if not isinstance(details, list) or not details:
        raise business(_E.REQUIRED_EMPTY, "redConfirmDetailReqEntityList")
    with state.lock:
        blue = state.by_number.get(number)
        if blue is None or blue.tax_no != call.tax_no or blue.is_red:
            raise business(_E.INVOICE_NOT_FOUND, number)
        if (call.tax_no, serial) in state.red_serials:
            raise business(_E.SERIAL_DUPLICATE, serial)
        if blue.status_code == "05":
            raise business(_E.ALREADY_REVERSED, number)
        for other in state.red_forms.values():
            lapse(state, other)
            open_form = other.state in (*_PENDING, "01", "04") and not other.issued
            if other.original_invoice_number == number and open_form:
                raise business(_E.RED_FORM_STATE, f"该发票已有未完成的红字确认单 {other.number}")
        try:
            request, _full = _red_request(call, blue, _REASON_BY_LABEL[label], details)
        except (ValidationError, ArithmeticError, TypeError) as exc:
            raise business(_E.REQUIRED_EMPTY, str(exc).splitlines()[0]) from None
        problems = [
            i
            for i in check_red_reversal(blue.invoice, request, blue.reversed_by_line)
            if not i.warning
        ]
        if problems:
            first = problems[0]
            raise business(_RED_ISSUE_CODES.get(first.code, _E.RED_OVER_LIMIT), str(first))
        now = state.clock.now()
        needs_confirmation = blue.used
        state_code = ("02" if entry == "01" else "03") if needs_confirmation else "01"
        form = RedForm(
            uuid=uuid.uuid4().hex,
            number=state.next_form_number(),
            serial_no=serial,
            tax_no=call.tax_no,
            buyer_tax_no=blue.invoice.buyer.tax_id,
            entry_identity=entry,
            original_invoice_number=number,
            label=label,
            state=state_code,
            created_at=now,
            deadline=now + timedelta(hours=state.config.confirm_hours)
            if needs_confirmation
            else None,
            total_price=sum((Decimal(str(d["goodsTotalPrice"])) for d in details), Decimal("0.00")),
            total_tax=sum((Decimal(str(d["goodsTotalTax"])) for d in details), Decimal("0.00")),
            details=[_form_detail(blue, d) for d in details],
        )
        state.red_forms[form.uuid] = form
        state.red_serials[(call.tax_no, serial)] = form.uuid
        answer = _form(state, form)
    state.count("red_forms")
    return [answer]


def _form_detail(blue: InvoiceRecord, item: Mapping[str, Any]) -> dict[str, Any]:
    """A form line as the platform keeps it: names and codes from the blue invoice."""
    index = int(item["originalInvoiceDetailNo"]) - 1
    source = blue.details[index]
    detail = {
        "originalInvoiceDetailNo": index + 1,
        "goodsLineNo": item.get("goodsLineNo"),
        "goodsCode": source["goodsCode"],
        "goodsName": source["goodsName"],
        "goodsTaxRate": source["goodsTaxRate"],
        "goodsTotalPrice": Decimal(str(item["goodsTotalPrice"])),
        "goodsTotalTax": Decimal(str(item["goodsTotalTax"])),
    }
    for key in ("goodsSpecification", "goodsUnit", "goodsPrice"):
        if source.get(key) is not None:
            detail[key] = source[key]
    if item.get("goodsQuantity") not in (None, ""):
        detail["goodsQuantity"] = Decimal(str(item["goodsQuantity"]))
    return detail


def _find_form(call: Call) -> RedForm:
    form_uuid = str(call.body.get("redConfirmUuid") or "")
    form = call.state.red_forms.get(form_uuid)
    if form is None or form.tax_no != str(call.body.get("sellerTaxNo") or call.tax_no):
        raise business(_E.RED_FORM_NOT_FOUND, form_uuid)
    return form


def red_info(call: Call) -> Any:
    with call.state.lock:
        return _form(call.state, _find_form(call))


def red_list(call: Call) -> Any:
    """Forms of the seller, filtered by serial number or blue invoice, newest first."""
    state, body = call.state, call.body
    size = int(body.get("pageSize") or 50)
    page = int(body.get("pageNo") or 1)
    if not 1 <= size <= 50 or page < 1:
        raise business(_E.QUERY_TOO_MANY, f"pageSize={size}")
    serial = str(body.get("redConfirmSerialNo") or "")
    number = str(body.get("originalInvoiceNo") or "")
    with state.lock:
        forms = [
            f
            for f in state.red_forms.values()
            if f.tax_no == call.tax_no
            and (not serial or f.serial_no == serial)
            and (not number or f.original_invoice_number == number)
        ]
        forms.sort(key=lambda f: f.created_at, reverse=True)
        rows = [_form(state, f) for f in forms[(page - 1) * size : page * size]]
    return {"total": len(forms), "pageNo": page, "pageSize": size, "list": rows}


def red_operate(call: Call) -> Any:
    """confirmType 01 确认 / 02 否认 / 03 撤销, by the seller's app.

    The seller confirms or denies what the *buyer* entered (state 03) and revokes what it
    entered itself; a form the seller entered waits for the buyer (see the admin endpoint).
    """
    state = call.state
    action = str(call.body.get("confirmType") or "")
    with state.lock:
        form = _find_form(call)
        lapse(state, form)
        if action in ("01", "02") and form.state == "03":
            form.state = "04" if action == "01" else "06"
        elif action == "03" and form.entry_identity == "01" and not form.issued:
            if form.state in _PENDING:
                form.state = "08"
            elif form.state in ("01", "04"):
                form.state = "09"
            else:
                raise business(_E.RED_FORM_STATE, f"状态 {form.state} 不能撤销")
        else:
            raise business(
                _E.RED_FORM_STATE, f"状态 {form.state} 不允许操作 confirmType={action!r}"
            )
        return _form(state, form)


def counterparty_decides(state: SandboxState, form_uuid: str, accept: bool) -> dict[str, Any]:
    """The buyer confirms or denies a form the seller entered (sandbox steering)."""
    with state.lock:
        form = state.red_forms[form_uuid]
        lapse(state, form)
        if form.state != "02":
            raise business(_E.RED_FORM_STATE, f"状态 {form.state} 不待购方确认")
        form.state = "04" if accept else "05"
        return _form(state, form)

"""The business methods of the sandbox, server side: what the platform does with a request.

Each handler takes the authenticated call (app, ``taxNo``, body) and returns the
``response`` of a successful answer or raises :class:`ApiError`. Issuance answers per
invoice in ``success``/``fail`` lists, as the platform does. Invoices are validated with the
project's own rules after being rebuilt from the wire, so the sandbox judges an invoice
exactly as a client that validated before sending would.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from fapiao.errors import ValidationIssue
from fapiao.models import (
    Invoice,
    InvoiceLine,
    RedLine,
    RedReason,
    RedReversalRequest,
)
from fapiao.rules import (
    check_red_reversal,
    compute_totals,
    reversible_lines,
    validate_invoice,
)
from fapiao_provider_b.errors_map import ERRORS, BaiwangError
from fapiao_provider_b.mapping import BLUE, RED, invoice_from_issue_data, line_nature
from fapiao_provider_b.protocol import (
    CONFIRM_STATE,
    FILE_TYPE,
    RED_LABEL,
    SPEC_DATE_FORMAT,
    Method,
    format_date,
)
from fapiao_provider_b.sandbox.config import SandboxApp
from fapiao_provider_b.sandbox.documents import render_record
from fapiao_provider_b.sandbox.state import ApiError, InvoiceRecord, RedForm, SandboxState

__all__ = ["HANDLERS", "Call"]

_E = BaiwangError
_REASON_BY_LABEL = {label: reason for reason, label in RED_LABEL.items()}
_FORMAT_BY_TYPE = {name: fmt for fmt, name in FILE_TYPE.items()}
_PENDING = ("02", "03")


class Call:
    """One authenticated business call."""

    def __init__(self, state: SandboxState, app: SandboxApp, body: Mapping[str, Any]) -> None:
        self.state = state
        self.app = app
        self.body = body
        tax_no = str(body.get("taxNo") or "")
        if not tax_no:
            raise business(_E.REQUIRED_EMPTY, "taxNo")
        if tax_no not in app.tax_nos or tax_no not in state.sellers:
            raise business(_E.SELLER_NOT_AUTHORISED, tax_no)
        self.tax_no = tax_no

    @property
    def data(self) -> Mapping[str, Any]:
        data = self.body.get("data")
        if not isinstance(data, Mapping):
            raise business(_E.REQUIRED_EMPTY, "data")
        return data


def business(code: str, detail: str | None = None) -> ApiError:
    """A business refusal: ``100006`` 远程服务错误 with the reason in ``subCode``."""
    message = ERRORS[code].message
    return ApiError(
        _E.REMOTE_ERROR,
        ERRORS[_E.REMOTE_ERROR].message,
        sub_code=code,
        sub_message=f"{message}：{detail}" if detail else message,
    )


def _fail(serial_no: str, code: str, detail: str | None = None) -> dict[str, Any]:
    message = ERRORS[code].message
    return {
        "serialNo": serial_no,
        "errorCode": code,
        "errorMessage": f"{message}：{detail}" if detail else message,
    }


def _issue_code(issues: list[ValidationIssue]) -> tuple[str, str]:
    """The platform code for the first blocking rule violation of a rebuilt invoice."""
    errors = [i for i in issues if not i.warning]
    for item in errors:
        if item.code == "ZERO_AMOUNT":
            return _E.ZERO_AMOUNT, str(item)
    for item in errors:
        if item.path.startswith("buyer") and item.code in (
            "INVALID_TAX_ID",
            "MISSING_TAX_ID",
            "SPECIAL_NEEDS_ENTITY_BUYER",
        ):
            return _E.BUYER_TAX_NO, str(item)
    return _E.AMOUNT_CHECK, str(errors[0])


# --- records as the platform returns them ----------------------------------------------------


def _record(state: SandboxState, record: InvoiceRecord, *, details: bool = True) -> dict[str, Any]:
    invoice = record.invoice
    seller, buyer = invoice.seller, invoice.buyer
    answer: dict[str, Any] = {
        "invoiceId": record.invoice_id,
        "serialNo": record.serial_no,
        "invoiceNo": record.invoice_number,
        "invoiceDate": format_date(record.issued_at),
        "invoiceType": RED if record.is_red else BLUE,
        "invoiceTypeCode": record.kind_code,
        "invoiceStatus": record.status_code,
        "sellerTaxNo": record.tax_no,
        "sellerName": seller.name,
        "buyerName": buyer.name,
        "buyerTaxNo": buyer.tax_id or "",
        "naturalPersonFlag": "Y" if buyer.natural_person else "N",
        "invoiceTotalPrice": record.total_amount,
        "invoiceTotalTax": record.total_tax,
        "invoiceTotalPriceTax": record.total_with_tax,
        "remarks": invoice.remarks or "",
        "drawer": invoice.issuer or "",
    }
    if record.is_red:
        answer["originalInvoiceNo"] = record.original_invoice_number
        answer["redConfirmUuid"] = record.red_form_uuid
        answer["redConfirmNo"] = record.red_form_number
    if details:
        answer["invoiceDetailsList"] = record.details
    return answer


def _details(invoice: Invoice) -> list[dict[str, Any]]:
    totals = compute_totals(invoice)
    out = []
    for line, lt in zip(invoice.lines, totals.lines, strict=True):
        item: dict[str, Any] = {
            "goodsLineNo": lt.index + 1,
            "invoiceLineNature": line_nature(invoice.lines, lt.index),
            "goodsCode": lt.tax_code,
            "goodsName": lt.display_name,
            "goodsTaxRate": lt.rate,
            "goodsTotalPrice": lt.amount,
            "goodsTotalTax": lt.tax,
        }
        for key, value in (
            ("goodsSpecification", lt.spec),
            ("goodsUnit", lt.unit),
            ("goodsQuantity", lt.quantity),
            ("goodsPrice", lt.unit_price),
            ("vatSpecialManagement", line.preferential_policy),
        ):
            if value is not None:
                item[key] = value
        mark = {"exempt": "1", "not_taxable": "2", "zero_rate": "3"}.get(line.treatment.value)
        if mark:
            item["freeTaxMark"] = mark
        out.append(item)
    return out


def _inline_documents(
    state: SandboxState, record: InvoiceRecord, wanted: Any
) -> list[dict[str, Any]]:
    files = []
    for name in wanted or ["PDF"]:
        fmt = _FORMAT_BY_TYPE.get(str(name))
        if fmt is None:
            continue
        content = render_record(state, record, fmt)
        files.append({"fileType": name, "content": base64.b64encode(content).decode()})
    return files


# --- issuance --------------------------------------------------------------------------------


def _issue_blue(call: Call, data: Mapping[str, Any]) -> dict[str, Any]:
    state, config = call.state, call.state.config
    serial = str(data.get("serialNo") or "")
    if not serial:
        raise business(_E.REQUIRED_EMPTY, "serialNo")
    if len(serial) > config.max_serial_length:
        raise business(_E.REQUIRED_EMPTY, f"serialNo 长度超过 {config.max_serial_length}")
    if str(data.get("invoiceTypeCode")) not in ("01", "02"):
        raise business(_E.INVOICE_TYPE_INVALID, str(data.get("invoiceTypeCode")))
    details = data.get("invoiceDetailsList")
    if not isinstance(details, list) or not details:
        raise business(_E.REQUIRED_EMPTY, "invoiceDetailsList")
    if len(details) > config.max_lines:
        return {"success": [], "fail": [_fail(serial, _E.TOO_MANY_LINES, str(len(details)))]}
    seller = state.sellers[call.tax_no]
    try:
        invoice = invoice_from_issue_data(call.tax_no, data, seller_name=seller.name)
    except (ValidationError, KeyError, ArithmeticError) as exc:
        raise business(_E.REQUIRED_EMPTY, str(exc).splitlines()[0]) from None
    issues = validate_invoice(invoice)
    if any(not i.warning for i in issues):
        code, detail = _issue_code(issues)
        return {"success": [], "fail": [_fail(serial, code, detail)]}
    totals = compute_totals(invoice)
    declared = (
        Decimal(str(data.get("invoiceTotalPrice"))),
        Decimal(str(data.get("invoiceTotalTax"))),
        Decimal(str(data.get("invoiceTotalPriceTax"))),
    )
    if declared != (totals.total_amount, totals.total_tax, totals.total_with_tax):
        detail = f"合计应为 {totals.total_amount}/{totals.total_tax}/{totals.total_with_tax}"
        return {"success": [], "fail": [_fail(serial, _E.AMOUNT_CHECK, detail)]}
    if invoice.buyer.tax_id in config.unregistered_taxpayers:
        return {"success": [], "fail": [_fail(serial, _E.BUYER_TAX_NO, invoice.buyer.tax_id)]}
    with state.lock:
        if (call.tax_no, serial) in state.invoices:
            return {"success": [], "fail": [_fail(serial, _E.SERIAL_DUPLICATE, serial)]}
        used = state.credit_used.get(call.tax_no, Decimal("0.00"))
        if used + totals.total_amount > seller.credit_line:
            left = seller.credit_line - used
            return {"success": [], "fail": [_fail(serial, _E.CREDIT_EXHAUSTED, f"剩余 {left}")]}
        state.credit_used[call.tax_no] = used + totals.total_amount
        now = state.clock.now()
        record = InvoiceRecord(
            invoice_id=uuid.uuid4().hex,
            serial_no=serial,
            tax_no=call.tax_no,
            invoice_number=state.numbers.next(call.tax_no, when=now),
            issued_at=now,
            kind_code=str(data["invoiceTypeCode"]),
            invoice=invoice,
            totals=totals,
            details=_details(invoice),
        )
        state.invoices[(call.tax_no, serial)] = record
        state.by_number[record.invoice_number] = record
    state.count("issued")
    answer = _record(state, record)
    if call.body.get("formatGenerate"):
        answer["formatFileList"] = _inline_documents(
            state, record, call.body.get("formatFileTypes")
        )
    return {"success": [answer], "fail": []}


def _issue_red(call: Call, data: Mapping[str, Any]) -> dict[str, Any]:
    state = call.state
    serial = str(data.get("serialNo") or "")
    form_uuid = str(data.get("redConfirmUuid") or "")
    if not serial or not form_uuid:
        raise business(_E.REQUIRED_EMPTY, "serialNo / redConfirmUuid")
    with state.lock:
        form = state.red_forms.get(form_uuid)
        if form is None or form.tax_no != call.tax_no:
            raise business(_E.RED_FORM_NOT_FOUND, form_uuid)
        _lapse(state, form)
        if (call.tax_no, serial) in state.invoices:
            return {"success": [], "fail": [_fail(serial, _E.SERIAL_DUPLICATE, serial)]}
        if form.issued or form.state not in ("01", "04"):
            raise business(_E.RED_FORM_STATE, f"确认单状态 {form.state}，不能开具红字发票")
        blue = state.by_number[form.original_invoice_number]
        red_invoice = _red_invoice(blue, form, serial)
        totals = compute_totals(red_invoice)
        now = state.clock.now()
        record = InvoiceRecord(
            invoice_id=uuid.uuid4().hex,
            serial_no=serial,
            tax_no=call.tax_no,
            invoice_number=state.numbers.next(call.tax_no, when=now),
            issued_at=now,
            kind_code=blue.kind_code,
            invoice=red_invoice,
            totals=totals,
            details=[dict(item) for item in form.details],
            is_red=True,
            original_invoice_number=blue.invoice_number,
            red_form_uuid=form.uuid,
            red_form_number=form.number,
        )
        for item in form.details:
            index = int(item["originalInvoiceDetailNo"]) - 1
            blue.reversed_by_line[index] = blue.reversed_by_line.get(
                index, Decimal("0.00")
            ) - Decimal(str(item["goodsTotalPrice"]))
        form.red_invoice_number = record.invoice_number
        state.invoices[(call.tax_no, serial)] = record
        state.by_number[record.invoice_number] = record
        state.credit_used[call.tax_no] = (
            state.credit_used.get(call.tax_no, Decimal("0.00")) - totals.total_amount
        )
    state.count("red_issued")
    return {"success": [_record(state, record)], "fail": []}


def _red_invoice(blue: InvoiceRecord, form: RedForm, serial: str) -> Invoice:
    """The red invoice as positive magnitudes (the renderer negates), one line per form line."""
    lines = []
    for item in form.details:
        lines.append(
            InvoiceLine(
                name=str(item["goodsName"]),
                tax_code=str(item["goodsCode"]),
                spec=item.get("goodsSpecification"),
                unit=item.get("goodsUnit"),
                quantity=-Decimal(str(item["goodsQuantity"]))
                if item.get("goodsQuantity")
                else None,
                unit_price=Decimal(str(item["goodsPrice"])) if item.get("goodsPrice") else None,
                amount=-Decimal(str(item["goodsTotalPrice"])),
                tax_rate=Decimal(str(item["goodsTaxRate"])),
                tax=-Decimal(str(item["goodsTotalTax"])),
            )
        )
    return blue.invoice.model_copy(update={"order_id": serial, "lines": tuple(lines)})


def issue(call: Call) -> Any:
    data = call.data
    kind = str(data.get("invoiceType") or BLUE)
    if kind == RED:
        return _issue_red(call, data)
    if kind != BLUE:
        raise business(_E.REQUIRED_EMPTY, f"invoiceType={kind!r}")
    return _issue_blue(call, data)


# --- query and documents -----------------------------------------------------------------------


def query(call: Call) -> Any:
    data, state = call.data, call.state
    serials = data.get("serialNos")
    if serials is None and data.get("serialNo"):
        serials = [data["serialNo"]]
    with state.lock:
        if data.get("invoiceNo"):
            found = state.by_number.get(str(data["invoiceNo"]))
            records = [found] if found is not None and found.tax_no == call.tax_no else []
        elif isinstance(serials, list):
            if len(serials) > state.config.max_query_batch:
                raise business(
                    _E.QUERY_TOO_MANY, f"{len(serials)} > {state.config.max_query_batch}"
                )
            records = [
                r for s in serials if (r := state.invoices.get((call.tax_no, str(s)))) is not None
            ]
        else:
            raise business(_E.REQUIRED_EMPTY, "serialNos / invoiceNo")
        rows = [_record(state, r) for r in records]
    return {"total": len(rows), "pageNo": 1, "pageSize": max(len(rows), 1), "list": rows}


def format_query(call: Call) -> Any:
    data, state = call.data, call.state
    number = str(data.get("invoiceNo") or "")
    fmt = _FORMAT_BY_TYPE.get(str(data.get("fileType") or "PDF").upper())
    if fmt is None:
        raise business(_E.FORMAT_UNSUPPORTED, str(data.get("fileType")))
    if str(data.get("returnType") or "1") != "1":
        raise business(_E.FORMAT_UNSUPPORTED, "returnType 仅支持 1（base64）")
    with state.lock:
        record = state.by_number.get(number)
        if record is None or record.tax_no != call.tax_no:
            raise business(_E.INVOICE_NOT_FOUND, number)
    content = render_record(state, record, fmt)
    return {
        "invoiceNo": number,
        "fileType": FILE_TYPE[fmt],
        "fileName": f"{number}.{fmt.value}",
        "content": base64.b64encode(content).decode(),
    }


def deliver(call: Call) -> Any:
    data, state = call.data, call.state
    number = str(data.get("invoiceNo") or "")
    with state.lock:
        record = state.by_number.get(number)
        if record is None or record.tax_no != call.tax_no:
            raise business(_E.INVOICE_NOT_FOUND, number)
    if str(data.get("pushType") or "").upper() != "EMAIL":
        raise business(_E.FORMAT_UNSUPPORTED, f"pushType={data.get('pushType')!r}")
    email = str(data.get("email") or "")
    local, _, domain = email.partition("@")
    if not local or "." not in domain:
        raise business(_E.DELIVERY_REFUSED, email)
    push_id = uuid.uuid4().hex
    with state.lock:
        state.deliveries.append({"pushId": push_id, "invoiceNo": number, "email": email})
    return {"pushId": push_id, "invoiceNo": number}


def quota(call: Call) -> Any:
    state = call.state
    seller = state.sellers[call.tax_no]
    with state.lock:
        used = state.credit_used.get(call.tax_no, Decimal("0.00"))
    return {
        "taxNo": call.tax_no,
        "totalCreditLine": seller.credit_line,
        "usedCreditLine": used,
        "remainingCreditLine": max(seller.credit_line - used, Decimal("0.00")),
        "queryTime": format_date(state.clock.now()),
    }


# --- red confirmation forms ------------------------------------------------------------------


def _lapse(state: SandboxState, form: RedForm) -> None:
    if form.state in _PENDING and form.deadline and state.clock.now() >= form.deadline:
        form.state = "07"


def _form(state: SandboxState, form: RedForm) -> dict[str, Any]:
    _lapse(state, form)
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
            _lapse(state, other)
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
        needs_confirmation = blue.used_by_buyer
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
        _lapse(state, form)
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
        _lapse(state, form)
        if form.state != "02":
            raise business(_E.RED_FORM_STATE, f"状态 {form.state} 不待购方确认")
        form.state = "04" if accept else "05"
        return _form(state, form)


HANDLERS: dict[str, Callable[[Call], Any]] = {
    Method.ISSUE: issue,
    Method.QUERY: query,
    Method.FORMAT_QUERY: format_query,
    Method.RED_ADD: red_add,
    Method.RED_OPERATE: red_operate,
    Method.RED_INFO: red_info,
    Method.RED_LIST: red_list,
    Method.DELIVER: deliver,
    Method.QUOTA: quota,
}

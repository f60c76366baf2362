"""Invoices, server side: issuance (blue, and red against a confirmed form), queries,
files, e-mail delivery and the credit line.

Issuance answers per invoice in ``success``/``fail`` lists, as the platform does. A blue
invoice is rebuilt from the wire into a canonical one and judged by the project's own rules,
so the sandbox refuses exactly what a client that validated before sending would.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from fapiao.sandboxkit import RedFormLine, red_invoice_from_form
from fapiao.sdk import (
    Invoice,
    ValidationIssue,
    check_invoice,
    compute_totals,
    line_nature,
)
from fapiao_provider_b.errors_map import BaiwangError
from fapiao_provider_b.mapping import BLUE, RED, invoice_from_issue_data
from fapiao_provider_b.protocol import FILE_TYPE, format_date
from fapiao_provider_b.sandbox.calls import Call, business, fail
from fapiao_provider_b.sandbox.documents import render_record
from fapiao_provider_b.sandbox.red_forms import lapse
from fapiao_provider_b.sandbox.state import InvoiceRecord, RedForm, SandboxState

__all__ = ["deliver", "format_query", "issue", "query", "quota"]

_E = BaiwangError
_FORMAT_BY_TYPE = {name: fmt for fmt, name in FILE_TYPE.items()}


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


def _record(record: InvoiceRecord) -> dict[str, Any]:
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
        return {"success": [], "fail": [fail(serial, _E.TOO_MANY_LINES, str(len(details)))]}
    seller = state.sellers[call.tax_no]
    try:
        invoice = invoice_from_issue_data(call.tax_no, data, seller_name=seller.name)
    except (ValidationError, KeyError, ArithmeticError) as exc:
        raise business(_E.REQUIRED_EMPTY, str(exc).splitlines()[0]) from None
    _, issues = check_invoice(invoice)
    if any(not i.warning for i in issues):
        code, detail = _issue_code(issues)
        return {"success": [], "fail": [fail(serial, code, detail)]}
    totals = compute_totals(invoice)
    declared = (
        Decimal(str(data.get("invoiceTotalPrice"))),
        Decimal(str(data.get("invoiceTotalTax"))),
        Decimal(str(data.get("invoiceTotalPriceTax"))),
    )
    if declared != (totals.total_amount, totals.total_tax, totals.total_with_tax):
        detail = f"合计应为 {totals.total_amount}/{totals.total_tax}/{totals.total_with_tax}"
        return {"success": [], "fail": [fail(serial, _E.AMOUNT_CHECK, detail)]}
    if invoice.buyer.tax_id in config.unregistered_taxpayers:
        return {"success": [], "fail": [fail(serial, _E.BUYER_TAX_NO, invoice.buyer.tax_id)]}
    with state.lock:
        if (call.tax_no, serial) in state.invoices:
            return {"success": [], "fail": [fail(serial, _E.SERIAL_DUPLICATE, serial)]}
        if not state.use_credit(call.tax_no, totals.total_amount, seller.credit_line):
            left = seller.credit_line - state.credit_used.get(call.tax_no, Decimal("0.00"))
            return {"success": [], "fail": [fail(serial, _E.CREDIT_EXHAUSTED, f"剩余 {left}")]}
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
    answer = _record(record)
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
        lapse(state, form)
        if (call.tax_no, serial) in state.invoices:
            return {"success": [], "fail": [fail(serial, _E.SERIAL_DUPLICATE, serial)]}
        if form.issued or form.state not in ("01", "04"):
            raise business(_E.RED_FORM_STATE, f"确认单状态 {form.state}，不能开具红字发票")
        blue = state.by_number[form.original_invoice_number]
        red_invoice = red_invoice_from_form(blue.invoice, _form_lines(form), order_id=serial)
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
        state.use_credit(call.tax_no, -totals.total_amount, state.sellers[call.tax_no].credit_line)
    state.count("red_issued")
    return {"success": [_record(record)], "fail": []}


def _form_lines(form: RedForm) -> list[RedFormLine]:
    """The form's lines as the shared red-invoice builder reads them (signed amounts)."""
    return [
        (
            int(d["originalInvoiceDetailNo"]) - 1,
            d["goodsTotalPrice"],
            d["goodsTotalTax"],
            d.get("goodsQuantity"),
        )
        for d in form.details
    ]


def issue(call: Call) -> Any:
    data = call.data
    kind = str(data.get("invoiceType") or BLUE)
    if kind == RED:
        return _issue_red(call, data)
    if kind != BLUE:
        raise business(_E.REQUIRED_EMPTY, f"invoiceType={kind!r}")
    return _issue_blue(call, data)


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
        rows = [_record(r) for r in records]
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

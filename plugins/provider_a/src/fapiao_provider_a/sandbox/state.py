"""The sandbox platform's memory and business rules, without HTTP.

Everything a merchant can do through the API happens here under one lock (the server runs
handlers in its own event loop, tests poke the state from their thread): orders become
invoices (开票中 → 开票完成 after the configured delay), the credit line is consumed, red
confirmation forms follow the tax bureau's states and its 72-hour rule on an injectable
clock, and deliveries are recorded. Validation is ``fapiao.rules`` server-side, answered
with the platform's codes, so a client that skips validation meets the same refusals.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from fapiao.documents import MEDIA_TYPES
from fapiao.errors import FapiaoError
from fapiao.models import (
    CENT,
    DocumentFormat,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineKind,
    Party,
    RedLine,
    RedReason,
    RedReversalRequest,
)
from fapiao.sandboxkit.clock import SandboxClock
from fapiao.sandboxkit.invoice_numbers import InvoiceNumberGenerator
from fapiao_provider_a.errors_map import CODES
from fapiao_provider_a.mapping import (
    CONFIRMATION_WINDOW,
    KIND_OF_LINE,
    REASON_OF,
    millis,
    money,
    rate_text,
    treatment_of,
    zero_rate_flag,
)
from fapiao_provider_a.sandbox.config import Merchant, SandboxConfig

__all__ = ["PlatformError", "Record", "RedForm", "SandboxState"]

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
_PENDING_FORM = {"02", "03"}
_VOID_FORM = {"05", "06", "07", "08", "09", "10", "16"}


class PlatformError(Exception):
    """An answer with the platform's code (``describe`` from the shared code table)."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        entry = CODES.get(code)
        self.code = code
        self.describe = (entry.describe if entry else code) + (f"：{detail}" if detail else "")
        super().__init__(f"{code} {self.describe}")


@dataclass
class Record:
    """One invoice request (blue or red) as the platform holds it."""

    serial: str
    order_no: str
    merchant: Merchant
    invoice: Invoice  # for red invoices: positive magnitudes, like RedLine
    line_kind: str
    ready_at: float
    base_url: str
    callback_url: str | None = None
    is_red: bool = False
    original_number: str | None = None
    red_reason: str | None = None
    red_form_no: str | None = None
    amount: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    status: str = "20"
    number: str | None = None
    issued_at: datetime | None = None
    used: bool = False
    reversed: dict[int, Decimal] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    file_key: str = field(default_factory=lambda: secrets.token_hex(8))
    email: str | None = None
    phone: str | None = None


@dataclass
class RedForm:
    bill_id: str
    bill_no: str
    bill_uuid: str
    merchant: Merchant  # who entered it
    apply_source: str
    blue: Record
    reason: str
    order_no: str | None
    lines: dict[int, Decimal]  # blue line index → reversed 不含税 amount (positive)
    amount: Decimal  # negative
    tax: Decimal  # negative
    created: datetime
    status: str
    detail: list[dict[str, Any]]
    callback_url: str | None = None
    red: Record | None = None
    confirm_time: datetime | None = None


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock = SandboxClock()
        self.records: dict[str, Record] = {}  # by serial
        self.by_order: dict[tuple[str, str], Record] = {}  # (seller tax id, orderNo)
        self.by_number: dict[str, Record] = {}
        self.forms: dict[str, RedForm] = {}
        self.used_credit: dict[str, Decimal] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.tokens: dict[str, tuple[str, float]] = {}  # token → (app key, expiry)
        self.token_calls: dict[str, list[float]] = {}
        self.seen_senids: dict[str, float] = {}
        self.counters: dict[str, int] = {}
        self._serials = itertools.count(1)
        self.numbers = InvoiceNumberGenerator(default_province="33")
        self.on_issued: Callable[[Record], None] | None = None
        self.on_form_changed: Callable[[RedForm], None] | None = None

    # -- bookkeeping ----------------------------------------------------------------------
    def count(self, name: str) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + 1

    def _serial(self) -> str:
        return f"{datetime.now(UTC):%y%m%d%H%M%S}{next(self._serials):08d}"

    # -- tokens ---------------------------------------------------------------------------
    def issue_token(self, client_id: str, client_secret: str, grant_type: str) -> dict[str, Any]:
        with self.lock:
            merchant = self.config.merchant_by_key(client_id)
            if grant_type != "client_credentials":
                return {"error": "070307", "error_description": CODES["070307"].describe}
            if merchant is None or not secrets.compare_digest(merchant.app_secret, client_secret):
                return {"error": "070304", "error_description": CODES["070304"].describe}
            now = time.time()
            calls = [t for t in self.token_calls.get(client_id, []) if t > now - 30 * 86_400]
            if len(calls) >= self.config.token_calls_per_30_days:
                return {"error": "070306", "error_description": CODES["070306"].describe}
            calls.append(now)
            self.token_calls[client_id] = calls
            token = secrets.token_hex(16)
            self.tokens[token] = (client_id, now + self.config.token_ttl_seconds)
            return {"access_token": token, "expires_in": self.config.token_ttl_seconds}

    def check_token(self, token: str | None, app_key: str) -> None:
        with self.lock:
            held = self.tokens.get(token or "")
            if held is None or held[0] != app_key:
                raise PlatformError("070301")
            if held[1] < time.time():
                raise PlatformError("070302")

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = {t: (k, 0.0) for t, (k, _) in self.tokens.items()}

    def check_senid(self, senid: str) -> None:
        with self.lock:
            now = time.time()
            if senid in self.seen_senids:
                raise PlatformError("070603")
            self.seen_senids[senid] = now
            if len(self.seen_senids) > 200_000:
                horizon = now - 2 * self.config.timestamp_tolerance_seconds
                self.seen_senids = {s: t for s, t in self.seen_senids.items() if t > horizon}

    # -- issuing --------------------------------------------------------------------------
    def _party_account(self, text: str | None) -> tuple[str | None, str | None]:
        if not text:
            return None, None
        bank, _, account = text.rpartition(" ")
        return (bank or None, account or None) if bank else (None, text)

    def invoice_from_order(self, merchant: Merchant, order: Mapping[str, Any]) -> Invoice:
        """The canonical invoice an order describes, or E9109 for a malformed order."""
        try:
            details = order["invoiceDetail"]
            if not isinstance(details, list) or not details:
                raise PlatformError("E9109", "invoiceDetail")
            inclusive = str(details[0].get("withTaxFlag") or "0") == "1"
            lines = []
            for d in details:
                prop = str(d.get("invoiceLineProperty") or "0")
                amount_key = "taxIncludedAmount" if inclusive else "taxExcludedAmount"
                amount = Decimal(str(d.get(amount_key) or "0"))
                lines.append(
                    InvoiceLine(
                        name=str(d["goodsName"]),
                        tax_code=str(d.get("goodsCode") or ""),
                        spec=d.get("specType") or None,
                        unit=d.get("unit") or None,
                        quantity=Decimal(str(d["num"])) if d.get("num") not in (None, "") else None,
                        unit_price=Decimal(str(d["price"]))
                        if d.get("price") not in (None, "")
                        else None,
                        amount=amount,
                        tax_rate=Decimal(str(d.get("taxRate") or "0")),
                        tax=None
                        if inclusive or d.get("tax") in (None, "")
                        else Decimal(str(d["tax"])),
                        treatment=treatment_of(d.get("zeroRateFlag")),
                        kind=LineKind.DISCOUNT if prop == "1" else LineKind.NORMAL,
                    )
                )
            seller_bank, seller_account = self._party_account(order.get("salerAccount"))
            buyer_bank, buyer_account = self._party_account(order.get("buyerAccount"))
            natural = str(order.get("naturalPersonFlag") or "0") == "1"
            return Invoice(
                order_id=str(order["orderNo"]),
                kind=KIND_OF_LINE.get(str(order.get("invoiceLine") or "pc"), InvoiceKind.NORMAL),
                seller=Party(
                    name=merchant.name,
                    tax_id=str(order.get("salerTaxNum") or ""),
                    address=order.get("salerAddress") or merchant.address,
                    phone=order.get("salerTel") or merchant.phone,
                    bank=seller_bank or merchant.bank,
                    account=seller_account or merchant.account,
                ),
                buyer=Party(
                    name=str(order["buyerName"]),
                    tax_id=str(order.get("buyerTaxNum") or "") or None,
                    natural_person=natural,
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
        except PlatformError:
            raise
        except (KeyError, TypeError, ValueError, InvalidOperation, ValidationError) as exc:
            raise PlatformError("E9109", type(exc).__name__) from None

    def _validate(self, invoice: Invoice) -> Any:
        from fapiao.rules import check_invoice

        totals, issues = check_invoice(invoice)
        errors = [i for i in issues if not i.warning]
        if errors:
            first = errors[0]
            code = _ISSUE_TO_PLATFORM.get(first.code, "E9109")
            if code is None:
                code = "E9101" if first.path.startswith("seller") else "E9102"
            raise PlatformError(code, first.path)
        return totals

    def submit(self, merchant: Merchant, order: Mapping[str, Any], *, base_url: str) -> Record:
        if str(order.get("salerTaxNum") or "") not in ("", merchant.tax_id):
            raise PlatformError("E9111")
        order = {**order, "salerTaxNum": merchant.tax_id}
        if str(order.get("invoiceType") or "1") != "1":
            raise PlatformError("E9109", "invoiceType (红票请走红字确认单)")
        invoice = self.invoice_from_order(merchant, order)
        totals = self._validate(invoice)
        with self.lock:
            key = (merchant.tax_id, invoice.order_id)
            if key in self.by_order:
                raise PlatformError("E9106")
            used = self.used_credit.get(merchant.tax_id, Decimal("0"))
            if used + totals.total_amount > merchant.credit_line:
                raise PlatformError("E9201")
            self.used_credit[merchant.tax_id] = used + totals.total_amount
            record = Record(
                serial=self._serial(),
                order_no=invoice.order_id,
                merchant=merchant,
                invoice=invoice,
                line_kind=str(order.get("invoiceLine") or "pc"),
                ready_at=time.monotonic() + self.config.issue_delay_seconds,
                base_url=base_url,
                callback_url=order.get("callBackUrl") or None,
                amount=totals.total_amount,
                tax=totals.total_tax,
                email=order.get("email") or None,
                phone=order.get("buyerPhone") or None,
            )
            self.records[record.serial] = record
            self.by_order[key] = record
            return record

    def finalize(self, record: Record) -> bool:
        """开票中 → 开票完成 once its delay has passed; True when this call finished it."""
        with self.lock:
            if record.status != "20" or time.monotonic() < record.ready_at:
                return False
            record.issued_at = self.clock.now()
            record.number = self.numbers.next(record.merchant.tax_id, when=record.issued_at)
            record.status = "2"
            self.by_number[record.number] = record
        if self.on_issued is not None:
            self.on_issued(record)
        return True

    def settle_due(self) -> None:
        for record in [r for r in self.records.values() if r.status == "20"]:
            self.finalize(record)

    def find(
        self, merchant: Merchant, *, order_nos: Sequence[str] = (), serial_nos: Sequence[str] = ()
    ) -> list[Record]:
        self.settle_due()
        with self.lock:
            found = [self.by_order.get((merchant.tax_id, o)) for o in order_nos]
            found += [self.records.get(s) for s in serial_nos]
            return [r for r in found if r is not None and r.merchant.tax_id == merchant.tax_id]

    def result_item(self, record: Record, detail: bool) -> dict[str, Any]:
        inv = record.invoice
        sign = Decimal(-1) if record.is_red else Decimal(1)
        issued = record.status == "2"
        item: dict[str, Any] = {
            "serialNo": record.serial,
            "orderNo": record.order_no,
            "status": record.status,
            "statusMsg": {"2": "开票完成（最终状态）", "20": "开票中", "22": "开票失败"}.get(
                record.status, ""
            ),
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
        if issued and self.config.documents:
            for fmt in ("pdf", "ofd", "xml"):
                item[f"{fmt}Url"] = self.file_url(record, fmt)
        if detail:
            from fapiao.rules import compute_totals

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

    def file_url(self, record: Record, fmt: str) -> str:
        return f"{record.base_url}/invoice/file/{record.serial}-{record.file_key}.{fmt}"

    def document(self, name: str) -> tuple[bytes, str] | None:
        """Render (once) and return the file ``{serial}-{key}.{fmt}`` and its media type."""
        stem, _, fmt = name.rpartition(".")
        serial, _, key = stem.partition("-")
        record = self.records.get(serial)
        if (
            record is None
            or record.file_key != key
            or record.status != "2"
            or fmt not in ("pdf", "ofd", "xml")
        ):
            return None
        if fmt not in record.files:
            from fapiao.sandboxkit.render import document_data_from_invoice, render

            data = document_data_from_invoice(
                record.invoice,
                invoice_number=record.number or "",
                issued_at=record.issued_at or self.clock.now(),
                is_red=record.is_red,
                original_invoice_number=record.original_number,
                red_confirmation_number=record.red_form_no,
            )
            record.files[fmt] = render(data, fmt)
        return record.files[fmt], MEDIA_TYPES[DocumentFormat(fmt)]

    # -- credit line, delivery, use -------------------------------------------------------
    def credit_line(self, merchant: Merchant) -> dict[str, Any]:
        with self.lock:
            used = self.used_credit.get(merchant.tax_id, Decimal("0"))
            return {
                "totalCreditLine": money(merchant.credit_line),
                "usedCreditLine": money(used),
                "availableCreditLine": money(merchant.credit_line - used),
                "amountUpdateTime": millis(self.clock.now()),
                "requestStatus": "1",
            }

    def deliver(self, merchant: Merchant, payload: Mapping[str, Any]) -> dict[str, Any]:
        number = str(payload.get("invoiceNum") or "")
        phone, mail = str(payload.get("phone") or ""), str(payload.get("mail") or "")
        if not phone and not mail:
            raise PlatformError("E9109", "phone/mail")
        if phone and not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
            raise PlatformError("E9801")
        if mail and ("@" not in mail or "." not in mail.rpartition("@")[2]):
            raise PlatformError("E9801")
        with self.lock:
            record = self.by_number.get(number)
            if record is None or record.merchant.tax_id != merchant.tax_id:
                raise PlatformError("E9500")
            entry = {
                "deliveryId": secrets.token_hex(8),
                "invoiceNumber": number,
                "phone": phone or None,
                "mail": mail or None,
                "at": self.clock.now().isoformat(),
            }
            self.deliveries.append(entry)
            return {"deliveryId": entry["deliveryId"]}

    def mark_used(self, invoice_number: str) -> None:
        """The buyer has used the invoice (勾选抵扣/入账): red forms then need confirmation."""
        with self.lock:
            record = self.by_number.get(invoice_number)
            if record is None:
                raise KeyError(invoice_number)
            record.used = True

    # -- red confirmation forms -------------------------------------------------------------
    def _refresh(self, form: RedForm) -> None:
        """Apply the 72-hour rule lazily, on the injectable clock."""
        if form.status in _PENDING_FORM and self.clock.now() > form.created + CONFIRMATION_WINDOW:
            form.status = "07"
            self._release(form)

    def _release(self, form: RedForm) -> None:
        for index, amount in form.lines.items():
            form.blue.reversed[index] = form.blue.reversed.get(index, Decimal("0")) - amount

    def save_red_form(
        self, merchant: Merchant, payload: Mapping[str, Any], *, base_url: str
    ) -> RedForm:
        from fapiao.rules import check_red_reversal, red_lines

        bill_id = str(payload.get("billId") or secrets.token_hex(16).upper())
        source = str(payload.get("applySource") or "0")
        number = str(payload.get("blueElecInvoiceNumber") or payload.get("blueInvoiceNumber") or "")
        reason_code = str(payload.get("redReason") or "")
        if reason_code not in REASON_OF or source not in ("0", "1"):
            raise PlatformError("E9109", "redReason/applySource")
        with self.lock:
            self.settle_due()
            if bill_id in self.forms:
                raise PlatformError("E9706")
            blue = self.by_number.get(number)
            party = merchant.tax_id
            if (
                blue is None
                or blue.is_red
                or blue.status != "2"
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
                reversed_by_line[totals.index] = reversed_by_line.get(
                    totals.index, Decimal("0")
                ) + abs(totals.amount)
            for index, amount in reversed_by_line.items():
                blue.reversed[index] = blue.reversed.get(index, Decimal("0")) + amount
            now = self.clock.now()
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
                detail=[
                    {"index": t.index, "amount": t.amount, "tax": t.tax, "quantity": t.quantity}
                    for t in lines
                ],
                callback_url=payload.get("callbackUrl") or None,
            )
            self.forms[bill_id] = form
            if status == "01" and form.order_no:
                self._open_red(form, base_url)
        self._form_changed(form)
        return form

    def _form_changed(self, form: RedForm) -> None:
        if self.on_form_changed is not None:
            self.on_form_changed(form)

    def _open_red(self, form: RedForm, base_url: str, order_no: str | None = None) -> Record:
        """Create the red invoice of a confirmed form (开票中, finished after the delay)."""
        blue = form.blue
        order = order_no or form.order_no or form.bill_id
        key = (blue.merchant.tax_id, order)
        if key in self.by_order or form.red is not None:
            raise PlatformError("E9106")
        magnitudes = []
        for entry in form.detail:
            source = blue.invoice.lines[entry["index"]]
            quantity = entry["quantity"]
            magnitudes.append(
                InvoiceLine(
                    name=source.name,
                    tax_code=source.tax_code,
                    spec=source.spec,
                    unit=source.unit,
                    quantity=abs(quantity) if quantity is not None else None,
                    unit_price=None,
                    amount=abs(entry["amount"]),
                    tax_rate=source.tax_rate,
                    tax=abs(entry["tax"]),
                    treatment=source.treatment,
                )
            )
        invoice = blue.invoice.model_copy(update={"order_id": order, "lines": tuple(magnitudes)})
        record = Record(
            serial=self._serial(),
            order_no=order,
            merchant=blue.merchant,
            invoice=invoice,
            line_kind=blue.line_kind,
            ready_at=time.monotonic() + self.config.issue_delay_seconds,
            base_url=base_url,
            callback_url=form.callback_url or blue.callback_url,
            is_red=True,
            original_number=blue.number,
            red_reason=form.reason,
            red_form_no=form.bill_no,
            amount=abs(form.amount),
            tax=abs(form.tax),
        )
        self.records[record.serial] = record
        self.by_order[key] = record
        form.red = record
        return record

    def forms_for(self, merchant: Merchant, identity: str, bill_id: str | None) -> list[RedForm]:
        with self.lock:
            self.settle_due()
            found = []
            for form in self.forms.values():
                if bill_id and form.bill_id != bill_id:
                    continue
                side = (
                    form.blue.merchant.tax_id if identity == "0" else form.blue.invoice.buyer.tax_id
                )
                if side != merchant.tax_id:
                    continue
                self._refresh(form)
                found.append(form)
            return found

    def form_item(self, form: RedForm) -> dict[str, Any]:
        red = form.red
        return {
            "billId": form.bill_id,
            "billNo": form.bill_no,
            "billUuid": form.bill_uuid,
            "billStatus": form.status,
            "requestStatus": "2",
            "openStatus": 1 if red is not None and red.status == "2" else 0,
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
        self, merchant: Merchant, payload: Mapping[str, Any], *, base_url: str
    ) -> RedForm:
        bill_id = str(payload.get("billId") or "")
        identity = str(payload.get("identity") or "")
        agree = str(payload.get("confirmAgreement") or "") == "1"
        with self.lock:
            form = self.forms.get(bill_id)
            if form is None:
                raise PlatformError("E9703")
            self._refresh(form)
            # The other party confirms: the buyer a seller's form (02), the seller a buyer's (03).
            expected = {
                "02": ("1", form.blue.invoice.buyer.tax_id),
                "03": ("0", form.blue.merchant.tax_id),
            }
            want = expected.get(form.status)
            if want is None or want != (identity, merchant.tax_id):
                raise PlatformError("E9704", f"billStatus {form.status}")
            form.confirm_time = self.clock.now()
            if agree:
                form.status = "04"
                if form.order_no:
                    self._open_red(form, base_url)
            else:
                form.status = "05" if form.status == "02" else "06"
                self._release(form)
        self._form_changed(form)
        return form

    def fast_red(self, merchant: Merchant, payload: Mapping[str, Any], *, base_url: str) -> Record:
        bill_id = str(payload.get("billId") or "")
        with self.lock:
            form = self.forms.get(bill_id) or next(
                (f for f in self.forms.values() if f.bill_no == payload.get("billNo")), None
            )
            if form is None:
                raise PlatformError("E9703")
            self._refresh(form)
            if form.blue.merchant.tax_id != merchant.tax_id:
                raise PlatformError("E9703")
            if form.status not in ("01", "04"):
                raise PlatformError("E9704", f"billStatus {form.status}")
            order_no = str(payload.get("orderNo") or "") or None
            if payload.get("callBackUrl"):
                form.callback_url = str(payload["callBackUrl"])
            return self._open_red(form, base_url, order_no)

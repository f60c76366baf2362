"""The whole-invoice check: every 数电 rule, every problem at once, each with its field path.

Reporting all problems in one pass (rather than failing on the first) is what lets a batch
author fix a file in one go, and lets providers refuse bad input before the network.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from decimal import Decimal

from fapiao.errors import InvalidInvoice, ValidationIssue
from fapiao.models import Invoice, InvoiceKind, InvoiceLine, LineKind, TaxTreatment
from fapiao.rules.arithmetic import (
    LINE_TAX_TOLERANCE,
    TOTAL_TAX_TOLERANCE,
    InvoiceTotals,
    LineTotals,
    check_magnitudes,
    compute_totals,
    line_tax,
    round_cent,
)
from fapiao.rules.discount import check_discounts
from fapiao.rules.issues import (
    AMOUNT_MISMATCH,
    BUYER_TAX_ID_RECOMMENDED,
    INVALID_QUANTITY,
    INVALID_TAX_CODE,
    NEGATIVE_AMOUNT,
    SPECIAL_NEEDS_ENTITY_BUYER,
    TAX_CODE_IS_SUMMARY,
    TAX_OUT_OF_TOLERANCE,
    TOO_MANY_DECIMALS,
    TOTAL_TAX_OUT_OF_TOLERANCE,
    TREATMENT_MISMATCH,
    UNKNOWN_TAX_CODE,
    ZERO_AMOUNT,
    issue,
)
from fapiao.rules.rates import ZERO, check_line_rate, format_rate
from fapiao.rules.tax_codes import TAX_CODE_RE, tax_code_table
from fapiao.rules.tax_id import check_tax_id

__all__ = ["AMOUNT_PRODUCT_TOLERANCE", "check_invoice", "ensure_valid", "validate_invoice"]

AMOUNT_PRODUCT_TOLERANCE = Decimal("0.01")
"""|quantity × unit price − amount| may be at most one cent (the platform's 误差 rule)."""


def _check_parties(invoice: Invoice) -> list[ValidationIssue]:
    issues = check_tax_id(invoice.seller.tax_id, "seller.tax_id", required=True)
    buyer = invoice.buyer
    if invoice.kind is InvoiceKind.SPECIAL:
        if buyer.natural_person:
            issues.append(
                issue(
                    SPECIAL_NEEDS_ENTITY_BUYER,
                    "buyer.natural_person",
                    "增值税专用发票的购买方不能是自然人",
                    "a special (专票) invoice cannot be issued to a natural person",
                    expected="an entity buyer, or kind normal",
                )
            )
        if not buyer.tax_id:
            issues.append(
                issue(
                    SPECIAL_NEEDS_ENTITY_BUYER,
                    "buyer.tax_id",
                    "增值税专用发票的购买方须提供有效的纳税人识别号",
                    "a special (专票) invoice needs the buyer's valid taxpayer ID",
                    expected="18-character USCC",
                )
            )
        else:
            issues += check_tax_id(buyer.tax_id, "buyer.tax_id", required=True)
    elif buyer.natural_person:
        issues += check_tax_id(buyer.tax_id, "buyer.tax_id", required=False, natural_person=True)
    elif not buyer.tax_id:
        issues.append(
            issue(
                BUYER_TAX_ID_RECOMMENDED,
                "buyer.tax_id",
                "购买方为单位时应填写其纳税人识别号（国家税务总局公告2017年第16号）；"
                "若为个人请设置 natural_person",
                "an entity buyer should give its taxpayer ID (SAT announcement 2017/16); "
                "set natural_person for a private individual",
                expected="18-character USCC",
                warning=True,
            )
        )
    else:
        issues += check_tax_id(buyer.tax_id, "buyer.tax_id", required=False)
    return issues


def _check_code(line: InvoiceLine, path: str) -> list[ValidationIssue]:
    code = line.tax_code
    if TAX_CODE_RE.fullmatch(code) is None:
        return [
            issue(
                INVALID_TAX_CODE,
                f"{path}.tax_code",
                f"税收分类编码须为 19 位数字，实为“{code}”（{len(code)} 位）",
                f"a tax classification code is 19 digits; got {code!r} ({len(code)} characters)",
                expected="19 digits",
            )
        ]
    table = tax_code_table()
    entry = table.lookup(code)
    if entry is None:
        return [
            issue(
                UNKNOWN_TAX_CODE,
                f"{path}.tax_code",
                f"税收分类编码 {code} 不在商品和服务税收分类编码表（{table.version}）中",
                f"tax classification code {code} is not in the national table ({table.version})",
                expected="a code of the 商品和服务税收分类编码表",
            )
        ]
    if entry.summary:
        return [
            issue(
                TAX_CODE_IS_SUMMARY,
                f"{path}.tax_code",
                f"税收分类编码 {code}（{entry.name}）是汇总项，不能开票，请选用其下级末级编码",
                f"code {code} ({entry.name}) is a summary category; use one of its leaf codes",
                expected="a leaf (non-summary) code",
            )
        ]
    return []


def _check_decimals(line: InvoiceLine, path: str) -> list[ValidationIssue]:
    issues = []
    for field in ("amount", "tax"):
        value: Decimal | None = getattr(line, field)
        if value is not None and value != round_cent(value):
            issues.append(
                issue(
                    TOO_MANY_DECIMALS,
                    f"{path}.{field}",
                    f"金额最多两位小数，实为 {value}",
                    f"amounts have at most 2 decimals, got {value}",
                    expected=str(round_cent(value)),
                )
            )
    return issues


def _check_line_numbers(
    line: InvoiceLine, computed: LineTotals, path: str, inclusive: bool
) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if line.kind is LineKind.NORMAL:
        if line.amount == 0:
            issues.append(
                issue(
                    ZERO_AMOUNT,
                    f"{path}.amount",
                    "明细行金额不能为 0",
                    "a line's amount cannot be zero",
                    expected="a positive amount",
                )
            )
        elif line.amount < 0:
            issues.append(
                issue(
                    NEGATIVE_AMOUNT,
                    f"{path}.amount",
                    f"蓝字发票的正常行金额不能为负（{line.amount}）；折让请用折扣行（kind=discount），"
                    "退货请红冲",
                    f"a blue invoice's normal line cannot be negative ({line.amount}); use a "
                    "discount line (kind=discount) or a red reversal",
                    expected="a positive amount",
                )
            )
        for field in ("quantity", "unit_price"):
            value: Decimal | None = getattr(line, field)
            if value is not None and value <= 0:
                issues.append(
                    issue(
                        INVALID_QUANTITY,
                        f"{path}.{field}",
                        f"{'数量' if field == 'quantity' else '单价'}须大于 0，实为 {value}",
                        f"{field} must be greater than 0, got {value}",
                        expected="> 0",
                    )
                )
        if (
            line.quantity is not None
            and line.unit_price is not None
            and abs(line.quantity * line.unit_price - line.amount) > AMOUNT_PRODUCT_TOLERANCE
        ):
            product = round_cent(line.quantity * line.unit_price)
            issues.append(
                issue(
                    AMOUNT_MISMATCH,
                    f"{path}.amount",
                    f"金额 {line.amount} 与数量 × 单价（{line.quantity} × {line.unit_price} = "
                    f"{product}）不符",
                    f"amount {line.amount} differs from quantity × unit price "
                    f"({line.quantity} × {line.unit_price} = {product})",
                    expected=str(product),
                )
            )
    if line.treatment is not TaxTreatment.TAXABLE and line.tax is not None and line.tax != 0:
        issues.append(
            issue(
                TREATMENT_MISMATCH,
                f"{path}.tax",
                f"{line.treatment.label_zh}行税额须为 0，实为 {line.tax}",
                f"a {line.treatment.value} line has no tax; got {line.tax}",
                expected="0",
            )
        )
    elif line.tax is not None:
        expected = line_tax(computed.amount, line.tax_rate)
        if abs(computed.tax - expected) > LINE_TAX_TOLERANCE:
            basis = "含税金额 − 税额" if inclusive else "金额"
            issues.append(
                issue(
                    TAX_OUT_OF_TOLERANCE,
                    f"{path}.tax",
                    f"税额 {line.tax} 与 {basis} × 税率（{computed.amount} × "
                    f"{format_rate(line.tax_rate)} = {expected}）相差超过 {LINE_TAX_TOLERANCE}",
                    f"tax {line.tax} differs from amount × rate ({computed.amount} × "
                    f"{format_rate(line.tax_rate)} = {expected}) by more than {LINE_TAX_TOLERANCE}",
                    expected=str(expected),
                )
            )
    return issues


def _check_totals(totals: InvoiceTotals) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if totals.total_with_tax <= 0:
        issues.append(
            issue(
                ZERO_AMOUNT,
                "total_with_tax",
                f"价税合计须大于 0，实为 {totals.total_with_tax}；零金额发票不能开具",
                f"the total with tax must be positive, got {totals.total_with_tax}; "
                "zero-amount invoices cannot be issued",
                expected="> 0",
            )
        )
    exact = sum((line.amount * line.rate for line in totals.lines), ZERO)
    if abs(totals.total_tax - exact) > TOTAL_TAX_TOLERANCE:
        issues.append(
            issue(
                TOTAL_TAX_OUT_OF_TOLERANCE,
                "total_tax",
                f"税额合计 {totals.total_tax} 与 Σ(金额 × 税率) = {round_cent(exact)} 相差超过 "
                f"{TOTAL_TAX_TOLERANCE}",
                f"total tax {totals.total_tax} differs from Σ(amount × rate) = "
                f"{round_cent(exact)} by more than {TOTAL_TAX_TOLERANCE}",
                expected=str(round_cent(exact)),
            )
        )
    return issues


class _RecentChecks:
    """The last few results of :func:`check_invoice`, by invoice object.

    The engine validates an invoice and then hands the same object to a provider plugin,
    which validates it again before sending (docs/domain-rules.md: providers call the same validator); the
    second check is free. Invoices are frozen, and each entry keeps its invoice alive, so an
    ``id`` cannot be reused while it is cached. Bounded, and locked because sandboxes and the
    sync client's loop run in other threads.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[
            int, tuple[Invoice, InvoiceTotals | None, tuple[ValidationIssue, ...]]
        ] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, invoice: Invoice) -> tuple[InvoiceTotals | None, list[ValidationIssue]] | None:
        with self._lock:
            entry = self._entries.get(id(invoice))
            if entry is None or entry[0] is not invoice:
                return None
            self._entries.move_to_end(id(invoice))
        return entry[1], list(entry[2])

    def put(
        self, invoice: Invoice, totals: InvoiceTotals | None, issues: list[ValidationIssue]
    ) -> None:
        with self._lock:
            self._entries[id(invoice)] = (invoice, totals, tuple(issues))
            self._entries.move_to_end(id(invoice))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_recent = _RecentChecks()


def check_invoice(invoice: Invoice) -> tuple[InvoiceTotals | None, list[ValidationIssue]]:
    """Totals and every issue in one pass (totals are None only when numbers are too large
    to compute with, which the issues then say)."""
    cached = _recent.get(invoice)
    if cached is not None:
        return cached
    totals, issues = _check_invoice(invoice)
    _recent.put(invoice, totals, issues)
    return totals, issues


def _check_invoice(invoice: Invoice) -> tuple[InvoiceTotals | None, list[ValidationIssue]]:
    issues = _check_parties(invoice)
    blocking = check_magnitudes(invoice)
    totals = None if blocking else compute_totals(invoice)
    for i, line in enumerate(invoice.lines):
        path = f"lines[{i}]"
        code_issues = _check_code(line, path)
        issues += code_issues
        entry = None if code_issues else tax_code_table().lookup(line.tax_code)
        issues += check_line_rate(line, entry, path) if line.tax_rate.is_finite() else []
        issues += _check_decimals(line, path)
        if totals is not None:
            issues += _check_line_numbers(line, totals.lines[i], path, invoice.prices_include_tax)
    issues += blocking
    if totals is not None:
        issues += check_discounts(invoice, totals)
        issues += _check_totals(totals)
    return totals, _unique(issues)


def _unique(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    """One issue per (code, path): two checks may notice the same fault (e.g. a rate above 1)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for found in issues:
        key = (found.code, found.path)
        if key not in seen:
            seen.add(key)
            out.append(found)
    return out


def validate_invoice(invoice: Invoice) -> list[ValidationIssue]:
    """Every domain problem of ``invoice`` (errors and warnings), with field paths."""
    return check_invoice(invoice)[1]


def ensure_valid(invoice: Invoice) -> InvoiceTotals:
    """The invoice's totals, or :class:`InvalidInvoice` listing every issue if any is an error."""
    totals, issues = check_invoice(invoice)
    if totals is None or any(not i.warning for i in issues):
        raise InvalidInvoice(issues)
    return totals

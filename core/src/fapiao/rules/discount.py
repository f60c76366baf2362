"""折扣行: a negative line that discounts the line right before it.

The tax platform prints a discount as its own line under the discounted one and computes
tax on each; a discount that floats free, crosses codes or rates, or exceeds its line would
change another item's tax, so the platform refuses it and so do we.
"""

from __future__ import annotations

from collections.abc import Sequence

from fapiao.errors import ValidationIssue
from fapiao.models import Invoice, InvoiceLine, LineKind
from fapiao.rules.arithmetic import InvoiceTotals
from fapiao.rules.issues import (
    DISCOUNT_MISMATCH,
    DISCOUNT_NOT_NEGATIVE,
    DISCOUNT_TOO_LARGE,
    DISCOUNT_WITHOUT_PARENT,
    issue,
)

__all__ = ["check_discounts", "discounted_line_index", "line_nature"]


def discounted_line_index(invoice: Invoice, index: int) -> int | None:
    """The index of the line a discount line discounts, or None when it has no parent."""
    if index == 0 or invoice.lines[index].kind is not LineKind.DISCOUNT:
        return None
    parent = index - 1
    return parent if invoice.lines[parent].kind is LineKind.NORMAL else None


def line_nature(lines: Sequence[InvoiceLine], index: int) -> str:
    """发票行性质 as the tax platform codes it, which every vendor's issue request carries
    per line: ``"0"`` 正常行, ``"1"`` 折扣行, ``"2"`` 被折扣行 (followed by its discount)."""
    if lines[index].kind is LineKind.DISCOUNT:
        return "1"
    if index + 1 < len(lines) and lines[index + 1].kind is LineKind.DISCOUNT:
        return "2"
    return "0"


def check_discounts(invoice: Invoice, totals: InvoiceTotals) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    for i, line in enumerate(invoice.lines):
        if line.kind is not LineKind.DISCOUNT:
            continue
        path = f"lines[{i}]"
        if line.amount >= 0:
            issues.append(
                issue(
                    DISCOUNT_NOT_NEGATIVE,
                    f"{path}.amount",
                    f"折扣行金额须为负数，实为 {line.amount}",
                    f"a discount line's amount must be negative, got {line.amount}",
                    expected="a negative amount",
                )
            )
        parent_index = discounted_line_index(invoice, i)
        if parent_index is None:
            issues.append(
                issue(
                    DISCOUNT_WITHOUT_PARENT,
                    f"{path}.kind",
                    "折扣行须紧跟在被折扣的正常行之后",
                    "a discount line must come right after the (normal) line it discounts",
                    expected="a normal line at index " + str(i - 1)
                    if i
                    else "a normal line before it",
                )
            )
            continue
        parent = invoice.lines[parent_index]
        for field, mine, theirs in (
            ("tax_code", line.tax_code, parent.tax_code),
            ("tax_rate", line.tax_rate, parent.tax_rate),
            ("treatment", line.treatment, parent.treatment),
        ):
            if mine != theirs:
                issues.append(
                    issue(
                        DISCOUNT_MISMATCH,
                        f"{path}.{field}",
                        f"折扣行的 {field} 须与被折扣行（第 {parent_index} 行）一致：应为 {theirs}，实为 {mine}",
                        f"a discount line's {field} must equal that of the line it discounts "
                        f"(lines[{parent_index}]): expected {theirs}, got {mine}",
                        expected=str(theirs),
                    )
                )
        if line.amount < 0 and -line.amount > parent.amount:
            issues.append(
                issue(
                    DISCOUNT_TOO_LARGE,
                    f"{path}.amount",
                    f"折扣金额 {-line.amount} 超过被折扣行金额 {parent.amount}",
                    f"discount {-line.amount} exceeds the discounted line's amount {parent.amount}",
                    expected=f"at most {parent.amount}",
                )
            )
        elif line.amount < 0 and -totals.lines[i].tax > totals.lines[parent_index].tax:
            issues.append(
                issue(
                    DISCOUNT_TOO_LARGE,
                    f"{path}.tax",
                    f"折扣税额 {-totals.lines[i].tax} 超过被折扣行税额 {totals.lines[parent_index].tax}",
                    f"discount tax {-totals.lines[i].tax} exceeds the discounted line's tax "
                    f"{totals.lines[parent_index].tax}",
                    expected=f"at most {totals.lines[parent_index].tax}",
                )
            )
    return issues

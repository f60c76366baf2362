"""红冲: which red reversals of a blue invoice are allowed, and the red invoice's lines.

数电票 are never voided; a red invoice reverses all or part of a blue one. 开票有误 reverses
the whole invoice only; 销货退回, 服务中止 and 销售折让 may reverse part. Red amounts never
exceed what remains of the blue invoice, per line and in total, so a retry or a second
partial reversal can never reverse more than was invoiced.

A blue line followed by a 折扣行 is reversed as one: its reversible amount is the line net
of its discount, and a full red invoice carries one merged line for the pair.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from fapiao.errors import RedReversalNotAllowed, ValidationIssue
from fapiao.models import Invoice, LineKind, RedReversalRequest
from fapiao.rules.arithmetic import (
    LINE_TAX_TOLERANCE,
    UNIT_PRICE_PLACES,
    InvoiceTotals,
    LineTotals,
    compute_totals,
    line_tax,
    round_cent,
)
from fapiao.rules.issues import (
    RED_ALREADY_REVERSED,
    RED_AMOUNT_NOT_POSITIVE,
    RED_BUYER_MISMATCH,
    RED_DISCOUNT_LINE,
    RED_EXCEEDS_LINE_REMAINING,
    RED_EXCEEDS_REMAINING,
    RED_FULL_ONLY,
    RED_LINE_OUT_OF_RANGE,
    RED_ORDER_MISMATCH,
    RED_QUANTITY_EXCEEDS,
    RED_SELLER_MISMATCH,
    TAX_OUT_OF_TOLERANCE,
    TOO_MANY_DECIMALS,
    issue,
)

__all__ = ["check_red_reversal", "ensure_red_reversal", "red_lines", "reversible_lines"]

_ZERO = Decimal("0.00")


def reversible_lines(blue: Invoice, totals: InvoiceTotals | None = None) -> dict[int, LineTotals]:
    """Blue normal lines by index, each merged with its 折扣行: what a red line may reverse."""
    totals = totals or compute_totals(blue)
    merged: dict[int, LineTotals] = {}
    for line in totals.lines:
        if line.kind is LineKind.DISCOUNT and line.index - 1 in merged:
            parent = merged[line.index - 1]
            merged[line.index - 1] = LineTotals(
                amount=parent.amount + line.amount,
                tax=parent.tax + line.tax,
                gross=parent.gross + line.gross,
                display_name=parent.display_name,
                index=parent.index,
                tax_code=parent.tax_code,
                rate=parent.rate,
                treatment=parent.treatment,
                kind=LineKind.NORMAL,
                quantity=parent.quantity,
                unit_price=_net_unit_price(parent.amount + line.amount, parent.quantity),
                unit=parent.unit,
                spec=parent.spec,
            )
        elif line.kind is LineKind.NORMAL:
            merged[line.index] = line
    return merged


def _net_unit_price(amount: Decimal, quantity: Decimal | None) -> Decimal | None:
    if quantity is None or quantity == 0:
        return None
    return (amount / quantity).quantize(UNIT_PRICE_PLACES).normalize()


def _check_parties(blue: Invoice, request: RedReversalRequest) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if request.seller_tax_id != blue.seller.tax_id:
        issues.append(
            issue(
                RED_SELLER_MISMATCH,
                "seller_tax_id",
                "红冲申请的销售方纳税人识别号与蓝字发票不一致",
                "the red request's seller taxpayer ID differs from the blue invoice's",
                expected="the blue invoice's seller.tax_id",
            )
        )
    if request.buyer_tax_id and request.buyer_tax_id != (blue.buyer.tax_id or ""):
        issues.append(
            issue(
                RED_BUYER_MISMATCH,
                "buyer_tax_id",
                "红冲申请的购买方纳税人识别号与蓝字发票不一致",
                "the red request's buyer taxpayer ID differs from the blue invoice's",
                expected="the blue invoice's buyer.tax_id",
            )
        )
    if request.original_order_id and request.original_order_id != blue.order_id:
        issues.append(
            issue(
                RED_ORDER_MISMATCH,
                "original_order_id",
                f"原订单号 {request.original_order_id} 与蓝字发票的订单号 {blue.order_id} 不一致",
                f"original_order_id {request.original_order_id!r} is not the blue invoice's "
                f"order id {blue.order_id!r}",
                expected=blue.order_id,
            )
        )
    return issues


def check_red_reversal(
    blue: Invoice,
    request: RedReversalRequest,
    already_reversed: Mapping[int, Decimal] | None = None,
) -> list[ValidationIssue]:
    """Every reason the red reversal ``request`` of ``blue`` is not allowed.

    ``already_reversed`` maps blue line index → 不含税 amount already reversed by earlier
    red invoices (positive magnitudes).
    """
    already = {k: abs(v) for k, v in (already_reversed or {}).items() if v}
    issues = _check_parties(blue, request)
    totals = compute_totals(blue)
    lines = reversible_lines(blue, totals)
    reason = request.reason
    if request.is_full:
        if already:
            done = round_cent(sum(already.values(), _ZERO))
            issues.append(
                issue(
                    RED_ALREADY_REVERSED,
                    "lines",
                    f"该发票已部分红冲（{done}），不能再全额红冲；请对剩余金额部分红冲",
                    f"the invoice is already partly reversed ({done}); a full reversal is no "
                    "longer possible: reverse the remaining amounts line by line",
                    expected="a partial reversal of the remaining amounts",
                )
            )
        return issues
    if not reason.allows_partial:
        issues.append(
            issue(
                RED_FULL_ONLY,
                "lines",
                f"红冲原因“{reason.label_zh}”只能全额红冲，不能指定明细行",
                f"reason {reason.value} ({reason.label_zh}) allows only a full reversal: "
                "leave lines empty",
                expected="lines empty (full reversal)",
            )
        )
    requested: dict[int, Decimal] = {}
    quantities: dict[int, Decimal] = {}
    for i, red in enumerate(request.lines):
        path = f"lines[{i}]"
        index = red.original_line
        if index >= len(blue.lines):
            issues.append(
                issue(
                    RED_LINE_OUT_OF_RANGE,
                    f"{path}.original_line",
                    f"蓝字发票只有 {len(blue.lines)} 行（0 至 {len(blue.lines) - 1}），没有第 {index} 行",
                    f"the blue invoice has {len(blue.lines)} lines (0..{len(blue.lines) - 1}); "
                    f"there is no line {index}",
                    expected=f"0..{len(blue.lines) - 1}",
                )
            )
            continue
        if index not in lines:
            issues.append(
                issue(
                    RED_DISCOUNT_LINE,
                    f"{path}.original_line",
                    f"第 {index} 行是折扣行，须与其被折扣行（第 {index - 1} 行）一起红冲",
                    f"line {index} is a discount line: reverse the line it discounts "
                    f"({index - 1}), whose reversible amount is net of the discount",
                    expected=str(index - 1),
                )
            )
            continue
        if red.amount <= 0:
            issues.append(
                issue(
                    RED_AMOUNT_NOT_POSITIVE,
                    f"{path}.amount",
                    f"红冲金额以正数填写（红字发票自动取负），实为 {red.amount}",
                    f"red amounts are given as positive magnitudes (the red invoice negates "
                    f"them); got {red.amount}",
                    expected="> 0",
                )
            )
            continue
        if red.amount != round_cent(red.amount):
            issues.append(
                issue(
                    TOO_MANY_DECIMALS,
                    f"{path}.amount",
                    f"金额最多两位小数，实为 {red.amount}",
                    f"amounts have at most 2 decimals, got {red.amount}",
                    expected=str(round_cent(red.amount)),
                )
            )
        if red.tax is not None:
            expected_tax = line_tax(red.amount, lines[index].rate)
            if red.tax < 0 or abs(red.tax - expected_tax) > LINE_TAX_TOLERANCE:
                issues.append(
                    issue(
                        TAX_OUT_OF_TOLERANCE,
                        f"{path}.tax",
                        f"红冲税额 {red.tax} 与金额 × 税率 = {expected_tax} 相差超过 {LINE_TAX_TOLERANCE}",
                        f"red tax {red.tax} differs from amount × rate = {expected_tax} by more "
                        f"than {LINE_TAX_TOLERANCE}",
                        expected=str(expected_tax),
                    )
                )
        if red.quantity is not None:
            quantities[index] = quantities.get(index, Decimal(0)) + red.quantity
            blue_quantity = lines[index].quantity
            if red.quantity <= 0 or (
                blue_quantity is not None and quantities[index] > blue_quantity
            ):
                issues.append(
                    issue(
                        RED_QUANTITY_EXCEEDS,
                        f"{path}.quantity",
                        f"红冲数量须为正且不超过蓝字发票数量 {blue_quantity}，实为 {red.quantity}",
                        f"red quantity must be positive and at most the blue quantity "
                        f"{blue_quantity}; got {red.quantity}",
                        expected=f"0 < quantity <= {blue_quantity}",
                    )
                )
        requested[index] = requested.get(index, _ZERO) + red.amount
        remaining = lines[index].amount - already.get(index, _ZERO)
        if requested[index] > remaining:
            issues.append(
                issue(
                    RED_EXCEEDS_LINE_REMAINING,
                    f"{path}.amount",
                    f"第 {index} 行可红冲余额为 {remaining}（原 {lines[index].amount}，已红冲 "
                    f"{already.get(index, _ZERO)}），本次申请 {requested[index]}",
                    f"line {index} has {remaining} left to reverse (blue "
                    f"{lines[index].amount}, already reversed {already.get(index, _ZERO)}); "
                    f"requested {requested[index]}",
                    expected=f"at most {remaining}",
                )
            )
    total_remaining = totals.total_amount - sum(already.values(), _ZERO)
    total_requested = sum(requested.values(), _ZERO)
    if total_requested > total_remaining:
        issues.append(
            issue(
                RED_EXCEEDS_REMAINING,
                "lines",
                f"红冲合计 {total_requested} 超过发票可红冲余额 {total_remaining}",
                f"the red total {total_requested} exceeds what remains of the invoice "
                f"({total_remaining})",
                expected=f"at most {total_remaining}",
            )
        )
    return issues


def ensure_red_reversal(
    blue: Invoice,
    request: RedReversalRequest,
    already_reversed: Mapping[int, Decimal] | None = None,
    *,
    provider: str | None = None,
) -> None:
    """:class:`RedReversalNotAllowed` for the first blocking issue ``check_red_reversal``
    finds (its path as ``field``, its code as ``raw_code``, how many more in the message):
    what every provider runs against the blue invoice its platform holds before it sends."""
    issues = [i for i in check_red_reversal(blue, request, already_reversed) if not i.warning]
    if issues:
        first, more = issues[0], len(issues) - 1
        raise RedReversalNotAllowed(
            first.message_en + (f" (+{more} more)" if more else ""),
            message_zh=first.message_zh + (f"（另有 {more} 项）" if more else ""),
            provider=provider,
            field=first.path,
            raw_code=first.code,
        )


def red_lines(blue: Invoice, request: RedReversalRequest) -> tuple[LineTotals, ...]:
    """The red invoice's lines: negative amount and tax, full or partial.

    Full: one line per blue line (merged with its 折扣行) carrying exactly the blue amount and
    tax negated. Partial: tax recomputed per line as round(amount × rate) unless given, except
    that reversing a whole line reverses exactly its blue tax (no cent left behind).
    """
    lines = reversible_lines(blue)
    if request.is_full:
        return tuple(
            _negated(line, line.amount, line.tax, line.quantity) for line in lines.values()
        )
    out = []
    for i, red in enumerate(request.lines):
        base = lines.get(red.original_line)
        if base is None:
            raise RedReversalNotAllowed(
                f"lines[{i}].original_line {red.original_line} is not a reversible blue line "
                "(check_red_reversal says why)",
                message_zh=f"第 {red.original_line} 行不是可红冲的蓝字明细行",
                field=f"lines[{i}].original_line",
            )
        if red.tax is not None:
            tax = red.tax
        elif red.amount == base.amount:
            tax = base.tax
        else:
            tax = line_tax(red.amount, base.rate)
        out.append(_negated(base, red.amount, tax, red.quantity))
    return tuple(out)


def _negated(
    base: LineTotals, amount: Decimal, tax: Decimal, quantity: Decimal | None
) -> LineTotals:
    return LineTotals(
        amount=-amount,
        tax=-tax,
        gross=-(amount + tax),
        display_name=base.display_name,
        index=base.index,
        tax_code=base.tax_code,
        rate=base.rate,
        treatment=base.treatment,
        kind=LineKind.NORMAL,
        quantity=-quantity if quantity is not None else None,
        unit_price=base.unit_price,
        unit=base.unit,
        spec=base.spec,
    )

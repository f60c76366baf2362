"""``fapiao red``: reverse all or part of an issued invoice (红冲) through its 红字确认单.

Name the blue invoice by its order (``--seller`` + ``--order``: the invoice number, buyer and
date come from the ledger) or give a full request as JSON (``--request FILE``). Without
``--line`` the reversal is full (开票有误 allows nothing else); ``--line 1:6499.00:1``
reverses part of blue line 1 (0-based): amount without tax, optionally the quantity.

The red order id is the red invoice's idempotency key. By default it is derived from the
blue order, the reason and the lines, so running the same command again continues the same
reversal instead of starting a second one; give ``--red-order-id`` to reverse the same
amount twice on purpose (two returns).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import engine_client, print_status, run
from fapiao.models import RedLine, RedReason, RedReversalRequest

if TYPE_CHECKING:
    from fapiao.engine import RedOutcome

__all__ = ["parse_red_line", "red_command"]


def parse_red_line(text: str) -> RedLine:
    """``INDEX:AMOUNT[:QUANTITY]`` → a :class:`RedLine` (amount without tax, positive)."""
    parts = text.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        index = int(parts[0])
        amount = Decimal(parts[1])
        quantity = Decimal(parts[2]) if len(parts) == 3 else None
        return RedLine(original_line=index, amount=amount, quantity=quantity)
    except (ValueError, InvalidOperation):
        from fapiao.cli.output import fail

        fail(
            f"--line {text!r}: 须为 行号:金额[:数量]，如 1:6499.00:1 / expected "
            "INDEX:AMOUNT[:QUANTITY], e.g. 1:6499.00:1 (0-based blue line, amount without tax)",
            code=2,
        )


def _default_red_order_id(order: str, reason: RedReason, lines: list[RedLine]) -> str:
    digest = hashlib.sha256(
        "|".join([order, reason.value, *(f"{x.original_line}:{x.amount}" for x in lines)]).encode()
    ).hexdigest()[:8]
    return f"{order[:50]}-R{digest.upper()}"


def _read_request(path: Path, *, as_json: bool) -> RedReversalRequest:
    from pydantic import ValidationError

    from fapiao.cli.commands.issue import read_input
    from fapiao.errors import InvalidInvoice
    from fapiao.rules import issues_from_validation_error, load_json

    raw = read_input(str(path), as_json=as_json)
    try:
        return RedReversalRequest.model_validate(load_json(raw))
    except ValidationError as exc:
        raise InvalidInvoice(issues_from_validation_error(exc)) from None


def red_command(
    seller: Annotated[
        str | None, typer.Option("--seller", help="seller tax ID of the blue invoice")
    ] = None,
    order: Annotated[
        str | None, typer.Option("--order", help="order id of the blue invoice")
    ] = None,
    reason: Annotated[
        RedReason, typer.Option("--reason", help="红冲原因 (invoicing_error: full only)")
    ] = RedReason.SALES_RETURN,
    line: Annotated[
        list[str] | None,
        typer.Option("--line", help="INDEX:AMOUNT[:QUANTITY] to reverse part of a line; repeat"),
    ] = None,
    red_order_id: Annotated[
        str | None, typer.Option("--red-order-id", help="the red invoice's own order id")
    ] = None,
    request_file: Annotated[
        Path | None, typer.Option("--request", help="a RedReversalRequest as JSON instead")
    ] = None,
    confirm: Annotated[
        bool,
        typer.Option("--confirm", help="confirm the form for the other party (if we act for it)"),
    ] = False,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="seconds to wait for a pending form")
    ] = 0.0,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reverse an issued invoice with a red invoice (红冲), full or partial."""
    from fapiao.cli.output import emit_json, fail
    from fapiao.views import red_outcome_out

    lines = [parse_red_line(text) for text in line or []]

    async def main() -> RedOutcome:
        async with engine_client(config) as client:
            if request_file is not None:
                request = _read_request(request_file, as_json=as_json)
            else:
                if not seller or not order:
                    fail(
                        "需要 --seller 与 --order（或 --request 文件）/ give --seller and --order "
                        "(or --request FILE)",
                        as_json=as_json,
                        code=2,
                    )
                blue = await client.record(seller, order)
                if not blue.invoice_number:
                    fail(
                        f"订单 {order} 尚未开票（{blue.state.value}）/ order {order} has no "
                        f"issued invoice ({blue.state.value})",
                        as_json=as_json,
                    )
                buyer = blue.payload.get("buyer") or {}
                request = RedReversalRequest(
                    order_id=red_order_id or _default_red_order_id(order, reason, lines),
                    seller_tax_id=seller,
                    buyer_tax_id=buyer.get("tax_id") if isinstance(buyer, dict) else None,
                    original_invoice_number=blue.invoice_number,
                    original_issue_date=blue.issued_at.date() if blue.issued_at else None,
                    original_order_id=order,
                    reason=reason,
                    lines=tuple(lines),
                )
            return await client.red_reverse(request, confirm=confirm, wait_seconds=wait)

    outcome = run(main, as_json=as_json)
    if as_json:
        emit_json(red_outcome_out(outcome))
        return
    print_status(outcome.red, title="红字发票 / red invoice")
    print_status(outcome.blue, title="原蓝字发票 / the blue invoice")
    if outcome.awaiting_confirmation:
        typer.echo(
            "红字确认单待对方确认（72 小时内）；确认后运行 `fapiao reconcile` 继续 / the form "
            "awaits the other party (72 h); `fapiao reconcile` continues once it is confirmed"
        )

"""Red reversal rules and the red invoice's lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fapiao.errors import RedReversalNotAllowed
from fapiao.models import RedReversalRequest
from fapiao.rules import check_red_reversal, compute_totals, ensure_red_reversal, red_lines

from .conftest import BUYER_ID, SELLER_ID, line, make

D = Decimal


def blue():
    return make(
        line(quantity="10", unit_price="84", amount="840.00"),  # 840.00 + 109.20
        line(amount="-40.00", kind="discount"),  # -40.00 - 5.20
        line(name="墨盒", amount="300.00", tax="39.00"),
    )


def request(reason: str = "sales_return", lines=(), **over) -> RedReversalRequest:
    data = {
        "order_id": "R-1",
        "seller_tax_id": SELLER_ID,
        "buyer_tax_id": BUYER_ID,
        "original_invoice_number": "26312000000012345678",
        "original_order_id": "T-1",
        "reason": reason,
        "lines": list(lines),
    }
    data.update(over)
    return RedReversalRequest.model_validate(data)


def codes(issues):
    return {(i.code, i.path) for i in issues}


def test_full_reversal_is_allowed_and_mirrors_the_blue_invoice() -> None:
    invoice = blue()
    req = request("invoicing_error")
    assert check_red_reversal(invoice, req) == []
    reds = red_lines(invoice, req)
    assert [(r.amount, r.tax) for r in reds] == [
        (D("-800.00"), D("-104.00")),
        (D("-300.00"), D("-39.00")),
    ]
    totals = compute_totals(invoice)
    assert sum(r.amount for r in reds) == -totals.total_amount
    assert sum(r.tax for r in reds) == -totals.total_tax
    assert reds[0].display_name == "*纸制品*打印纸 A4" and reds[0].quantity == D("-10")


def test_invoicing_error_is_full_only() -> None:
    req = request("invoicing_error", lines=[{"original_line": 0, "amount": "100.00"}])
    assert ("RED_FULL_ONLY", "lines") in codes(check_red_reversal(blue(), req))


def test_partial_reversal_and_tax_recomputed() -> None:
    req = request(lines=[{"original_line": 0, "amount": "100.00", "quantity": "1"}])
    assert check_red_reversal(blue(), req) == []
    (red,) = red_lines(blue(), req)
    assert (red.amount, red.tax, red.gross, red.quantity) == (
        D("-100.00"),
        D("-13.00"),
        D("-113.00"),
        D("-1"),
    )


def test_whole_line_partial_reverses_exactly_its_blue_tax() -> None:
    req = request(lines=[{"original_line": 2, "amount": "300.00"}])
    (red,) = red_lines(blue(), req)
    assert red.tax == D("-39.00")


def test_remaining_amount_per_line_and_in_total() -> None:
    # line 0 can reverse 800.00 (840 net of its 40 discount)
    ok = request(lines=[{"original_line": 0, "amount": "800.00"}])
    assert check_red_reversal(blue(), ok) == []
    too_much = request(lines=[{"original_line": 0, "amount": "800.01"}])
    assert ("RED_EXCEEDS_LINE_REMAINING", "lines[0].amount") in codes(
        check_red_reversal(blue(), too_much)
    )
    split = request(
        lines=[{"original_line": 0, "amount": "500.00"}, {"original_line": 0, "amount": "300.01"}]
    )
    assert ("RED_EXCEEDS_LINE_REMAINING", "lines[1].amount") in codes(
        check_red_reversal(blue(), split)
    )
    after = request(lines=[{"original_line": 0, "amount": "300.00"}])
    assert check_red_reversal(blue(), after, {0: D("500.00")}) == []
    found = codes(check_red_reversal(blue(), after, {0: D("500.01")}))
    assert ("RED_EXCEEDS_LINE_REMAINING", "lines[0].amount") in found
    assert ("RED_EXCEEDS_REMAINING", "lines") not in found
    both = request(lines=[{"original_line": 2, "amount": "300.00"}])
    assert ("RED_EXCEEDS_REMAINING", "lines") in codes(
        check_red_reversal(blue(), both, {0: D("800.00"), 2: D("0.01"), 5: D("100")})
    )


def test_line_index_sign_decimals_tax_and_quantity() -> None:
    req = request(
        lines=[
            {"original_line": 7, "amount": "1.00"},
            {"original_line": 1, "amount": "1.00"},
            {"original_line": 0, "amount": "-1.00"},
            {"original_line": 2, "amount": "1.005"},
            {"original_line": 2, "amount": "100.00", "tax": "20.00"},
            {"original_line": 0, "amount": "10.00", "quantity": "11"},
        ]
    )
    assert codes(check_red_reversal(blue(), req)) >= {
        ("RED_LINE_OUT_OF_RANGE", "lines[0].original_line"),
        ("RED_DISCOUNT_LINE", "lines[1].original_line"),
        ("RED_AMOUNT_NOT_POSITIVE", "lines[2].amount"),
        ("TOO_MANY_DECIMALS", "lines[3].amount"),
        ("TAX_OUT_OF_TOLERANCE", "lines[4].tax"),
        ("RED_QUANTITY_EXCEEDS", "lines[5].quantity"),
    }


def test_full_after_partial_is_refused() -> None:
    found = codes(check_red_reversal(blue(), request("sales_return"), {0: D("100.00")}))
    assert found == {("RED_ALREADY_REVERSED", "lines")}


def test_parties_must_match_the_blue_invoice() -> None:
    req = request(seller_tax_id=BUYER_ID, buyer_tax_id=SELLER_ID, original_order_id="other")
    assert codes(check_red_reversal(blue(), req)) == {
        ("RED_SELLER_MISMATCH", "seller_tax_id"),
        ("RED_BUYER_MISMATCH", "buyer_tax_id"),
        ("RED_ORDER_MISMATCH", "original_order_id"),
    }


def test_red_lines_refuses_unchecked_requests() -> None:
    with pytest.raises(RedReversalNotAllowed):
        red_lines(blue(), request(lines=[{"original_line": 1, "amount": "1.00"}]))


def test_ensure_red_reversal_raises_the_first_blocking_issue_and_counts_the_rest() -> None:
    ensure_red_reversal(blue(), request("invoicing_error"))  # allowed: nothing raised
    over = request(
        "invoicing_error",
        seller_tax_id=BUYER_ID,  # not the blue invoice's seller
        lines=[{"original_line": 0, "amount": "5000.00"}],  # full-only reason, over the line
    )
    issues = [i for i in check_red_reversal(blue(), over) if not i.warning]
    assert len(issues) > 1
    with pytest.raises(RedReversalNotAllowed) as caught:
        ensure_red_reversal(blue(), over, provider="acme")
    error = caught.value
    assert (error.field, error.raw_code, error.provider) == (issues[0].path, issues[0].code, "acme")
    more = len(issues) - 1
    assert error.message_en == f"{issues[0].message_en} (+{more} more)"
    assert error.message_zh == f"{issues[0].message_zh}（另有 {more} 项）"


def test_ensure_red_reversal_counts_what_was_already_reversed() -> None:
    partial = request(lines=[{"original_line": 0, "amount": "500.00"}])
    ensure_red_reversal(blue(), partial)
    with pytest.raises(RedReversalNotAllowed) as caught:
        ensure_red_reversal(blue(), partial, {0: D("400.00")})  # 800 - 400 left < 500
    assert caught.value.field == "lines[0].amount" and "more" not in caught.value.message_en

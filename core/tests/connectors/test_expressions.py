"""The mapping expression language: exact numbers, field paths, and nothing unsafe."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fapiao.connectors.custom.expressions import Expression, ExpressionError, MissingField


def ev(source: str, **fields: object) -> object:
    return Expression.parse(source).evaluate([fields])


def test_numeric_literals_are_exact_decimals() -> None:
    assert ev("0.1 + 0.2") == Decimal("0.3")
    assert ev("price_fen / 100", price_fen=599900) == Decimal("5999")


def test_csv_strings_take_part_in_arithmetic_as_numbers() -> None:
    assert ev("qty * price", qty="3", price="45.90") == Decimal("137.70")
    assert ev("qty > 2", qty="10") is True


def test_plus_joins_text_and_functions_convert() -> None:
    assert ev("'订单 ' + order_id", order_id="SO-1") == "订单 SO-1"
    assert ev("net(gross, rate)", gross="113", rate="0.13") == Decimal("100.00")
    assert ev("tax_of_gross(gross, percent(13))", gross="113") == Decimal("13.00")
    assert ev("coalesce(a, b, 'x')", a=None, b="") == "x"
    assert ev("'special' if tax_id else 'normal'", tax_id="") == "normal"


def test_paths_chinese_names_and_row_subscripts() -> None:
    assert ev("buyer.name", buyer={"name": "张三"}) == "张三"
    assert ev("items[1].sku", items=[{"sku": "A"}, {"sku": "B"}]) == "B"
    assert ev("单价 * 数量", 单价="2.5", 数量="4") == Decimal("10.0")
    assert ev('row["unit price"] * 2', **{"unit price": "1.25"}) == Decimal("2.50")


def test_missing_field_names_its_path() -> None:
    with pytest.raises(MissingField) as info:
        ev("buyer.tax_id", buyer={})
    assert info.value.path == "buyer.tax_id"


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "open('x')",
        "name.upper()",
        "(lambda: 1)()",
        "[x for x in items]",
        "a.__class__",
        "round2(x, ndigits=2)",
        "upper(name)[0:2].strip",
    ],
)
def test_unsafe_or_unknown_constructs_are_refused_at_parse_time(source: str) -> None:
    with pytest.raises(ExpressionError):
        Expression.parse(source)


def test_division_by_zero_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError):
        ev("a / b", a="1", b="0")

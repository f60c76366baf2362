"""大写金额: published examples and a round trip through an independent words parser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fapiao.rules import amount_in_words

# Examples from the brief, from 《会计基础工作规范》第五十二条 (where the rule allows a choice
# about writing 零 before 角, the form without 零 is used), and from printed invoices.
EXAMPLES = [
    ("1234.56", "壹仟贰佰叁拾肆圆伍角陆分"),
    ("100", "壹佰圆整"),
    ("1000000.05", "壹佰万圆零伍分"),
    ("100000001", "壹亿零壹圆整"),
    ("1409.50", "壹仟肆佰零玖圆伍角"),
    ("6007.14", "陆仟零柒圆壹角肆分"),
    ("1680.32", "壹仟陆佰捌拾圆叁角贰分"),
    ("107000.53", "壹拾万柒仟圆伍角叁分"),
    ("10", "壹拾圆整"),
    ("10.09", "壹拾圆零玖分"),
    ("0.05", "伍分"),
    ("0.50", "伍角"),
    ("0", "零圆整"),
    ("100100", "壹拾万零壹佰圆整"),
    ("1010", "壹仟零壹拾圆整"),
    ("101000000", "壹亿零壹佰万圆整"),
    ("1000000000000", "壹万亿圆整"),
    ("1000100000000", "壹万零壹亿圆整"),
    ("9999999999999.99", "玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖圆玖角玖分"),
]


@pytest.mark.parametrize(("amount", "words"), EXAMPLES)
def test_examples(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_negative_prefix_and_yuan() -> None:
    assert amount_in_words(Decimal("-113")) == "（负数）壹佰壹拾叁圆整"
    assert amount_in_words(Decimal("-113"), negative_prefix="负数") == "负数壹佰壹拾叁圆整"
    assert amount_in_words(Decimal("1.20"), yuan="元") == "壹元贰角"
    assert amount_in_words(Decimal("0.004")) == "零圆整"  # rounds to zero: no 负数 either
    assert amount_in_words(Decimal("2.345")) == "贰圆叁角伍分"  # half-up to the cent


def test_out_of_range_and_non_decimal_refused() -> None:
    with pytest.raises(ValueError):
        amount_in_words(Decimal("1E16"))
    with pytest.raises(ValueError):
        amount_in_words(1.5)  # type: ignore[arg-type]


DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def parse_words(words: str) -> Decimal:
    """An independent reader of 大写 (written for the tests, not shared with the code)."""
    negative = words.startswith("（负数）")
    words = words.removeprefix("（负数）")
    integer_part, found, rest = words.partition("圆")
    if not found:
        integer_part, rest = "", words
    value = section = number = 0
    for ch in integer_part:
        if ch in DIGIT:
            number = DIGIT[ch]
        elif ch in UNIT:
            section += number * UNIT[ch]
            number = 0
        elif ch == "万":
            value += (section + number) * 10_000
            section = number = 0
        elif ch == "亿":
            value = (value + section + number) * 100_000_000
            section = number = 0
    value += section + number
    cents = 0
    if (jiao := rest.find("角")) > 0:
        cents += 10 * DIGIT[rest[jiao - 1]]
    if (fen := rest.find("分")) > 0:
        cents += DIGIT[rest[fen - 1]]
    result = Decimal(value) + Decimal(cents) / 100
    return -result if negative else result


amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("9999999999999.99"), places=2, allow_nan=False
)


@given(amounts)
def test_round_trip(amount: Decimal) -> None:
    assert parse_words(amount_in_words(amount)) == amount


@given(amounts)
def test_zheng_only_without_jiao_and_fen(amount: Decimal) -> None:
    words = amount_in_words(amount)
    assert words.endswith("整") == (amount == amount.to_integral())
    assert "零零" not in words
    assert not words.startswith("零")
    assert not words.endswith("零圆整")


@given(amounts)
def test_negative_is_prefixed_positive(amount: Decimal) -> None:
    assert amount_in_words(-amount) == "（负数）" + amount_in_words(amount)

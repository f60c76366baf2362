"""大写金额: the amount in Chinese capital numerals, as printed in 价税合计（大写）.

Conventions (《会计基础工作规范》第五十二条 and the tax bureau's invoice layout): digits
零壹贰叁肆伍陆柒捌玖, units 拾佰仟 within groups of four, groups 万 and 亿 (万亿 above);
圆 after the integer part, then 角 and 分; 整 only when there is neither 角 nor 分; a run of
zeros inside the number is read as one 零, zeros at the end of a group are silent unless a
non-zero digit follows in a lower group; 零 before 分 when 角 is zero; 10–19 read 壹拾….
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["MAX_AMOUNT_IN_WORDS", "amount_in_words"]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
MAX_AMOUNT_IN_WORDS = Decimal("9999999999999999.99")
_CENT = Decimal("0.01")


def _group_words(value: int) -> str:
    """0 < value < 10000 → its words with inner zeros, no leading or trailing 零."""
    digits = f"{value:04d}"
    out: list[str] = []
    pending_zero = False
    for position, ch in enumerate(digits):
        d = int(ch)
        if d == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_DIGITS[d] + _UNITS[3 - position])
    return "".join(out)


def _below_1e8(value: int) -> str:
    """0 ≤ value < 10^8: 万 group then units group, 零 between when the gap holds zeros."""
    high, low = divmod(value, 10000)
    out = _group_words(high) + "万" if high else ""
    if low:
        if high and low < 1000:
            out += "零"
        out += _group_words(low)
    return out


def _integer_words(value: int) -> str:
    """亿 splits the number in two halves of at most eight digits (so 10^12 reads 壹万亿)."""
    high, low = divmod(value, 10**8)
    out = _below_1e8(high) + "亿" if high else ""
    if low:
        if high and low < 10**7:
            out += "零"
        out += _below_1e8(low)
    return out


def amount_in_words(amount: Decimal, *, negative_prefix: str = "（负数）", yuan: str = "圆") -> str:
    """``Decimal("1234.56")`` → ``"壹仟贰佰叁拾肆圆伍角陆分"``.

    The amount is rounded half-up to the cent first. Red invoices show ``negative_prefix``
    (providers print ``（负数）`` or ``负数``). ``yuan`` may be ``"元"`` for systems that use it.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"amount must be a finite Decimal, got {amount!r}")
    cents_total = int(abs(amount).quantize(_CENT, rounding=ROUND_HALF_UP) * 100)
    if Decimal(cents_total) / 100 > MAX_AMOUNT_IN_WORDS:
        raise ValueError(f"amount {amount} is beyond 万亿 (max {MAX_AMOUNT_IN_WORDS})")
    integer, cents = divmod(cents_total, 100)
    jiao, fen = divmod(cents, 10)
    words = _integer_words(integer)
    if words:
        words += yuan
    if jiao == 0 and fen == 0:
        words = (words or f"零{yuan}") + "整"
    else:
        if jiao:
            words += _DIGITS[jiao] + "角"
        if fen:
            if not jiao and integer:
                words += "零"
            words += _DIGITS[fen] + "分"
    negative = amount.quantize(_CENT, rounding=ROUND_HALF_UP) < 0
    return (negative_prefix + words) if negative else words

"""Exact numeric types for money, quantities and rates.

Tax arithmetic is legally exact to the cent, so every amount is a ``Decimal``; a JSON float
would silently round (0.1 + 0.2), so floats are refused at the boundary and numbers are
written back to JSON as strings, which every language can parse without loss.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from fapiao.models.limits import MAX_DECIMAL_CHARS, MAX_DECIMAL_PLACES, MAX_MAGNITUDE_DIGITS

__all__ = ["CENT", "DECIMAL_PATTERN", "Money", "Quantity", "Rate", "to_decimal"]

CENT = Decimal("0.01")


def _refuse_float(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("布尔值不是金额 / a boolean is not a number")
    if isinstance(value, float):
        raise ValueError(
            "金额、数量与税率须以字符串或整数给出，不能用浮点数 / money, quantities and rates "
            f'must be strings or integers, not floats (got {value!r}; write "{value}")'
        )
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_DECIMAL_CHARS:
            raise ValueError(
                f"数字过长：{len(text)} 个字符，上限 {MAX_DECIMAL_CHARS} / number too long: "
                f"{len(text)} characters, at most {MAX_DECIMAL_CHARS}"
            )
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"不是十进制数 / not a decimal number: {value!r}") from None
        return _bounded(number, value)
    if isinstance(value, int):
        if abs(value) >= 10**MAX_MAGNITUDE_DIGITS:
            raise _out_of_range(str(value)[:20] + "…")
        return value
    if isinstance(value, Decimal):
        return _bounded(value, value)
    return value


def _bounded(number: Decimal, shown: Any) -> Decimal:
    """A finite number within the magnitude and precision every amount, quantity, price and
    rate fits in: beyond them arithmetic would overflow or a number would be megabytes."""
    if not number.is_finite():
        raise ValueError(f"须为有限数 / must be finite: {shown!r}")
    if number.adjusted() >= MAX_MAGNITUDE_DIGITS:
        raise _out_of_range(shown)
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if -(exponent + trailing_zeros) > MAX_DECIMAL_PLACES:
        raise ValueError(
            f"小数位过多：至多 {MAX_DECIMAL_PLACES} 位 / too many decimal places: at most "
            f"{MAX_DECIMAL_PLACES} (got {str(shown)[:40]!r})"
        )
    return number


def _out_of_range(shown: Any) -> ValueError:
    limit = f"1e{MAX_MAGNITUDE_DIGITS}"
    return ValueError(
        f"数值超出范围：绝对值须小于 {limit} / number out of range: its magnitude must be "
        f"below {limit} (got {str(shown)[:40]!r})"
    )


def to_decimal(value: Any) -> Decimal:
    """Convert str/int/Decimal to Decimal with the same float refusal as the models."""
    checked = _refuse_float(value)
    return checked if isinstance(checked, Decimal) else Decimal(checked)


_as_json_string = PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
"""How a number is written in JSON, in both directions: a plain decimal string."""


def _decimal_string(example: str) -> WithJsonSchema:
    """The JSON Schema says what the validator means: pydantic's own schema for a
    ``Decimal`` says ``number | string``, but a JSON number with a fraction is refused (it is
    a float), and every number fapiao writes is such a string."""
    return WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "examples": [example]})


Money = Annotated[
    Decimal, BeforeValidator(_refuse_float), _as_json_string, _decimal_string("12000.00")
]
"""An amount in yuan (CNY); exact, two decimals once normalised."""

Quantity = Annotated[
    Decimal, BeforeValidator(_refuse_float), _as_json_string, _decimal_string("2.5")
]
"""A quantity or unit price; may carry up to 8 or more decimals."""

Rate = Annotated[Decimal, BeforeValidator(_refuse_float), _as_json_string, _decimal_string("0.13")]
"""A tax rate as a fraction, e.g. ``Decimal("0.13")``."""

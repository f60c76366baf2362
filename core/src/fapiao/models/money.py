"""Exact numeric types for money, quantities and rates.

Tax arithmetic is legally exact to the cent, so every amount is a ``Decimal``; a JSON float
would silently round (0.1 + 0.2), so floats are refused at the boundary and numbers are
written back to JSON as strings, which every language can parse without loss.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["CENT", "Money", "Quantity", "Rate", "to_decimal"]

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
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"不是十进制数 / not a decimal number: {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"须为有限数 / must be finite: {value!r}")
        return number
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"须为有限数 / must be finite: {value!r}")
    return value


def to_decimal(value: Any) -> Decimal:
    """Convert str/int/Decimal to Decimal with the same float refusal as the models."""
    checked = _refuse_float(value)
    return checked if isinstance(checked, Decimal) else Decimal(checked)


_as_json_string = PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")

Money = Annotated[Decimal, BeforeValidator(_refuse_float), _as_json_string]
"""An amount in yuan (CNY); exact, two decimals once normalised."""

Quantity = Annotated[Decimal, BeforeValidator(_refuse_float), _as_json_string]
"""A quantity or unit price; may carry up to 8 or more decimals."""

Rate = Annotated[Decimal, BeforeValidator(_refuse_float), _as_json_string]
"""A tax rate as a fraction, e.g. ``Decimal("0.13")``."""

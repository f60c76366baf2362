"""Hostile and broken input gets the canonical refusal, never an interpreter error, and what
is accepted stays small (issue: hostile input; bounds in ``fapiao.models.limits``).

Each named case below raised something other than ``InvalidInvoice`` before the bounds
existed (RecursionError, ValueError from int conversion, decimal.InvalidOperation/Overflow,
"Maximum serialization depth exceeded") or stored a megabyte-sized payload from a 1 KB
request. The property test then throws generated input at the parser with a fixed budget.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fapiao.engine.ledger.payload import canonical_payload
from fapiao.errors import InvalidInvoice
from fapiao.models.limits import (
    MAX_DECIMAL_PLACES,
    MAX_EXTRA_BYTES,
    MAX_JSON_BYTES,
    MAX_LINES,
)
from fapiao.rules import ensure_valid, parse_invoice

BASE: dict[str, Any] = {
    "order_id": "H-1",
    "kind": "normal",
    "seller": {"name": "上海示例信息技术有限公司", "tax_id": "91310000MA1FL8XQ37"},
    "buyer": {"name": "个人", "natural_person": True},
    "lines": [
        {
            "name": "软件服务",
            "tax_code": "3040201010000000000",
            "amount": "100.00",
            "tax_rate": "0.06",
        }
    ],
}


def _with_line(**fields: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(BASE))
    data["lines"][0].update(fields)
    return data


def _refused(data: bytes | str | dict[str, Any]) -> InvalidInvoice:
    with pytest.raises(InvalidInvoice) as caught:
        ensure_valid(parse_invoice(data))
    return caught.value


def test_the_base_invoice_is_valid() -> None:
    ensure_valid(parse_invoice(json.dumps(BASE)))


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "", "nested too deep"),
        (b"1" * 5000, "", "too many digits"),
        (b'{"order_id": NaN}', "", "NaN is not JSON"),
        (json.dumps(_with_line(amount="1e999999")), "lines[0].amount", "out of range"),
        (json.dumps(_with_line(amount="1E+999999999")), "lines[0].amount", "out of range"),
        (json.dumps(_with_line(tax_rate="1E+999999999")), "lines[0].tax_rate", "out of range"),
        (json.dumps(_with_line(amount="9" * 41)), "lines[0].amount", "number too long"),
        (
            json.dumps(_with_line(quantity="1e-9999999", unit_price="100")),
            "lines[0].quantity",
            "too many decimal places",
        ),
        (json.dumps(_with_line(quantity="0E-99999")), "lines[0].quantity", "decimal places"),
        (json.dumps(_with_line(amount=10**20)), "lines[0].amount", "value too large"),
        (json.dumps(_with_line(amount="1E+60")), "lines[0].amount", "out of range"),
        (json.dumps({**BASE, "order_id": "X"}).replace('"X"', "9" * 5000), "", "digits"),
        (
            {**BASE, "provider_extra": {"x": json.loads("[" * 900 + "]" * 900)}},
            "provider_extra",
            "nested too deep",
        ),
        (
            {**BASE, "provider_extra": {"blob": "x" * (MAX_EXTRA_BYTES + 1)}},
            "provider_extra",
            "too large",
        ),
        (b" " * (MAX_JSON_BYTES + 1), "", "too large"),
        ({**BASE, "lines": BASE["lines"] * (MAX_LINES + 1)}, "lines", "at most"),
        ({**BASE, "seller": {"name": "x", "tax_id": "9" * 100_000}}, "seller.tax_id", "at most"),
        ({**BASE, "buyer": {"name": "个\x00人", "natural_person": True}}, "buyer.name", "NUL"),
        ({**BASE, "provider_extra": {"k": ["a\x00"]}}, "provider_extra", "NUL"),
        ({**BASE, "lines": BASE["lines"] * 200_000}, "lines", "too many lines"),
    ],
    ids=[
        "deep-brackets",
        "huge-integer",
        "nan",
        "exponent",
        "overflow",
        "rate-overflow",
        "long-number",
        "tiny-quantity",
        "zero-with-huge-exponent",
        "integer-amount",
        "beyond-computable",
        "integer-order-id",
        "deep-provider-extra",
        "big-provider-extra",
        "big-body",
        "too-many-lines",
        "long-tax-id",
        "nul-in-text",
        "nul-in-provider-extra",
        "200000-lines",
    ],
)
def test_hostile_input_is_refused_canonically(
    data: bytes | str | dict[str, Any], path: str, words: str
) -> None:
    refusal = _refused(data)
    first = next(i for i in refusal.issues if not i.warning)
    assert first.path == path, refusal.issues
    assert words in first.message_en, first
    assert first.message_zh and first.message_zh != first.message_en


def test_bounded_numbers_within_the_limits_are_accepted_exactly() -> None:
    places = "0." + "0" * (MAX_DECIMAL_PLACES - 1) + "1"
    invoice = parse_invoice(
        json.dumps(_with_line(quantity="100", unit_price="1.00000000000000000000"))
    )
    assert invoice.lines[0].unit_price == Decimal(1)
    assert parse_invoice(json.dumps(_with_line(spec=places))).lines[0].spec == places
    tiny = parse_invoice(json.dumps(_with_line(quantity=places, unit_price="1")))
    assert tiny.lines[0].quantity == Decimal(places)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.text(max_size=30),
    st.sampled_from(["1e999999", "-1E+99999", "NaN", "Infinity", "1e-9999", "0E-9999", "-0"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def _mutated_invoices(draw: st.DrawFn) -> dict[str, Any]:
    data = json.loads(json.dumps(BASE))
    target = draw(st.sampled_from(["top", "line", "seller", "buyer"]))
    key = draw(
        st.sampled_from(
            [
                "order_id",
                "kind",
                "amount",
                "tax_rate",
                "tax",
                "quantity",
                "unit_price",
                "name",
                "tax_id",
                "tax_code",
                "lines",
                "provider_extra",
                "natural_person",
            ]
        )
    )
    value = draw(_json)
    holder = {
        "top": data,
        "line": data["lines"][0],
        "seller": data["seller"],
        "buyer": data["buyer"],
    }[target]
    holder[key] = value
    return data


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_invoices())
def test_generated_input_gets_only_canonical_errors(data: dict[str, Any]) -> None:
    text = json.dumps(data, default=str)
    try:
        invoice = parse_invoice(text)
        ensure_valid(invoice)
    except InvalidInvoice:
        return
    # accepted: what the ledger would store stays of the order of what was sent
    stored = json.dumps(canonical_payload(invoice), default=str)
    assert len(stored) < 4 * len(text) + 2000


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_get_only_canonical_errors(data: bytes | str) -> None:
    refusal: InvalidInvoice | None = None
    try:
        ensure_valid(parse_invoice(data))
    except InvalidInvoice as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.issues and all(i.message_zh and i.message_en for i in refusal.issues)

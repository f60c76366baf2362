"""20-digit 数电票 numbers: structure, province from the seller's tax ID, uniqueness."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from fapiao.sandboxkit import (
    InvoiceNumberGenerator,
    is_invoice_number,
    parse_invoice_number,
    province_of_tax_id,
)


def test_structure_year_province_channel_sequence() -> None:
    gen = InvoiceNumberGenerator(channel="3", start=41, clock=lambda: datetime(2025, 3, 1))
    number = gen.next("91440300MA5FXXXX1X")  # Shenzhen USCC: division 440300
    assert number == "25443000000000000041"
    parts = parse_invoice_number(number)
    assert (parts.year, parts.province, parts.channel, parts.sequence) == (
        "25",
        "44",
        "3",
        "000000000000041",
    )
    assert gen.next("91440300MA5FXXXX1X") == "25443000000000000042"


def test_province_from_tax_ids() -> None:
    assert province_of_tax_id("91310000MA1FL8XQ30") == "31"
    assert province_of_tax_id("110108123456789") == "11"  # legacy 15: starts with division
    assert province_of_tax_id("91990000MA1FL8XQ30") is None  # 99 is no province
    assert province_of_tax_id(None) is None


def test_unknown_province_uses_the_default_and_year_follows_issue_date() -> None:
    gen = InvoiceNumberGenerator(default_province="32", start=0)
    number = gen.next(None, when=datetime(2031, 12, 31))
    assert number.startswith("3132")
    assert is_invoice_number(number)


def test_unique_under_concurrency() -> None:
    gen = InvoiceNumberGenerator()
    results: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [gen.next("91310000MA1FL8XQ30") for _ in range(500)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(set(results)) == 4000 == gen.issued
    assert all(is_invoice_number(n) for n in results)


def test_two_generators_do_not_collide() -> None:
    a, b = InvoiceNumberGenerator(), InvoiceNumberGenerator()
    first = {a.next() for _ in range(100)}
    assert not first & {b.next() for _ in range(100)}


@pytest.mark.parametrize("bad", ["123", "2631000000000000001X", "26990000000000000001"])
def test_parse_refuses_malformed_numbers(bad: str) -> None:
    assert not is_invoice_number(bad)
    with pytest.raises(ValueError, match="20-digit"):
        parse_invoice_number(bad)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="channel"):
        InvoiceNumberGenerator(channel="12")
    with pytest.raises(ValueError, match="province"):
        InvoiceNumberGenerator(default_province="99")

"""The packaged national tax classification code table and the printed item name."""

from __future__ import annotations

from decimal import Decimal

from fapiao.models import InvoiceLine
from fapiao.rules import item_display_name, tax_code_table


def test_table_is_the_full_national_table_with_provenance() -> None:
    table = tax_code_table()
    assert len(table) > 4000
    assert table.version.startswith("2026.6.1")
    assert "tax-code-import-supabase.sql" in table.source
    assert tax_code_table() is table  # cached


def test_every_code_is_19_digits_with_its_parent_present() -> None:
    table = tax_code_table()
    codes = {entry.code for entry in table}
    assert all(len(c) == 19 and c.isdigit() for c in codes)
    for code in codes:
        segments = [code[0]] + [code[i : i + 2] for i in range(1, 19, 2)]
        for i in range(9, 0, -1):
            if segments[i] != "00":
                parent = "".join(segments[:i] + ["00"] * (10 - i))
                assert parent in codes, f"{code} has no parent row {parent}"
                assert table.lookup(parent).summary  # type: ignore[union-attr]
                break


def test_known_entries() -> None:
    table = tax_code_table()
    rice = table.lookup("1010101010000000000")
    assert rice is not None
    assert (rice.name, rice.short_name, rice.rates, rice.summary) == (
        "稻谷",
        "谷物",
        frozenset({Decimal("0.09")}),
        False,
    )
    sprouts = table.lookup("1010112140000000000")
    assert sprouts is not None and sprouts.rates == {Decimal("0.13"), Decimal("0.09")}
    assert table.lookup("3040201000000000000").summary  # type: ignore[union-attr]
    prepaid = table.lookup("6010000000000000000")
    assert prepaid is not None and prepaid.category == "6"
    assert table.lookup("1030402040101010000") is None  # ambiguous in the source: omitted
    assert "9999999999999999999" not in table


def _line(name: str, code: str = "1010101010000000000") -> InvoiceLine:
    return InvoiceLine(name=name, tax_code=code, amount=Decimal("1"), tax_rate=Decimal("0.09"))


def test_display_name_prefixes_the_short_name_once() -> None:
    assert item_display_name(_line("东北稻谷")) == "*谷物*东北稻谷"
    assert item_display_name(_line("*谷物*东北稻谷")) == "*谷物*东北稻谷"
    assert item_display_name(_line("*粮食*东北稻谷")) == "*谷物*东北稻谷"
    assert item_display_name(_line("东北稻谷", code="1234567890123456789")) == "东北稻谷"

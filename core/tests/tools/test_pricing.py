"""Cost per 10,000 invoices from a pricing table: exact decimals, unquoted charges flagged."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fapiao.contract.capabilities import Capabilities
from fapiao.errors import ConfigError
from fapiao.models import DeliveryChannel, Operation
from fapiao.tools.compare.pricing import Assumptions, PriceEntry, cost_per_10k, load_pricing

ROOT = Path(__file__).resolve().parents[3]
EMAIL_ONLY = Capabilities(
    operations=frozenset({Operation.ISSUE, Operation.QUERY, Operation.DELIVER}),
    delivery_channels=frozenset({DeliveryChannel.EMAIL}),
    issuance="sync",
    status_updates="polling",
)


def test_annual_fee_with_included_invoices_and_extras() -> None:
    assumptions = Assumptions(
        invoices_per_year=100_000,
        red_share=Decimal("0.02"),
        sms_share=Decimal("0.10"),
        email_share=Decimal("0"),
    )
    entry = PriceEntry(
        annual_fee=Decimal("5000"),
        included_invoices=50_000,
        per_invoice=Decimal("0.08"),
        red_reversal=Decimal("0.50"),
        sms=Decimal("0.05"),
    )
    cost = cost_per_10k(entry, assumptions)
    # per year: fee 5000; invoices (100000 + 2000 red - 50000) × 0.08 = 4160;
    # red extra 2000 × 0.50 = 1000; SMS 10000 × 0.05 = 500 → 10660 a year → per 10,000: /10
    assert cost.annual_fee == Decimal("500.00")
    assert cost.invoices == Decimal("416.00")
    assert cost.red_reversals == Decimal("100.00")
    assert cost.sms == Decimal("50.00")
    assert cost.total == Decimal("1066.00")
    assert cost.flags == ()


def test_unquoted_charges_are_flagged_not_assumed_free() -> None:
    entry = PriceEntry(per_invoice=Decimal("0.10"))
    cost = cost_per_10k(entry, Assumptions(), EMAIL_ONLY)
    assert cost.invoices == Decimal("1020.00")  # red invoices billed as invoices (2 %)
    assert any("red reversal charge not quoted" in f for f in cost.flags)
    assert any("SMS delivery not offered" in f for f in cost.flags)
    assert any("e-mail charge not quoted" in f for f in cost.flags)


def test_rounding_is_half_up_to_the_cent() -> None:
    entry = PriceEntry(per_invoice=Decimal("0.000125"), red_counts_as_invoice=False)
    cost = cost_per_10k(
        entry, Assumptions(red_share=Decimal("0"), sms_share=Decimal("0"), email_share=Decimal("0"))
    )
    assert cost.invoices == Decimal("1.25")
    cost = cost_per_10k(
        PriceEntry(per_invoice=Decimal("0.0000005"), red_counts_as_invoice=False),
        Assumptions(red_share=Decimal("0"), sms_share=Decimal("0"), email_share=Decimal("0")),
    )
    assert cost.invoices == Decimal("0.01")  # 0.005 → 0.01, not banker's 0.00


def test_example_pricing_file_loads_as_exact_decimals() -> None:
    table = load_pricing(ROOT / "examples" / "pricing.toml")
    nuonuo = table.providers["nuonuo"]
    assert nuonuo.per_invoice == Decimal("0.08") and isinstance(nuonuo.per_invoice, Decimal)
    assert table.assumptions.red_share == Decimal("0.03")
    assert table.entry_for("some-profile", "baiwang") is table.providers["baiwang"]
    assert table.providers["baiwang"].red_reversal is None


def test_bad_pricing_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text("[providers.x]\nper_invoice = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_pricing(bad)
    assert "providers.x.per_invoice" in caught.value.message_en
    bad.write_text("[providers.x]\nper_invocie = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="per_invocie"):
        load_pricing(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_pricing(tmp_path / "missing.toml")

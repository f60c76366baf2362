"""The tools' invoices are valid (so a refusal is the provider's), the bad inputs are bad
for the stated reason, and the report's HTML and charts are built from the data."""

from __future__ import annotations

import re
from decimal import Decimal

from fapiao.models import Party
from fapiao.rules import check_invoice, uscc_check_char
from fapiao.testing.samples import DEFAULT_BUYER
from fapiao.tools.compare.charts import BoxRow, latency_chart, stacked_bar_chart
from fapiao.tools.compare.results import CallRecord, LatencySummary, operation_stats
from fapiao.tools.invoices import bad_inputs, invoice_mix, many_lines_invoice

SELLER = Party(
    name="杭州示例数电科技有限公司", tax_id="91330106MA2B1C3D5" + uscc_check_char("91330106MA2B1C3D5")
)


def _errors(invoice: object) -> set[str]:
    _totals, issues = check_invoice(invoice)  # type: ignore[arg-type]
    return {i.code for i in issues if not i.warning}


def test_everyday_invoices_pass_the_rules() -> None:
    mix = invoice_mix(SELLER, DEFAULT_BUYER)
    rates = {line.tax_rate for inv in mix.values() for line in inv.lines}
    assert {
        Decimal("0.13"),
        Decimal("0.09"),
        Decimal("0.06"),
        Decimal("0.03"),
        Decimal("0.01"),
    } <= rates
    for name, invoice in mix.items():
        assert _errors(invoice) == set(), name
    assert _errors(many_lines_invoice(SELLER, DEFAULT_BUYER, 250)) == set()
    assert len({inv.order_id for inv in mix.values()}) == 4


def test_bad_inputs_fail_for_their_stated_reason() -> None:
    for name, bad in bad_inputs(SELLER, DEFAULT_BUYER).items():
        found = _errors(bad.invoice)
        if name == "over_quota":
            assert found == set()  # valid: only the provider's credit line refuses it
        else:
            assert found & bad.expected, (name, found)


def test_percentiles_are_observed_values() -> None:
    summary = LatencySummary.of([float(x) for x in range(1, 101)])
    assert summary is not None
    assert (summary.p50, summary.p90, summary.p99, summary.max) == (50.0, 90.0, 99.0, 100.0)
    assert LatencySummary.of([]) is None


def test_operation_stats_separate_expected_refusals() -> None:
    stats = operation_stats(
        [
            CallRecord("issue", True, 10.0),
            CallRecord("issue", False, 1.0, "INVALID_INVOICE", expected_error=True),
            CallRecord("issue", False, 5.0, "PROVIDER_UNAVAILABLE"),
        ]
    )["issue"]
    assert (stats.calls, stats.ok, stats.refused_as_expected, stats.failed) == (3, 1, 1, 1)
    assert stats.success_rate == 0.5
    assert stats.errors == {"INVALID_INVOICE": 1, "PROVIDER_UNAVAILABLE": 1}


def test_charts_are_inline_svg_scaled_to_the_data() -> None:
    fast = LatencySummary.of([1.0, 2.0, 3.0])
    slow = LatencySummary.of([100.0, 200.0, 300.0])
    svg = latency_chart(
        "latency", "t", [("issue", [BoxRow("a", "#000", fast), BoxRow("b", "#111", slow)])]
    )
    assert svg.startswith('<svg class="chart" data-chart="latency"')
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    boxes = [float(x) for x in re.findall(r'class="box" x="([\d.]+)"', svg)]
    assert len(boxes) == 2 and boxes[0] < boxes[1]  # log scale keeps order
    cost = stacked_bar_chart("cost", "c", [("a", [("fee", 10.0), ("sms", 0.0)])], "CNY")
    assert cost.count('class="bar"') == 1  # zero components draw nothing
    assert "10.00 CNY" in cost

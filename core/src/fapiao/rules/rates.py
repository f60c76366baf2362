"""VAT rates and 征收率, and whether a rate fits a line's code and treatment.

The rate a seller may use depends on what is sold (the code's category and, where the
national table says so, the code itself) and on how the line is taxed (taxable, zero rate,
exempt, not taxable). Wrong rates are the second most common provider rejection after tax
IDs; catching them here names the line.
"""

from __future__ import annotations

from decimal import Decimal

from fapiao.errors import ValidationIssue
from fapiao.models import InvoiceLine, TaxTreatment
from fapiao.rules.issues import RATE_NOT_ALLOWED, TREATMENT_MISMATCH, issue
from fapiao.rules.tax_codes import TaxCodeEntry

__all__ = [
    "ALLOWED_RATES",
    "CATEGORY_GENERAL_RATES",
    "SIMPLIFIED_RATES",
    "ZERO",
    "check_line_rate",
    "format_rate",
]

ZERO = Decimal("0")
ALLOWED_RATES: frozenset[Decimal] = frozenset(
    Decimal(r) for r in ("0.13", "0.09", "0.06", "0.05", "0.03", "0.01", "0")
)
"""Every rate a 数电票 line may carry (a fraction; 0 covers 零税率, 免税 and 不征税)."""

SIMPLIFIED_RATES: frozenset[Decimal] = frozenset(Decimal(r) for r in ("0.05", "0.03", "0.01"))
"""征收率 of 简易计税 (small-scale taxpayers and elected simple methods): they apply to any
taxable code, so a code's general rate does not restrict them."""

CATEGORY_GENERAL_RATES: dict[str, frozenset[Decimal]] = {
    "1": frozenset({Decimal("0.13"), Decimal("0.09")}),  # 货物: 13 %, 9 % for listed goods
    "2": frozenset({Decimal("0.13")}),  # 加工修理修配劳务
    "3": frozenset({Decimal("0.13"), Decimal("0.09"), Decimal("0.06")}),  # 服务 (租赁 13 %)
    "4": frozenset({Decimal("0.09"), Decimal("0.06")}),  # 无形资产 (土地使用权 9 %)
    "5": frozenset({Decimal("0.09")}),  # 不动产
    "6": frozenset(),  # 未发生销售行为的不征税项目
}
"""General-method rates by the code's first digit (VAT law art. 2 / 财税〔2016〕36号 as
amended), used only when the table gives no rate for a code."""


def format_rate(rate: Decimal) -> str:
    """``Decimal("0.13")`` → ``"13%"``."""
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


def _general_rates(entry: TaxCodeEntry | None) -> frozenset[Decimal] | None:
    if entry is None:
        return None
    if entry.rates is not None:
        listed = frozenset(r for r in entry.rates if r not in SIMPLIFIED_RATES and r != ZERO)
        if listed:
            return listed
    return CATEGORY_GENERAL_RATES.get(entry.category)


def check_line_rate(
    line: InvoiceLine, entry: TaxCodeEntry | None, path: str
) -> list[ValidationIssue]:
    """Issues with ``line.tax_rate`` and ``line.treatment`` (path is the line's, e.g. ``lines[0]``).

    Rules: the rate must be one of ALLOWED_RATES; 免税/不征税/零税率 lines have rate 0 and no
    tax, and a taxable line may not have rate 0; 不征税 is for category-6 codes only and
    category-6 codes are always 不征税; a general rate (13/9/6 %) must be one the table (or,
    lacking table data, the code's category) allows; 征收率 (5/3/1 %) fit any taxable code.
    """
    rate, treatment = line.tax_rate, line.treatment
    rate_path = f"{path}.tax_rate"
    shown = format_rate(rate) if rate.is_finite() else str(rate)
    if rate not in ALLOWED_RATES:
        return [
            issue(
                RATE_NOT_ALLOWED,
                rate_path,
                f"税率 {shown} 不是数电票允许的税率（13%、9%、6%、5%、3%、1%、0）",
                f"rate {shown} is not a 数电 rate (13%, 9%, 6%, 5%, 3%, 1% or 0)",
                expected="one of 0.13, 0.09, 0.06, 0.05, 0.03, 0.01, 0",
            )
        ]
    issues: list[ValidationIssue] = []
    zero_treatments = {TaxTreatment.ZERO_RATE, TaxTreatment.EXEMPT, TaxTreatment.NOT_TAXABLE}
    if treatment in zero_treatments and rate != ZERO:
        issues.append(
            issue(
                TREATMENT_MISMATCH,
                rate_path,
                f"{treatment.label_zh}行的税率须为 0，实为 {shown}",
                f"a {treatment.value} line must have rate 0, not {shown}",
                expected="0",
            )
        )
    if treatment is TaxTreatment.TAXABLE and rate == ZERO:
        issues.append(
            issue(
                TREATMENT_MISMATCH,
                f"{path}.treatment",
                "税率为 0 的行须注明征税方式：零税率、免税或不征税",
                "a line with rate 0 must say how: treatment zero_rate, exempt or not_taxable",
                expected="zero_rate | exempt | not_taxable",
            )
        )
    if entry is None:
        return issues
    if entry.category == "6" and treatment is not TaxTreatment.NOT_TAXABLE:
        issues.append(
            issue(
                TREATMENT_MISMATCH,
                f"{path}.treatment",
                f"编码 {entry.code}（{entry.short_name}）属未发生销售行为的不征税项目，征税方式须为不征税",
                f"code {entry.code} ({entry.short_name}) is a 不征税 item: treatment must be "
                "not_taxable",
                expected="not_taxable",
            )
        )
    elif treatment is TaxTreatment.NOT_TAXABLE and entry.category != "6":
        issues.append(
            issue(
                TREATMENT_MISMATCH,
                f"{path}.treatment",
                f"不征税仅适用于未发生销售行为的不征税项目（6 开头的编码），{entry.code} 不是",
                f"not_taxable applies only to 不征税 codes (starting with 6); {entry.code} is not one",
                expected="a code starting with 6, or another treatment",
            )
        )
    if treatment is TaxTreatment.TAXABLE and rate != ZERO and rate not in SIMPLIFIED_RATES:
        general = _general_rates(entry)
        if general is not None and rate not in general:
            allowed = "、".join(format_rate(r) for r in sorted(general, reverse=True)) or "无"
            allowed_en = ", ".join(format_rate(r) for r in sorted(general, reverse=True)) or "none"
            issues.append(
                issue(
                    RATE_NOT_ALLOWED,
                    rate_path,
                    f"编码 {entry.code}（{entry.short_name}）不适用税率 {shown}；一般计税可用 {allowed}，"
                    "或征收率 5%、3%、1%",
                    f"rate {shown} does not apply to code {entry.code} ({entry.short_name}); "
                    f"general rates: {allowed_en}, or a 征收率 of 5%, 3%, 1%",
                    expected=allowed_en,
                )
            )
    return issues

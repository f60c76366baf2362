"""The pricing table a buyer fills in from vendors' quotes, and the cost per 10,000 invoices.

Why a model of its own: quotes are not comparable as written. One vendor charges an annual
fee that covers some invoices, another charges per invoice; red invoices are invoices too
(often billed again, sometimes plus a reversal fee), and SMS delivery is billed per message.
Vendors often leave the last two out of a quote, so a price that is *not quoted* is flagged
in the report instead of silently counted as free. Everything is ``Decimal``: TOML numbers
are read as decimals (``0.08`` stays exactly 0.08).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fapiao.contract.capabilities import Capabilities
from fapiao.errors import ConfigError
from fapiao.models import DeliveryChannel, Money

__all__ = [
    "PER",
    "Assumptions",
    "CostBreakdown",
    "PriceEntry",
    "PricingTable",
    "cost_per_10k",
    "load_pricing",
]

PER = Decimal(10_000)
CENT = Decimal("0.01")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Assumptions(_Strict):
    """The buyer's own volumes: what the quotes are applied to."""

    invoices_per_year: int = Field(default=100_000, ge=1, description="blue invoices a year")
    red_share: Decimal = Field(
        default=Decimal("0.02"), ge=0, le=1, description="red invoices per blue invoice"
    )
    sms_share: Decimal = Field(
        default=Decimal("0.10"), ge=0, le=1, description="invoices delivered by SMS"
    )
    email_share: Decimal = Field(
        default=Decimal("0.50"), ge=0, le=1, description="invoices delivered by e-mail"
    )


class PriceEntry(_Strict):
    """One vendor's quote. A price left out is *not quoted* (flagged), not zero."""

    label: str | None = None
    annual_fee: Money | None = Field(default=None, ge=0, description="年费 (yuan a year)")
    included_invoices: int = Field(default=0, ge=0, description="invoices the annual fee covers")
    per_invoice: Money | None = Field(default=None, ge=0, description="per invoice beyond those")
    red_counts_as_invoice: bool = Field(
        default=True, description="a red invoice is billed as an invoice too"
    )
    red_reversal: Money | None = Field(default=None, ge=0, description="extra per red reversal")
    sms: Money | None = Field(default=None, ge=0, description="per SMS delivery")
    email: Money | None = Field(default=None, ge=0, description="per e-mail delivery")
    notes: str | None = None


class PricingTable(_Strict):
    currency: str = "CNY"
    assumptions: Assumptions = Field(default_factory=Assumptions)
    providers: dict[str, PriceEntry] = Field(
        default_factory=dict, description="by profile name, or by provider name"
    )

    def entry_for(self, profile: str, provider: str) -> PriceEntry | None:
        return self.providers.get(profile) or self.providers.get(provider)


class CostBreakdown(_Strict):
    """Cost per 10,000 blue invoices at the assumed volumes, by component."""

    label: str | None
    annual_fee: Money
    invoices: Money
    red_reversals: Money
    sms: Money
    email: Money
    total: Money
    flags: tuple[str, ...] = ()

    def components(self) -> dict[str, Decimal]:
        return {
            "annual fee": self.annual_fee,
            "invoices": self.invoices,
            "red reversals": self.red_reversals,
            "SMS": self.sms,
            "e-mail": self.email,
        }


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cost_per_10k(
    entry: PriceEntry, assumptions: Assumptions, capabilities: Capabilities | None = None
) -> CostBreakdown:
    """Annual cost at the assumed volume, scaled to 10,000 blue invoices (cent, half-up)."""
    volume = Decimal(assumptions.invoices_per_year)
    reds = volume * assumptions.red_share
    flags: list[str] = []

    billable = volume + (reds if entry.red_counts_as_invoice else 0)
    beyond = max(Decimal(0), billable - entry.included_invoices)
    if entry.per_invoice is None:
        invoices = Decimal(0)
        if beyond > 0:
            flags.append("per-invoice price not quoted beyond the included invoices")
    else:
        invoices = beyond * entry.per_invoice
    annual = entry.annual_fee or Decimal(0)
    if entry.annual_fee is None and entry.per_invoice is None:
        flags.append("no annual fee and no per-invoice price quoted")

    red_extra = Decimal(0)
    if reds > 0:
        if entry.red_reversal is None:
            flags.append("red reversal charge not quoted: ask the vendor")
        else:
            red_extra = reds * entry.red_reversal

    def channel(
        name: str, channel: DeliveryChannel, share: Decimal, price: Decimal | None
    ) -> Decimal:
        if share == 0:
            return Decimal(0)
        if capabilities is not None and channel not in capabilities.delivery_channels:
            flags.append(f"{name} delivery not offered by this provider")
            return Decimal(0)
        if price is None:
            flags.append(f"{name} charge not quoted: ask the vendor")
            return Decimal(0)
        return volume * share * price

    sms = channel("SMS", DeliveryChannel.SMS, assumptions.sms_share, entry.sms)
    email = channel("e-mail", DeliveryChannel.EMAIL, assumptions.email_share, entry.email)
    scale = PER / volume
    parts = {
        "annual_fee": _cents(annual * scale),
        "invoices": _cents(invoices * scale),
        "red_reversals": _cents(red_extra * scale),
        "sms": _cents(sms * scale),
        "email": _cents(email * scale),
    }
    return CostBreakdown(
        label=entry.label, total=sum(parts.values(), Decimal(0)), flags=tuple(flags), **parts
    )


def load_pricing(path: str | Path) -> PricingTable:
    """Read a pricing TOML file; ``ConfigError`` names the file and the key that is wrong."""
    file = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise ConfigError(
            f"pricing file not found: {file}", message_zh=f"价格表文件不存在：{file}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file}: TOML syntax error: {exc}", message_zh=f"{file}：TOML 语法错误：{exc}"
        ) from None
    return pricing_from_mapping(data, label=str(file))


def pricing_from_mapping(data: Mapping[str, Any], *, label: str = "<pricing>") -> PricingTable:
    try:
        return PricingTable.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{label} [{where}]: {first['msg']}",
            message_zh=f"{label} [{where}]：取值无效：{first['msg']}",
            field=where,
        ) from None

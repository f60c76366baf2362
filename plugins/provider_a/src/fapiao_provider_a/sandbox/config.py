"""Sandbox configuration: the merchants (apps) it knows, timings, limits and faults.

The demo merchant's credentials are public on purpose (like the platform's own sandbox
account): ``DEMO_APP_KEY`` / ``DEMO_APP_SECRET`` for seller ``DEMO_TAX_ID``. A second
merchant, ``DEMO_BUYER``, is the usual buyer, so red confirmation forms raised by the
seller can be confirmed by the buyer through its own app.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from fapiao.sandboxkit import FaultConfig

__all__ = [
    "DEMO_APP_KEY",
    "DEMO_APP_SECRET",
    "DEMO_BUYER",
    "DEMO_MERCHANT",
    "DEMO_TAX_ID",
    "Merchant",
    "SandboxConfig",
]

DEMO_APP_KEY = "SD63236305"
DEMO_APP_SECRET = "SDDED2523BED4643"
DEMO_TAX_ID = "91330100MA2H3X5K73"


class Merchant(BaseModel):
    """One self-use app and the merchant (seller) it invoices for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_key: str
    app_secret: str
    tax_id: str
    name: str
    address: str = "浙江省杭州市西湖区示例大道100号"
    phone: str = "0571-88888888"
    bank: str = "示例银行杭州分行"
    account: str = "33001234567890123"
    credit_line: Decimal = Field(default=Decimal("10000000.00"), description="授信额度 (不含税)")


DEMO_MERCHANT = Merchant(
    app_key=DEMO_APP_KEY,
    app_secret=DEMO_APP_SECRET,
    tax_id=DEMO_TAX_ID,
    name="杭州示例数电科技有限公司",
)

DEMO_BUYER = Merchant(
    app_key="SD11223344",
    app_secret="SDBUYER0000SECRET",
    tax_id="91310000MA1FL8XQ37",
    name="上海示例信息技术有限公司",
    address="上海市浦东新区示例路1号",
    phone="021-12345678",
)


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchants: tuple[Merchant, ...] = (DEMO_MERCHANT, DEMO_BUYER)
    issue_delay_seconds: float = Field(
        default=0.05, ge=0, description="开票中 → 开票完成 after this long"
    )
    token_ttl_seconds: int = Field(default=86_400, ge=1)
    token_calls_per_30_days: int = Field(default=50, ge=1)
    timestamp_tolerance_seconds: int = Field(default=600, ge=1)
    requests_per_second: float | None = Field(default=None, gt=0, description="per app key")
    callbacks: bool = True
    callback_attempts: int = Field(default=4, ge=1, description="first try included")
    callback_backoff_seconds: float = Field(default=0.05, ge=0, description="doubles per retry")
    callback_reorder_hold_seconds: float = Field(
        default=0.05, ge=0, description="out_of_order_callbacks: how long one is held back"
    )
    faults: FaultConfig = Field(default_factory=FaultConfig)
    documents: bool = True

    def merchant_by_key(self, app_key: str) -> Merchant | None:
        return next((m for m in self.merchants if m.app_key == app_key), None)

"""Configuration of the Baiwang sandbox: who may call it, what the sellers are, its limits.

The defaults describe one documented demo app and one demo seller, so the sandbox answers a
client configured from the README without any setup.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from fapiao.sandboxkit import FaultConfig
from fapiao_provider_b.signing import PasswordDigest

__all__ = ["DEMO_APP", "DEMO_SELLER", "SandboxApp", "SandboxConfig", "SandboxSeller"]


class SandboxSeller(BaseModel):
    """A seller (销方) registered on the platform, with its 授信额度."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tax_no: str
    name: str
    address: str | None = None
    phone: str | None = None
    bank: str | None = None
    account: str | None = None
    credit_line: Decimal = Field(default=Decimal("10000000.00"), description="授信额度 (yuan)")


class SandboxApp(BaseModel):
    """An application (appKey/appSecret) and the platform user its tokens are issued to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app_key: str
    app_secret: str
    username: str
    password: str
    user_salt: str | None = None
    password_digest: PasswordDigest = "sha256"
    tax_nos: frozenset[str] = Field(description="sellers this app may act for")


DEMO_SELLER = SandboxSeller(
    tax_no="91110108MA01BW000C",
    name="北京百望示例科技有限公司",
    address="北京市海淀区示例路8号",
    phone="010-88886666",
    bank="示例银行北京海淀支行",
    account="11001234567890123",
)

DEMO_APP = SandboxApp(
    app_key="10001234",
    app_secret="bw-sandbox-secret-7f3c9a2e51d84b6f",
    username="sandbox_admin",
    password="Sandbox#2026",
    user_salt="5a1t5a1t5a1t",
    tax_nos=frozenset({DEMO_SELLER.tax_no}),
)


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sellers: tuple[SandboxSeller, ...] = (DEMO_SELLER,)
    apps: tuple[SandboxApp, ...] = (DEMO_APP,)
    token_ttl_seconds: int = Field(default=8 * 3600, ge=1, description="access token life")
    refresh_ttl_seconds: int = Field(default=30 * 86400, ge=1, description="refresh token life")
    token_grants_per_minute: int = Field(
        default=60, ge=1, description="token calls an app may make per minute (then 100012)"
    )
    timestamp_window_seconds: int = Field(
        default=600, ge=1, description="accepted clock skew of the timestamp parameter"
    )
    rate_limit_per_second: float | None = Field(
        default=None, gt=0, description="business calls per app per second (then 100008)"
    )
    max_lines: int = Field(default=200, ge=1, description="明细行 per invoice")
    max_query_batch: int = Field(default=20, ge=1, description="serialNos per query")
    max_serial_length: int = Field(default=50, ge=1, description="length of serialNo")
    confirm_hours: int = Field(default=72, ge=1, description="红字确认单 confirmation window")
    unregistered_taxpayers: frozenset[str] = Field(
        default=frozenset({"91440300MA5FBW001R"}),
        description="well-formed buyer tax IDs the tax system does not know (→ 70101)",
    )
    region_code: str = Field(default="11", pattern=r"^\d{2}$", description="invoice numbers")
    faults: FaultConfig = FaultConfig()

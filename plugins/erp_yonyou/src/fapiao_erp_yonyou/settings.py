"""Settings of the Yonyou connector: the self-built app's credentials, the tenant's data-center
domain, which YonBIP document feeds invoices, and the mapping tables a tenant supplies."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from fapiao.sdk import ConnectorSettings, Environment, InvoiceKind, RedReason

__all__ = ["SellerOrg", "YonyouSettings"]

DocumentType = Literal["saleinvoice", "saleorder"]


class SellerOrg(BaseModel):
    """The seller behind one YonBIP invoicing organisation (开票组织 ``orgId``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    tax_id: str = Field(min_length=15, max_length=20)
    address: str | None = None
    phone: str | None = None
    bank: str | None = None
    account: str | None = None


# YonBIP sales-invoice ``invoiceType`` codes (销售发票列表查询 / 详情查询, 2025-2026 docs) for which a
# 数电票 kind is obvious; the paper and legacy codes are refused unless the tenant maps them.
_DEFAULT_KINDS: dict[str, InvoiceKind] = {
    "1": InvoiceKind.SPECIAL,  # 增值税专用发票
    "9": InvoiceKind.SPECIAL,  # 增值税电子专用发票
    "10": InvoiceKind.SPECIAL,  # 电子发票（增值税专用发票）
    "2": InvoiceKind.NORMAL,  # 增值税普通发票
    "3": InvoiceKind.NORMAL,  # 增值税电子普通发票
    "11": InvoiceKind.NORMAL,  # 电子发票（普通发票）
}

# ``redType`` (红冲类型) values are not enumerated by the public docs; this default is inferred
# and every tenant can override it.
_DEFAULT_RED_REASONS: dict[str, RedReason] = {
    "1": RedReason.INVOICING_ERROR,
    "2": RedReason.SALES_RETURN,
    "3": RedReason.SERVICE_SUSPENSION,
    "4": RedReason.SALES_ALLOWANCE,
}


class YonyouSettings(ConnectorSettings):
    """``base_url`` is the tenant's data-center domain (获取租户所在数据中心域名), e.g.
    ``https://c2.yonyoucloud.com``; token and gateway paths hang below it."""

    base_urls: ClassVar[dict[Environment, str]] = {
        Environment.PRODUCTION: "https://api.diwork.com",
    }

    app_key: str = Field(min_length=1, description="自建应用 appKey")
    app_secret: SecretStr = Field(description="自建应用 appSecret")
    token_path: str = "/iuap-api-auth/open-auth/selfAppAuth/getAccessToken"
    gateway_prefix: str = "/iuap-api-gateway"
    token_refresh_margin_seconds: int = Field(default=120, ge=0, le=3600)

    document: DocumentType = Field(
        default="saleinvoice",
        description="saleinvoice: 销售发票 (one tax invoice per sales invoice); saleorder: 销售订单",
    )
    writeback_path: str | None = Field(
        default=None,
        description="override the write-back API (default per document type, see README)",
    )

    sellers: dict[str, SellerOrg] = Field(
        default_factory=dict, description="开票组织 orgId (or orgName) -> seller"
    )
    tax_codes: dict[str, str] = Field(
        default_factory=dict, description="productCode -> 19-digit 税收分类编码"
    )
    tax_code_file: Path | None = Field(
        default=None, description="CSV (productCode,tax_code) or TOML [tax_codes] table"
    )
    invoice_kinds: dict[str, InvoiceKind] = Field(default_factory=lambda: dict(_DEFAULT_KINDS))
    default_kind: InvoiceKind | None = Field(
        default=None, description="kind for documents without a mapped invoiceType (orders)"
    )
    red_reasons: dict[str, RedReason] = Field(default_factory=lambda: dict(_DEFAULT_RED_REASONS))
    amounts: Literal["gross", "net"] = Field(
        default="gross",
        description="gross: map 含税 oriSum (YonBIP keeps 无税 amounts to 8 decimals); net: oriMoney",
    )
    issuer: str | None = Field(default=None, max_length=20, description="开票人")

    @field_validator("token_path", "gateway_prefix", "writeback_path")
    @classmethod
    def _leading_slash(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return value
        return value if value.startswith("/") else "/" + value

    def product_tax_codes(self) -> dict[str, str]:
        """The product → tax classification code table, inline entries winning over the file."""
        table: dict[str, str] = {}
        if self.tax_code_file is not None:
            table.update(_read_tax_code_file(self.tax_code_file))
        table.update(self.tax_codes)
        return table


def _read_tax_code_file(path: Path) -> dict[str, str]:
    if path.suffix.lower() == ".toml":
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        table = data.get("tax_codes", data)
        return {str(k): str(v) for k, v in table.items()}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(line for line in handle if line.strip() and not line.startswith("#"))
        result: dict[str, str] = {}
        for row in rows:
            if len(row) < 2 or row[0].strip().lower() in {"productcode", "product_code"}:
                continue
            result[row[0].strip()] = row[1].strip()
        return result

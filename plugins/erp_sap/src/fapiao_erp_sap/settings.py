"""Settings of the SAP connector: where the OData services live, how to log on, who sells.

SAP routes nothing by tax ID, so the seller of a billing document is found from its
``CompanyCode`` (falling back to ``SalesOrganization``) in :attr:`SapSettings.sellers`; the
engine then routes by that seller's tax ID like any other request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from fapiao.sdk import ConfigError, ConnectorSettings, InvoiceKind, RedReason

__all__ = ["SapSettings", "SellerProfile"]


class SellerProfile(BaseModel):
    """The 销售方 printed on invoices of one company code (a legal entity in SAP)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tax_id: str = Field(description="统一社会信用代码 of the company code's legal entity")
    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)
    bank: str | None = Field(default=None, max_length=100)
    account: str | None = Field(default=None, max_length=60)


class SapSettings(ConnectorSettings):
    """``base_url`` is the host root (``https://my-s4.example.com``); service paths are SAP's."""

    billing_service_path: str = "/sap/opu/odata/sap/API_BILLING_DOCUMENT_SRV"
    business_partner_service_path: str = "/sap/opu/odata/sap/API_BUSINESS_PARTNER"
    writeback_service_path: str = Field(
        default="/sap/opu/odata/sap/ZFAPIAO_INVOICE_SRV",
        description="the customer's own OData service holding fapiao results (see README)",
    )
    sap_client: str | None = Field(
        default=None, pattern=r"^\d{3}$", description="sap-client query parameter, e.g. 100"
    )
    language: str | None = Field(default=None, description="sap-language, e.g. ZH or EN")

    auth: Literal["basic", "oauth"] = "basic"
    username: str | None = None
    password: SecretStr | None = None
    token_url: str | None = Field(
        default=None, description="OAuth 2.0 token endpoint (client credentials grant)"
    )
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scope: str | None = None

    sellers: dict[str, SellerProfile] = Field(
        default_factory=dict,
        description="CompanyCode (or SalesOrganization) -> seller; routing uses its tax_id",
    )
    material_mapping: Path = Field(
        description="TOML or CSV file: Material -> 19-digit tax classification code"
    )
    invoice_billing_types: tuple[str, ...] = Field(
        default=("F2",), description="billing types issued as blue invoices"
    )
    cancellation_billing_types: tuple[str, ...] = Field(
        default=("S1",), description="cancellations: full red reversal of CancelledBillingDocument"
    )
    credit_memo_billing_types: tuple[str, ...] = Field(
        default=("G2",), description="credit memos: red reversal of the referenced invoice items"
    )
    default_kind: InvoiceKind = InvoiceKind.SPECIAL
    kind_by_billing_type: dict[str, InvoiceKind] = Field(default_factory=dict)
    kind_by_customer: dict[str, InvoiceKind] = Field(
        default_factory=dict, description="customer number -> kind; beats the billing type"
    )
    buyer_partner_functions: tuple[str, ...] = Field(
        default=("RE", "RG", "AG"), description="partner functions tried for the buyer, in order"
    )
    buyer_tax_types: tuple[str, ...] = Field(
        default=("CN5", "CN0", "CN1"),
        description="BP tax number categories holding the Chinese tax number, in order",
    )
    credit_memo_reason: RedReason = RedReason.SALES_ALLOWANCE
    reason_by_order_reason: dict[str, RedReason] = Field(
        default_factory=dict, description="SDDocumentReason (order reason) -> 红冲原因"
    )
    order_id_prefix: str = Field(
        default="", max_length=20, description="prefixed to BillingDocument to form order_id"
    )

    @model_validator(mode="after")
    def _credentials_present(self) -> SapSettings:
        missing = self.missing_credentials()
        if missing:
            listed = (
                ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
            )
            raise ValueError(f"auth {self.auth!r} needs {listed}")
        return self

    def missing_credentials(self) -> list[str]:
        """The settings ``auth`` needs that are not set (empty when the log-on is complete)."""
        if self.auth == "basic":
            wanted = {"username": self.username, "password": self.password}
        else:
            wanted = {
                "token_url": self.token_url,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        return [name for name, value in wanted.items() if value is None or value == ""]

    def basic_credentials(self) -> tuple[str, str]:
        """(username, password) for ``auth = "basic"``."""
        if self.username and self.password is not None:
            return self.username, self.password.get_secret_value()
        raise self._incomplete()

    def oauth_credentials(self) -> tuple[str, str, str]:
        """(token_url, client_id, client_secret) for ``auth = "oauth"``."""
        if self.token_url and self.client_id and self.client_secret is not None:
            return self.token_url, self.client_id, self.client_secret.get_secret_value()
        raise self._incomplete()

    def _incomplete(self) -> ConfigError:
        # The validator refuses incomplete settings already; this guards settings built without
        # validation (model_construct), and unlike an assert it survives ``python -O``.
        names = ", ".join(f"connectors.sap.{name}" for name in self.missing_credentials())
        return ConfigError(
            f"SAP connector: auth {self.auth!r} needs the settings {names}",
            message_zh=f"SAP 连接器：认证方式 {self.auth} 须配置 {names}",
            field=names.split(", ")[0],
        )

    def seller_for(self, company_code: str | None, sales_org: str | None) -> SellerProfile | None:
        for key in (company_code, sales_org):
            if key and key in self.sellers:
                return self.sellers[key]
        return None

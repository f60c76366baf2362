"""Settings of one Nuonuo profile: the app's credentials, the merchant, the environment.

The platform has two kinds of application: a 自用型 (merchant's own) app gets its token with
``client_credentials``; a 第三方 (ISV) app acts for merchants who authorised it, with an
``authorization_code`` exchanged once and then ``refresh_token``. Tokens live 24 h and the
token endpoint allows about 50 calls per 30 days, so a token is cached, and a persisted one
can be handed in (``access_token``) to avoid any token call at all.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr

from fapiao.sdk import Environment, ProviderSettings
from fapiao_provider_a.protocol import TOKEN_PATH

__all__ = ["NuonuoSettings"]

TOKEN_URL = "https://open.nuonuo.com" + TOKEN_PATH
"""The platform's token endpoint, the same for its sandbox and production gateways."""


class NuonuoSettings(ProviderSettings):
    base_urls: ClassVar[dict[Environment, str]] = {
        Environment.SANDBOX: "https://sandbox.nuonuocs.cn",
        Environment.PRODUCTION: "https://sdk.nuonuo.com",
    }

    app_key: str = Field(min_length=1, max_length=64, description="appKey 应用标识")
    app_secret: SecretStr = Field(description="appSecret 应用密钥")
    user_tax: str = Field(
        min_length=15, max_length=20, description="userTax 授权商户税号 (the seller's tax ID)"
    )
    grant: Literal["client_credentials", "authorization_code"] = Field(
        default="client_credentials",
        description="自用型应用: client_credentials; 第三方应用 (ISV): authorization_code",
    )
    access_token: SecretStr | None = Field(
        default=None, description="a persisted token: used as is, no token call until it fails"
    )
    authorization_code: SecretStr | None = Field(
        default=None, description="ISV: the one-use code the merchant's authorisation returned"
    )
    refresh_token: SecretStr | None = Field(default=None, description="ISV: refresh token")
    isv_user_id: str | None = Field(
        default=None, description="ISV: the authorised user's userId (client_id when refreshing)"
    )
    redirect_uri: str | None = Field(default=None, description="ISV: the registered redirect URI")
    token_url: str | None = Field(
        default=None,
        description="token endpoint; defaults to the platform's, or {base_url}/accessToken "
        "when base_url is overridden (a sandbox)",
    )
    token_calls_per_30_days: int = Field(
        default=50, ge=1, description="the platform's token call quota, enforced client-side"
    )
    extension_number: str | None = Field(
        default=None, max_length=5, description="分机号 of the merchant's invoicing terminal"
    )
    clerk: str = Field(
        default="开票员",
        max_length=20,
        description="开票员: for 数电 the name of the drawer logged in at the tax bureau",
    )
    callback_max_age_seconds: int = Field(
        default=300, ge=10, le=86_400, description="refuse callbacks signed longer ago than this"
    )

    def resolved_token_url(self) -> str:
        if self.token_url:
            return self.token_url
        if self.base_url:
            return self.resolved_base_url() + TOKEN_PATH
        return TOKEN_URL

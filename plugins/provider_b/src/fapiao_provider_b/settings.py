"""Settings of a Baiwang profile: the app's credentials, the platform user, the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from fapiao.sdk import DocumentFormat, Environment, ProviderSettings
from fapiao_provider_b.signing import PasswordDigest

__all__ = ["BaiwangSettings"]


class BaiwangSettings(ProviderSettings):
    """One Baiwang application (appKey) acting for one platform user.

    Baiwang issues tokens to a *user* of an app (OAuth password grant), not to the app alone,
    so both pairs of credentials are needed; secrets are ``SecretStr`` and scrubbed from logs.
    """

    base_urls: ClassVar[dict[Environment, str]] = {
        Environment.SANDBOX: "https://sandbox-openapi.baiwang.com",
        Environment.PRODUCTION: "https://openapi.baiwang.com",
    }

    app_key: str = Field(min_length=1, description="appKey / client_id of the application")
    app_secret: SecretStr = Field(description="appSecret / client_secret: signs every call")
    username: str = Field(min_length=1, description="platform user the token is issued to")
    password: SecretStr = Field(description="that user's password (sent only as a digest)")
    user_salt: SecretStr | None = Field(default=None, description="盐值 from the console")
    password_digest: PasswordDigest = Field(
        default="sha256", description="sha256(password+salt) or legacy sha1(md5(password+salt))"
    )
    org_auth_code: SecretStr | None = Field(
        default=None, description="orgAuthCode: only for third-party (ISV) applications"
    )
    invoice_terminal_code: str | None = Field(
        default=None, max_length=30, description="开票点编码, when the seller has several"
    )
    token_refresh_margin_seconds: int = Field(
        default=300, ge=0, le=3600, description="refresh the token this long before it expires"
    )
    documents_on_issue: frozenset[DocumentFormat] = Field(
        default=frozenset(),
        description="formats the platform should return inline with the issue answer "
        "(formatGenerate); empty keeps issuance lean and fetches files on demand",
    )
    api_path: str = Field(default="/router/rest", description="the platform's single route")

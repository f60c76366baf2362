"""Typed settings for plugins: credentials, environment profiles, limits.

Secrets are ``SecretStr`` so they never print; :meth:`PluginSettings.secret_values` lists
them so the transport and ``scrub`` can remove them from any log or transcript.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from fapiao.models.enums import Environment

__all__ = ["ConnectorSettings", "PluginSettings", "ProviderSettings"]


class PluginSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_urls: ClassVar[dict[Environment, str]] = {}

    environment: Environment = Environment.SANDBOX
    base_url: str | None = Field(
        default=None, description="override the environment's default base URL (e.g. a sandbox)"
    )
    timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    max_connections: int = Field(default=32, ge=1, le=1000)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    verify_tls: bool | str = Field(
        default=True, description="False, or a CA bundle path (for a self-signed sandbox)"
    )

    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        try:
            return self.base_urls[self.environment].rstrip("/")
        except KeyError:
            raise ValueError(
                f"no base URL for environment {self.environment.value!r}; set base_url"
            ) from None

    def secret_values(self) -> list[str]:
        """Every secret held by these settings, in clear, for scrubbing only."""
        found: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                secret = value.get_secret_value()
                if secret:
                    found.append(secret)
        return found


class ProviderSettings(PluginSettings):
    """Base for provider settings; plugins add their credentials as ``SecretStr`` fields."""

    callback_url: str | None = Field(default=None, description="where the provider posts status")
    strict_features: bool = Field(
        default=True,
        description="refuse canonical fields the provider cannot honour (False: drop them)",
    )


class ConnectorSettings(PluginSettings):
    """Base for ERP connector settings."""

    page_size: int = Field(default=100, ge=1, le=5000)

"""What every plugin base shares: typed settings, a scrubber fed with their secrets, the one
shared HTTP client, and closing it.

Why a module of its own: a provider (``ProviderBase``) and an ERP connector (``ConnectorBase``)
talk to their remote system the same way — through ``fapiao.transport`` with the profile's
base URL, timeout, connection limit, rate limit and TLS verification, every log line scrubbed —
so that set-up is written once here and both bases inherit it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar

from fapiao.contract.settings import PluginSettings
from fapiao.masking import Scrubber
from fapiao.transport import HttpClientFactory, ProviderHttp

__all__ = ["PluginBase"]

SettingsT = TypeVar("SettingsT", bound=PluginSettings)


class PluginBase(Generic[SettingsT]):
    """Holds ``settings``, ``scrubber``, ``http_factory`` and ``http`` (the shared client)."""

    name: ClassVar[str] = ""

    def __init__(self, settings: SettingsT, *, http: HttpClientFactory | None = None) -> None:
        self.settings = settings
        self.scrubber = Scrubber(secrets=settings.secret_values())
        self.http_factory = http or HttpClientFactory()
        self.http: ProviderHttp = self.http_factory.create(
            provider=self.name,
            base_url=settings.resolved_base_url(),
            timeout=settings.timeout_seconds,
            max_connections=settings.max_connections,
            rate_limit_per_second=self.http_rate_limit(),
            verify=settings.verify_tls,
            scrub=self.scrub,
        )

    def http_rate_limit(self) -> float | None:
        """Requests per second the shared client allows: the profile's own limit.

        ``ProviderBase`` falls back to the provider's declared limit."""
        return self.settings.rate_limit_per_second

    def scrub(self, transcript: str) -> str:
        """Remove secrets, tokens, tax IDs and phone numbers from a wire transcript.

        Plugins extend this for their own wire format (header names, JSON keys)."""
        return self.scrubber.scrub(transcript)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

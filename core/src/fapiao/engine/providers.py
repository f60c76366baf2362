"""Provider instances per profile, built from config through plugin discovery.

Why a pool: every profile's settings are resolved and validated at start-up (a bad config,
missing secret or unknown provider stops the program before any request), but the plugin
objects — which open HTTP connection pools bound to an event loop — are created on first
use, inside the loop that uses them. Every provider's scrubber receives every secret value
of the whole config, so no plugin can log another profile's secret either.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterable
from typing import Any

from fapiao.contract.capabilities import Capabilities
from fapiao.contract.provider import Provider
from fapiao.errors import ConfigError, SecretError
from fapiao.masking import Scrubber
from fapiao.transport import HttpClientFactory, scrub_library_logs

from .config import (
    FapiaoConfig,
    ResolvedProfile,
    config_error_from,
    open_secret_store,
    resolve_profiles,
)

__all__ = ["DEFAULT_VISIBILITY_SECONDS", "ProviderPool"]

DEFAULT_VISIBILITY_SECONDS = 60.0
"""How long an accepted order may stay invisible to a query, when the provider declares
nothing (``Capabilities.order_visibility_seconds``) and the profile doesn't override it."""


class ProviderPool:
    def __init__(
        self,
        profiles: dict[str, ResolvedProfile],
        *,
        http_factory: HttpClientFactory | None = None,
        extra_secrets: Iterable[str] = (),
    ) -> None:
        self.profiles = profiles
        self.http_factory = http_factory
        self._instances: dict[str, Any] = {}
        secrets: list[str] = list(extra_secrets)
        for profile in profiles.values():
            secrets.extend(profile.secret_values)
        self.scrubber = Scrubber(secrets)
        self._all_secrets = tuple(dict.fromkeys(s for s in secrets if s))
        scrub_library_logs(self._all_secrets)

    @classmethod
    def from_config(
        cls,
        config: FapiaoConfig,
        *,
        registry: Any = None,
        secrets: Any = None,
        http_factory: HttpClientFactory | None = None,
    ) -> ProviderPool:
        """Resolve every profile now; ``ConfigError`` (file and key named) on any problem."""
        resolved, problems = resolve_profiles(config, registry=registry, secrets=secrets)
        errors = [p for p in problems if not p.warning]
        if errors:
            raise config_error_from(errors)
        extra: list[str] = []
        if secrets is not None:
            extra.extend(secrets.values())
        elif config.secrets_path().exists():
            # every value of the store, referenced or not, is scrubbed everywhere
            with contextlib.suppress(SecretError):
                extra.extend(open_secret_store(config).values())
        return cls(resolved, http_factory=http_factory, extra_secrets=extra)

    def profile(self, name: str) -> ResolvedProfile:
        try:
            return self.profiles[name]
        except KeyError:
            raise ConfigError(
                f"no provider profile {name!r}", message_zh=f"未定义配置档 {name!r}"
            ) from None

    def provider_name(self, profile: str) -> str:
        return self.profile(profile).provider_name

    def capabilities(self, profile: str) -> Capabilities:
        """Declared capabilities without instantiating the plugin when the class has them."""
        instance = self._instances.get(profile)
        if instance is not None:
            caps: Capabilities = instance.capabilities
            return caps
        declared = getattr(self.profile(profile).plugin, "default_capabilities", None)
        if isinstance(declared, Capabilities):
            return declared
        return self.get(profile).capabilities

    def visibility_seconds(self, profile: str) -> float:
        """How long after sending a query may still not see an accepted order."""
        override = self.profile(profile).config.limits.resubmit_after_seconds
        if override is not None:
            return override
        declared = getattr(self.capabilities(profile), "order_visibility_seconds", None)
        return float(declared) if declared is not None else DEFAULT_VISIBILITY_SECONDS

    def get(self, profile: str) -> Provider:
        """The plugin instance of ``profile`` (created on first use)."""
        instance = self._instances.get(profile)
        if instance is None:
            resolved = self.profile(profile)
            kwargs: dict[str, Any] = {}
            if self.http_factory is not None and _accepts(resolved.plugin, "http"):
                kwargs["http"] = self.http_factory
            instance = resolved.plugin(resolved.settings, **kwargs)
            scrubber = getattr(instance, "scrubber", None)
            if isinstance(scrubber, Scrubber):
                scrubber.add(self._all_secrets)
            self._instances[profile] = instance
        provider: Provider = instance
        return provider

    def scrub(self, text: str) -> str:
        return self.scrubber.scrub(text)

    async def aclose(self) -> None:
        instances, self._instances = list(self._instances.values()), {}
        for instance in instances:
            await instance.aclose()


def _accepts(factory: Any, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False

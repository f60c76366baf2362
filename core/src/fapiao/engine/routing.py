"""Routing: which provider profile serves a seller (subsidiary).

Provider selection is configuration, not code and not a hook: business code hands over an
invoice whose seller tax ID decides the profile, so moving a subsidiary to another vendor
is one line under ``[routing]`` and no business code changes.
"""

from __future__ import annotations

from fapiao.errors import ConfigError
from fapiao.masking import mask_tax_id

from .config import FapiaoConfig

__all__ = ["Router"]


class Router:
    def __init__(self, config: FapiaoConfig) -> None:
        self._routes = dict(config.routing)
        self._file = config.file_label

    def profile_for(self, seller_tax_id: str | None) -> str:
        """The profile name for ``seller_tax_id``; ``ConfigError`` (tax ID masked) if unrouted."""
        if seller_tax_id is not None:
            profile = self._routes.get(seller_tax_id)
            if profile is not None:
                return profile
        masked = mask_tax_id(seller_tax_id) if seller_tax_id else "(none)"
        raise ConfigError(
            f"no provider profile is routed for seller {masked}; add it under [routing] "
            f"in {self._file}",
            message_zh=f"销方 {masked} 未配置路由：请在 {self._file} 的 [routing] 中添加",
            field="seller.tax_id",
        )

    def sellers(self, profile: str | None = None) -> list[str]:
        """Routed seller tax IDs (of one profile when given)."""
        return sorted(t for t, p in self._routes.items() if profile is None or p == profile)

    @property
    def profiles(self) -> set[str]:
        return set(self._routes.values())

"""Shared fixtures for the engine tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import pytest
from pydantic import SecretStr

from fapiao.contract import Capabilities, ProviderInfo, ProviderSettings
from fapiao.models import Environment, Operation
from fapiao.plugins import LoadedPlugin, PluginRegistry
from fapiao.rules import uscc_check_char
from fapiao.sdk import ProviderBase


def make_tax_id(n: int, region: str = "913100") -> str:
    """A valid USCC (GB 32100-2015 check character) that differs by ``n``."""
    body = f"{region}{n:011d}"[:17]
    return body + uscc_check_char(body)


@pytest.fixture
def tax_id() -> Callable[..., str]:
    return make_tax_id


class DemoSettings(ProviderSettings):
    base_urls: ClassVar[dict[Environment, str]] = {
        Environment.SANDBOX: "http://127.0.0.1:9/",
        Environment.PRODUCTION: "https://demo.invalid/",
    }
    app_key: str
    app_secret: SecretStr
    token: SecretStr | None = None


class DemoProvider(ProviderBase[DemoSettings]):
    """A provider class used only where no network is involved (config resolution)."""

    name = "demo"
    info = ProviderInfo(display_name="Demo")
    settings_model = DemoSettings
    default_capabilities = Capabilities(
        operations=frozenset({Operation.ISSUE, Operation.QUERY}),
        issuance="sync",
        status_updates="polling",
        order_visibility_seconds=5,
    )


@pytest.fixture
def demo_registry() -> PluginRegistry:
    registry = PluginRegistry()
    registry.providers["demo"] = LoadedPlugin("provider", "demo", DemoProvider, None, None)
    return registry

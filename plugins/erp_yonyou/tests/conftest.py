"""Fixtures: a real YonBIP simulator on loopback and connector settings pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from fapiao.sandboxkit import serve
from fapiao.sandboxkit.server import RunningServer
from fapiao_erp_yonyou import YonyouConnector, YonyouSettings
from fapiao_erp_yonyou.simulator import SimulatorConfig, YonyouSimulator
from fapiao_erp_yonyou.simulator.data import PRODUCT_TAX_CODES, SELLER_ORGS


@pytest.fixture
def simulator() -> YonyouSimulator:
    return YonyouSimulator(SimulatorConfig())


@pytest.fixture
def server(simulator: YonyouSimulator) -> Iterator[RunningServer]:
    with serve(simulator.app) as running:
        yield running


def make_settings(base_url: str, **overrides: Any) -> YonyouSettings:
    values: dict[str, Any] = {
        "base_url": base_url,
        "app_key": SimulatorConfig.app_key,
        "app_secret": SimulatorConfig.app_secret,
        "sellers": SELLER_ORGS,
        "tax_codes": PRODUCT_TAX_CODES,
        "page_size": 3,
        "timeout_seconds": 5,
    }
    values.update(overrides)
    return YonyouSettings.model_validate(values)


@pytest.fixture
def settings(server: RunningServer) -> YonyouSettings:
    return make_settings(server.base_url)


@pytest.fixture
async def connector(settings: YonyouSettings) -> AsyncIterator[YonyouConnector]:
    conn = YonyouConnector(settings)
    try:
        yield conn
    finally:
        await conn.aclose()

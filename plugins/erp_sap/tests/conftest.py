"""Fixtures: a simulator on loopback per test, with the material mapping it ships."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fapiao.sandboxkit import serve
from fapiao.sandboxkit.server import RunningServer
from fapiao_erp_sap.settings import SapSettings
from fapiao_erp_sap.simulator import (
    SapData,
    SapSimulator,
    create_app,
    example_settings,
    mapping_file,
)

USER = "FAPIAO_COMM"
PASSWORD = "Sim-Passw0rd!"
APPLES = "1010115010100000000"  # 苹果: 9 %
COMPUTER = "1090509010000000000"  # 电子计算机整机: 13 %


@pytest.fixture
def sim() -> SapSimulator:
    return SapSimulator(data=SapData(seed=7, invoices=24), page_size=5)


@pytest.fixture
def server(sim: SapSimulator) -> Iterator[RunningServer]:
    with serve(create_app(sim)) as running:
        yield running


@pytest.fixture
def mapping() -> Path:
    """The mapping shipped with the simulator (every material but TG99-PROTO)."""
    return mapping_file()


@pytest.fixture
def settings(server: RunningServer, sim: SapSimulator, mapping: Path) -> SapSettings:
    return example_settings(server.base_url, sim, material_mapping=mapping, page_size=4)

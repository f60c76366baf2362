"""Fixtures: a simulator on loopback per test, and a material mapping that only uses tax
classification codes from the national table shipped with core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fapiao.sandboxkit import serve
from fapiao.sandboxkit.server import RunningServer
from fapiao_erp_sap.settings import SapSettings
from fapiao_erp_sap.simulator import MATERIALS, SapData, SapSimulator, create_app, example_settings

USER = "FAPIAO_COMM"
PASSWORD = "Sim-Passw0rd!"
APPLES = "1010115010100000000"  # 苹果: 9 %
SPROUTS = "1010112140000000000"  # 绿豆芽等芽苗菜: 13 % or 9 %
GOODS = tuple(m for m in MATERIALS if not m.number.startswith("SRV"))


@pytest.fixture
def sim() -> SapSimulator:
    return SapSimulator(data=SapData(seed=7, invoices=24, catalogue=GOODS), page_size=5)


@pytest.fixture
def server(sim: SapSimulator) -> Iterator[RunningServer]:
    with serve(create_app(sim)) as running:
        yield running


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    """Every simulator material but TG99-PROTO mapped, with codes whose rates match SAP's tax
    conditions (codes taken from the part of the national table that core ships today)."""
    path = tmp_path / "materials.toml"
    rows = [
        ("TG11-LAPTOP", "笔记本电脑", "台"),
        ("TG12-PRINTER", "票据打印机", "台"),
        ("TG13-CABLE", "数据线", None),
        ("SRV-IMPL", "软件实施服务", "小时"),
        ("SRV-SUPPORT", "软件年度维护服务", "年"),
        ("FR-APPLE-5KG", "富士苹果", None),
    ]
    text = ""
    for material, name, unit in rows:
        code = APPLES if material.startswith("FR") else SPROUTS
        text += f'[materials."{material}"]\ntax_code = "{code}"\nname = "{name}"\n'
        text += f'unit = "{unit}"\n\n' if unit else "\n"
    text += '[units]\nEA = "个"\nPC = "件"\nBOX = "箱"\n'
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def settings(server: RunningServer, sim: SapSimulator, mapping: Path) -> SapSettings:
    return example_settings(server.base_url, sim, material_mapping=mapping, page_size=4)

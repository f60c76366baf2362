"""A faithful OData v2 simulator of the SAP S/4HANA APIs the connector uses.

``create_app(SapSimulator(...))`` gives an ASGI app; ``python -m fapiao_erp_sap.simulator
--port N`` serves it. :func:`example_settings` builds connector settings that match the
simulator's data (sellers per company code, the shipped material mapping, credentials).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fapiao_erp_sap.settings import SapSettings
from fapiao_erp_sap.simulator.app import SapSimulator, create_app
from fapiao_erp_sap.simulator.data import CUSTOMERS, MATERIALS, SELLERS, SapData

__all__ = [
    "CUSTOMERS",
    "MATERIALS",
    "SELLERS",
    "SapData",
    "SapSimulator",
    "create_app",
    "example_settings",
    "mapping_file",
]


def mapping_file() -> Path:
    """The material mapping (TOML) that covers the simulator's materials but one."""
    return Path(str(resources.files("fapiao_erp_sap.simulator").joinpath("materials.toml")))


def example_settings(
    base_url: str, sim: SapSimulator | None = None, **overrides: Any
) -> SapSettings:
    """Connector settings for a running simulator (basic auth unless overridden)."""
    sim = sim or SapSimulator()
    user, password = next(iter(sim.users.items()))
    values: dict[str, Any] = {
        "base_url": base_url,
        "auth": "basic",
        "username": user,
        "password": password,
        "sap_client": sim.client,
        "sellers": SELLERS,
        "material_mapping": mapping_file(),
    }
    values.update(overrides)
    return SapSettings.model_validate(values)

"""The testing kit for plugin authors: fixtures, servers on loopback and the conformance suite.

``ConformanceHarness`` and ``CallbackReceiver`` are what a plugin's ``conftest.py`` needs;
``fapiao.testing.conformance.ProviderConformance`` is the suite (see its module docstring).
Names resolve lazily so that the pytest plugin, loaded by every test run, stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fapiao.testing.harness import (
        BadInput,
        CallbackReceiver,
        CapturedRequest,
        ConformanceHarness,
        ProviderFactory,
    )
    from fapiao.testing.samples import DEFAULT_BUYER, new_order_id, sample_invoices

__all__ = [
    "DEFAULT_BUYER",
    "BadInput",
    "CallbackReceiver",
    "CapturedRequest",
    "ConformanceHarness",
    "ProviderFactory",
    "new_order_id",
    "sample_invoices",
]

_WHERE = {
    "BadInput": "harness",
    "CallbackReceiver": "harness",
    "CapturedRequest": "harness",
    "ConformanceHarness": "harness",
    "ProviderFactory": "harness",
    "DEFAULT_BUYER": "samples",
    "new_order_id": "samples",
    "sample_invoices": "samples",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'fapiao.testing' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"fapiao.testing.{module}"), name)

"""What every sandbox business handler shares: the authenticated call.

A handler takes a :class:`Call` (the merchant the gateway authenticated, the JSON body) and
returns the ``result`` of an ``E0000`` answer, or raises
:class:`~fapiao_provider_a.sandbox.state.PlatformError` (answered with its code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fapiao_provider_a.sandbox.config import Merchant
from fapiao_provider_a.sandbox.state import SandboxState

__all__ = ["Call"]


@dataclass(frozen=True)
class Call:
    """One authenticated service call."""

    state: SandboxState
    merchant: Merchant
    payload: Mapping[str, Any]
    base_url: str
    """Where this server was reached: the document URLs it hands out point there."""

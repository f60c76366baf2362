"""How tools find a provider's sandbox without importing the plugin by name.

The demo, ``fapiao compare`` and ``fapiao selftest`` run against each provider's own sandbox.
Core never imports a plugin, so a plugin advertises a starter in the entry-point group
``fapiao.sandboxes`` under the same name as its provider; the starter is a context manager
factory yielding a :class:`RunningSandbox`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["SANDBOX_GROUP", "RunningSandbox", "SandboxOptions", "SandboxStarter"]

SANDBOX_GROUP = "fapiao.sandboxes"


@dataclass(frozen=True)
class SandboxOptions:
    """What a tool may ask of a sandbox when it starts it."""

    tls: bool = False
    issue_delay_seconds: float = 0.05
    faults: Mapping[str, Any] = field(default_factory=dict)  # FaultConfig fields
    seller_tax_ids: tuple[str, ...] = ()  # extra merchants to register, if supported


@dataclass(frozen=True)
class RunningSandbox:
    """A started sandbox and what a profile needs to talk to it."""

    provider: str
    base_url: str
    settings: Mapping[str, Any]  # plugin settings (credentials in clear: sandbox demo values)
    seller_tax_ids: tuple[str, ...]
    ca_file: str | None = None
    admin: Any = None  # plugin-specific control (faults, clock, counters)
    set_faults: Callable[[Mapping[str, Any]], None] | None = None
    mark_used: Callable[[str], None] | None = None
    """Make the sandbox buyer use (deduct) the invoice with this number, so that a red
    confirmation form raised on it needs the other party's confirmation (``fapiao selftest``
    exercises ``red_confirm`` with it)."""


class SandboxStarter(Protocol):
    def __call__(
        self, options: SandboxOptions | None = None
    ) -> AbstractContextManager[RunningSandbox]: ...

"""The issuance engine: config and routing, secrets, the durable ledger (with its state
machine), the kernel and the workflows over it, and the client facade.

Everything here sits above the transport and the provider contract; plugins never import it.
docs/architecture.md shows its layout and where a change goes.

The public names below are imported lazily (module ``__getattr__``): a CLI command that only
needs the config must not pay for SQLAlchemy.

    from fapiao.engine import AsyncClient, load_config, check_config, run_batch
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fapiao.engine.batch import BatchProgress, BatchReport
    from fapiao.engine.client import AsyncClient, run_batch
    from fapiao.engine.config import (
        ConfigProblem,
        FapiaoConfig,
        check_config,
        load_config,
    )
    from fapiao.engine.ledger import Ledger, LedgerRecord, RequestKey
    from fapiao.engine.monitoring import ProviderMonitor
    from fapiao.engine.outcomes import BatchItem, RedOutcome
    from fapiao.engine.reconcile import ReconcileReport
    from fapiao.engine.secrets import SecretStore
    from fapiao.engine.sync_client import Client

__all__ = [
    "AsyncClient",
    "BatchItem",
    "BatchProgress",
    "BatchReport",
    "Client",
    "ConfigProblem",
    "FapiaoConfig",
    "Ledger",
    "LedgerRecord",
    "ProviderMonitor",
    "ReconcileReport",
    "RedOutcome",
    "RequestKey",
    "SecretStore",
    "check_config",
    "load_config",
    "run_batch",
]

_WHERE = {
    "AsyncClient": "client",
    "Client": "sync_client",
    "BatchItem": "outcomes",
    "RedOutcome": "outcomes",
    "BatchProgress": "batch",
    "BatchReport": "batch",
    "run_batch": "client",
    "ConfigProblem": "config",
    "FapiaoConfig": "config",
    "check_config": "config",
    "load_config": "config",
    "Ledger": "ledger",
    "LedgerRecord": "ledger",
    "RequestKey": "ledger",
    "ProviderMonitor": "monitoring",
    "ReconcileReport": "reconcile",
    "SecretStore": "secrets",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'fapiao.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fapiao.engine.{module}"), name)
    globals()[name] = value
    return value

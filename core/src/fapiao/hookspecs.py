"""pluggy hook specifications: cross-cutting extension points many plugins may implement.

Provider selection is not a hook (it is routing, in config). Hook implementations are
functions (or methods) marked with ``fapiao.sdk.hookimpl`` and named after a spec below;
discovery (``fapiao.plugins.discover``) registers them with the plugin manager from:

* a **hooks-only plugin**: an entry point in the group ``fapiao.hooks`` naming a module or an
  object that holds them, e.g. ``[project.entry-points."fapiao.hooks"] s3_archive =
  "fapiao_s3_archive"`` for an archive to object storage (``fapiao_archive_invoice``);
* a provider or connector plugin: the module of the class its entry point names (or that
  module's ``fapiao_hooks`` object).

A hook name that matches no spec here, a signature that does not match its spec, or a hooks
entry point holding no implementation makes the plugin broken (``fapiao plugins`` shows why)
rather than silently never called. Observer hooks run after the fact and must not raise
(the engine logs and ignores a failing one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from fapiao.errors import FapiaoError, ValidationIssue
    from fapiao.models import Document, Invoice, InvoiceState, InvoiceStatus

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "fapiao"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def fapiao_validate_invoice(invoice: Invoice) -> list[ValidationIssue] | None:
    """Extra checks before issue (e.g. a company's own rules); return issues found."""


@hookspec
def fapiao_before_provider_call(provider: str, operation: str, payload: Any) -> None:
    """Called before each provider operation (after validation, before the network)."""


@hookspec
def fapiao_after_provider_call(
    provider: str,
    operation: str,
    duration_seconds: float,
    error: FapiaoError | None,
) -> None:
    """Called after each provider operation, successful or not."""


@hookspec
def fapiao_status_changed(
    seller_tax_id: str, order_id: str, old: InvoiceState | None, new: InvoiceState
) -> None:
    """Called after a ledger state transition has been committed."""


@hookspec
def fapiao_archive_invoice(status: InvoiceStatus, documents: list[Document]) -> None:
    """Archive a finished invoice and its checked documents (e.g. to object storage)."""


@hookspec
def fapiao_register_commands(cli: Any) -> None:
    """Add commands to the ``fapiao`` CLI (``cli`` is the root ``typer.Typer``)."""


@hookspec
def fapiao_register_metrics(registry: Any) -> None:
    """Register extra prometheus metrics on the engine's ``CollectorRegistry``."""


@hookspec
def fapiao_success_rate_alert(
    provider: str, success_rate: float, threshold: float, window_seconds: float
) -> None:
    """Fired when a provider's success rate over the window falls below the threshold."""

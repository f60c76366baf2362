"""What ERP connector authors subclass: settings, scrubbing and the shared HTTP client, ready.

Why: a connector reaches its ERP over HTTP exactly as a provider reaches its vendor, so it gets
what ``ProviderBase`` gives providers (see ``fapiao.sdk.plugin_base``) instead of repeating the
transport set-up; what is left to write is the ERP's own part. The structural contract is
``fapiao.contract.Connector``: a subclass implements ``pending``, ``map`` and ``write_back``
(abstract here, so a connector missing one fails when it is built, not in the middle of a sync).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import ClassVar, TypeVar

from fapiao.contract.connector import MappedDocument, SourceDocument, WriteBack
from fapiao.contract.settings import ConnectorSettings
from fapiao.sdk.plugin_base import PluginBase

__all__ = ["ConnectorBase"]

ConnectorSettingsT = TypeVar("ConnectorSettingsT", bound=ConnectorSettings)


class ConnectorBase(PluginBase[ConnectorSettingsT], ABC):
    """Convenience base for ERP connectors: ``self.settings``, ``self.scrubber``, ``self.http``
    (base URL, timeout, connection and rate limits, TLS verification, scrubbed logs),
    ``scrub``, ``aclose`` and ``async with``."""

    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings

    @abstractmethod
    def pending(self, cursor: str | None) -> AsyncIterator[SourceDocument]:
        """Documents changed since ``cursor`` that still need an invoice, oldest first
        (write it as ``async def pending(...)`` with ``yield``)."""

    @abstractmethod
    def map(self, document: SourceDocument) -> MappedDocument:
        """Canonical request for one document; raises ``InvalidInvoice`` with field paths."""

    @abstractmethod
    async def write_back(self, outcome: WriteBack) -> None:
        """Record the outcome in the ERP; must be idempotent (it may be retried)."""

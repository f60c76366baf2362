"""The provider contract: one class per vendor, selected by name at run time.

The contract is **async-first**: every network operation is a coroutine, because a batch
issues hundreds of invoices concurrently over one connection pool. Synchronous callers use
``fapiao.Client``'s sync facade, never a second set of plugin methods.

:class:`Provider` is the structural protocol the engine types against; plugins usually
subclass ``fapiao.sdk.ProviderBase``, which refuses every undeclared operation with
``UnsupportedOperation`` and wires in the shared transport. What each method is (idempotent
or not, how to probe it) is in the operations table, ``fapiao.contract.operations``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol, runtime_checkable

from fapiao.contract.capabilities import Capabilities, ProviderInfo
from fapiao.contract.settings import ProviderSettings
from fapiao.models import (
    CallbackResult,
    Delivery,
    DeliveryResult,
    Document,
    DocumentFormat,
    Invoice,
    InvoiceStatus,
    IssueResult,
    Quota,
    RedConfirmation,
    RedReversalRequest,
)

__all__ = ["Provider"]


@runtime_checkable
class Provider(Protocol):
    name: ClassVar[str]
    info: ClassVar[ProviderInfo]
    settings_model: ClassVar[type[ProviderSettings]]

    @property
    def capabilities(self) -> Capabilities: ...

    async def issue(self, invoice: Invoice) -> IssueResult: ...

    async def query(self, seller_tax_id: str, order_ids: Sequence[str]) -> list[InvoiceStatus]: ...

    async def red_apply(self, request: RedReversalRequest) -> RedConfirmation: ...

    async def red_confirm(
        self, seller_tax_id: str, confirmation_id: str, *, accept: bool = True
    ) -> RedConfirmation: ...

    async def red_query(self, seller_tax_id: str, confirmation_id: str) -> RedConfirmation: ...

    async def red_issue(self, confirmation: RedConfirmation) -> IssueResult: ...

    async def cancel(self, seller_tax_id: str, order_id: str) -> InvoiceStatus: ...

    async def fetch_document(self, status: InvoiceStatus, fmt: DocumentFormat) -> Document: ...

    async def deliver(self, delivery: Delivery) -> DeliveryResult: ...

    async def quota(self, seller_tax_id: str) -> Quota: ...

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str] | None = None
    ) -> CallbackResult: ...

    def scrub(self, transcript: str) -> str: ...

    async def aclose(self) -> None: ...

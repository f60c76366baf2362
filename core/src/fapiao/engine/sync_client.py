"""The synchronous facade of the engine: :class:`AsyncClient`'s API for code that is not
asyncio (scripts, Django/Flask views, batch jobs).

It runs one private event loop in a thread and blocks on each coroutine there, rather than
calling ``asyncio.run`` per call, so the provider connection pools, the ledger writer and
rate limiters live across calls exactly as in the async client.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from types import TracebackType
from typing import Any, TypeVar, cast

from fapiao.models import (
    CallbackResult,
    Delivery,
    DeliveryResult,
    Document,
    DocumentFormat,
    Invoice,
    InvoiceStatus,
    Quota,
    RedReversalRequest,
)

from .client import AsyncClient
from .ledger import Ledger, LedgerRecord, RequestKey
from .outcomes import BatchItem, RedOutcome
from .reconcile import ReconcileReport

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """The synchronous client: the same API, run on a private event loop thread.

    For scripts, Django/Flask views and batch jobs that are not asyncio code. Every method
    blocks until the async client's coroutine finishes on the private loop; the client is
    safe to share between threads. Close it (``close()`` or ``with``) to stop the loop.
    """

    def __init__(self, factory: Callable[[], AsyncClient]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fapiao-client-loop", daemon=True
        )
        self._thread.start()
        self._closed = False

        async def build() -> AsyncClient:
            return factory()

        try:
            self._client = self._run(build())
        except BaseException:
            self._stop_loop()
            raise

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> Client:
        """Like :meth:`AsyncClient.from_config` (same keyword arguments)."""
        return cls(lambda: AsyncClient.from_config(path, **kwargs))

    @property
    def async_client(self) -> AsyncClient:
        return self._client

    @property
    def ledger(self) -> Ledger:
        return self._client.ledger

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError("the fapiao Client is closed")
        if threading.get_ident() == self._thread.ident:
            coro.close()  # waiting here would block the very loop that must run it
            raise RuntimeError(
                "the sync fapiao Client was called from its own event loop (a hook?): "
                "use client.async_client there"
            )
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def issue(self, invoice: Invoice) -> InvoiceStatus:
        return self._run(self._client.issue(invoice))

    def issue_many(
        self, invoices: Iterable[Invoice], *, concurrency: int | None = None
    ) -> Iterator[BatchItem]:
        stream = cast(
            AsyncGenerator[BatchItem, None],
            self._client.issue_many(invoices, concurrency=concurrency),
        )
        try:
            while True:
                try:
                    yield self._run(_next(stream))
                except StopAsyncIteration:
                    return
        finally:
            if not self._closed:
                self._run(stream.aclose())

    def query(self, seller_tax_id: str, order_id: str, *, refresh: bool = True) -> InvoiceStatus:
        return self._run(self._client.query(seller_tax_id, order_id, refresh=refresh))

    def record(self, seller_tax_id: str, order_id: str) -> LedgerRecord:
        return self._run(self._client.record(seller_tax_id, order_id))

    def red_reverse(
        self,
        request: RedReversalRequest,
        *,
        confirm: bool = False,
        wait_seconds: float = 0.0,
        poll_interval: float = 1.0,
    ) -> RedOutcome:
        return self._run(
            self._client.red_reverse(
                request, confirm=confirm, wait_seconds=wait_seconds, poll_interval=poll_interval
            )
        )

    def cancel(self, seller_tax_id: str, order_id: str) -> InvoiceStatus:
        return self._run(self._client.cancel(seller_tax_id, order_id))

    def documents(
        self,
        seller_tax_id: str,
        order_id: str,
        formats: Sequence[DocumentFormat | str] | None = None,
        dest_dir: str | os.PathLike[str] | None = None,
    ) -> list[Document]:
        return self._run(self._client.documents(seller_tax_id, order_id, formats, dest_dir))

    def deliver(self, delivery: Delivery) -> DeliveryResult:
        return self._run(self._client.deliver(delivery))

    def quota(self, seller_tax_id: str) -> Quota:
        return self._run(self._client.quota(seller_tax_id))

    def apply_callback(
        self,
        profile: str,
        headers: Mapping[str, str],
        body: bytes,
        query: Mapping[str, str] | None = None,
    ) -> CallbackResult:
        return self._run(self._client.apply_callback(profile, headers, body, query))

    def reconcile(
        self, *, profile: str | None = None, keys: Iterable[RequestKey] | None = None
    ) -> ReconcileReport:
        return self._run(self._client.reconcile(profile=profile, keys=keys))

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._run(self._client.aclose())
            self._run(self._loop.shutdown_default_executor())  # the worker threads too
        finally:
            self._closed = True
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _next(stream: AsyncIterator[T]) -> T:
    return await stream.__anext__()

"""The client business code calls: ``AsyncClient`` (its synchronous facade ``Client`` is in
``sync_client``).

Business code passes canonical models and never names a vendor: the seller tax ID routes
each request to its provider profile (config), the ledger makes every request exactly-once,
and the provider plugin speaks the vendor's protocol.

``AsyncClient`` is a facade: it builds the engine's kernel (``kernel.py``: provider calls,
ledger transitions, listeners) and the workflows over it — issuance (``issuance.py``), the
red reversal (``red.py``), reconciliation (``reconcile.py``), downloads (``downloads.py``),
batches (``batch.py``) — and delegates to them. docs/architecture.md draws the layers.

Hooks: ``fapiao_before_provider_call``/``fapiao_after_provider_call`` around every provider
operation, ``fapiao_status_changed`` after each committed state change,
``fapiao_archive_invoice`` after documents are verified. Observer hooks that raise are logged
and ignored: a broken archive plugin must not turn an issued invoice into an error.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pluggy

from fapiao.errors import (
    FapiaoError,
    InvalidRequest,
    NotAccepted,
    OutcomeUnknown,
    ProviderError,
)
from fapiao.models import (
    CallbackResult,
    Delivery,
    DeliveryResult,
    Document,
    DocumentFormat,
    Invoice,
    InvoiceState,
    InvoiceStatus,
    Operation,
    Quota,
    RedReversalRequest,
)
from fapiao.plugins import get_plugin_manager
from fapiao.transport import HttpClientFactory

from .batch import BatchProgress, BatchReport, BatchRunner
from .batch_files import Format
from .callbacks import Callbacks
from .config import FapiaoConfig, load_config
from .downloads import Downloads
from .issuance import Issuance
from .kernel import Kernel, not_found
from .ledger import (
    SENT_UNSETTLED_STATES,
    EventSource,
    Ledger,
    LedgerRecord,
    RequestKey,
)
from .monitoring import ProviderMonitor
from .outcomes import BatchItem, RedOutcome, status_from_record
from .providers import ProviderPool
from .reconcile import Reconciler, ReconcileReport
from .red import RedWorkflow
from .routing import Router
from .secrets import SecretStore

__all__ = ["AsyncClient", "run_batch"]

log = logging.getLogger("fapiao.engine")

S = InvoiceState


class AsyncClient:
    """Issue, reverse, query and track 数电发票 through whichever provider the config routes to.

    Create it with :meth:`from_config`, use it in one event loop, close it with
    :meth:`aclose` (or ``async with``). Safe for many concurrent calls.
    """

    def __init__(
        self,
        config: FapiaoConfig,
        *,
        ledger: Ledger,
        providers: ProviderPool,
        plugin_manager: pluggy.PluginManager | None = None,
        monitor: ProviderMonitor | None = None,
        owns_ledger: bool = True,
    ) -> None:
        hooks = (plugin_manager or get_plugin_manager()).hook
        self.kernel = Kernel(
            config,
            ledger=ledger,
            providers=providers,
            hooks=hooks,
            monitor=monitor or ProviderMonitor(config.monitoring, hook=hooks),
        )
        self.issuance = Issuance(self.kernel)
        self.red = RedWorkflow(self.kernel, self.issuance)
        self.reconciler = Reconciler(self.kernel, self.issuance, self.red)
        self.downloads = Downloads(self.kernel)
        self.callbacks = Callbacks(self.kernel)
        self.batches = BatchRunner(self.kernel, self.issuance, self.reconciler)
        self._owns_ledger = owns_ledger
        self._closed = False
        self.kernel.notify("fapiao_register_metrics", registry=self.monitor.registry)

    # what callers and tools read of the engine's state
    @property
    def config(self) -> FapiaoConfig:
        return self.kernel.config

    @property
    def ledger(self) -> Ledger:
        return self.kernel.ledger

    @property
    def providers(self) -> ProviderPool:
        return self.kernel.providers

    @property
    def router(self) -> Router:
        return self.kernel.router

    @property
    def monitor(self) -> ProviderMonitor:
        return self.kernel.monitor

    @property
    def hooks(self) -> pluggy.HookRelay:
        return self.kernel.hooks

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        config: FapiaoConfig | None = None,
        registry: Any = None,
        secrets: SecretStore | None = None,
        http_factory: HttpClientFactory | None = None,
        ledger: Ledger | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> AsyncClient:
        """Build a client from the TOML config (``path``, else ``$FAPIAO_CONFIG``).

        Everything that can be wrong with the config — syntax, unknown provider, bad
        settings, a missing or clear-text secret — stops here with ``ConfigError`` naming
        the file and key, before any request.
        """
        config = config if config is not None else load_config(path)
        providers = ProviderPool.from_config(
            config, registry=registry, secrets=secrets, http_factory=http_factory
        )
        owns = ledger is None
        if ledger is None:
            ledger = Ledger.open(config.ledger_url(), scrubber=providers.scrubber)
        return cls(
            config,
            ledger=ledger,
            providers=providers,
            plugin_manager=plugin_manager,
            owns_ledger=owns,
        )

    # -- lifecycle ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.providers.aclose()
        if self._owns_ledger:
            await self.ledger.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- issuing --------------------------------------------------------------------------------

    def validate(self, invoice: Invoice) -> None:
        """Check an invoice as :meth:`issue` would before recording it (the 数电 rules and every
        ``fapiao_validate_invoice`` hook), without routing or sending; ``InvalidInvoice``."""
        self.issuance.validate(invoice)

    async def issue(self, invoice: Invoice) -> InvoiceStatus:
        """Issue one blue invoice, exactly once per (seller tax ID, order id).

        Returns the status (``issued``, or ``issuing`` for asynchronous vendors). Raises the
        canonical error when the request is refused (``InvalidInvoice`` before anything is
        recorded; a provider refusal, recorded as ``failed`` and raised again on replay) and
        ``OutcomeUnknown`` when the request was sent but its fate is not known yet
        (``reconcile`` settles it; calling ``issue`` again queries, it never resends).
        """
        return await self.issuance.issue(invoice, EventSource.API)

    async def issue_many(
        self,
        invoices: Iterable[Invoice] | AsyncIterable[Invoice],
        *,
        concurrency: int | None = None,
    ) -> AsyncIterator[BatchItem]:
        """Issue a stream of invoices with bounded concurrency, yielding each outcome as it
        completes (not in input order: ``BatchItem.index`` is the input position).

        The input is consumed lazily, so a generator over a huge file stays in constant
        memory. ``concurrency`` bounds requests in flight here (default: the engine's);
        each profile's own limit and the global limit apply as well.
        """
        stream = self.issuance.stream(invoices, concurrency=concurrency, source=EventSource.API)
        async for item in stream:
            yield item

    async def run_batch(
        self,
        path: str | Path,
        *,
        fmt: Format | None = None,
        concurrency: int | None = None,
        pilot: int | None = None,
        progress: Callable[[BatchProgress], None] | None = None,
        settle: bool = True,
        settle_timeout: float | None = None,
    ) -> BatchReport:
        """Issue every invoice of a JSON Lines or CSV file: streamed, bounded, resumable
        (see ``fapiao.engine.batch``)."""
        return await self.batches.run(
            path,
            fmt=fmt,
            concurrency=concurrency,
            pilot=pilot,
            progress=progress,
            settle=settle,
            settle_timeout=settle_timeout,
        )

    # -- reading ----------------------------------------------------------------------------

    async def query(
        self, seller_tax_id: str, order_id: str, *, refresh: bool = True
    ) -> InvoiceStatus:
        """The status of a request. With ``refresh`` an unsettled record is first settled by
        asking its provider (the profile that sent it, even if routing changed since).

        An order the ledger doesn't know is looked up at the routed provider (not recorded);
        ``NotFound`` if nobody knows it."""
        key = RequestKey(seller_tax_id, order_id)
        record = await self.kernel.ledger.get(key)
        if record is None:
            if refresh:
                profile = self.kernel.router.profile_for(seller_tax_id)
                self.kernel.require(profile, Operation.QUERY)
                provider = self.kernel.providers.get(profile)
                found = await self.kernel.call(
                    profile,
                    Operation.QUERY,
                    [order_id],
                    lambda: provider.query(seller_tax_id, [order_id]),
                )
                for status in found:
                    if status.order_id == order_id:
                        return status
            raise not_found(key)
        if refresh and record.state in SENT_UNSETTLED_STATES:
            try:
                return await self.issuance.settle(record, EventSource.POLL)
            except OutcomeUnknown:
                return status_from_record(await self.kernel.record(key))
            except FapiaoError as exc:
                if isinstance(exc, NotAccepted | ProviderError):
                    return status_from_record(await self.kernel.record(key))
                current = await self.kernel.record(key)
                if current.state is S.FAILED:
                    return status_from_record(current)
                raise
        return status_from_record(record)

    async def record(self, seller_tax_id: str, order_id: str) -> LedgerRecord:
        """The ledger record itself (``NotFound`` if absent), for status pages and audits."""
        return await self.kernel.record(RequestKey(seller_tax_id, order_id))

    # -- callbacks --------------------------------------------------------------------------

    async def apply_callback(
        self,
        profile: str,
        headers: Mapping[str, str],
        body: bytes,
        query: Mapping[str, str] | None = None,
    ) -> CallbackResult:
        """Verify a provider callback through its plugin and apply every status it carries.

        Idempotent and monotonic: duplicates, late and out-of-order callbacks never move a
        record backwards; a delivery seen before (by any process) is a replay. Raises
        ``CallbackRejected`` (forged, stale, replayed, malformed) — answer the provider with
        an error then; otherwise answer with ``response_status``/``response_body``."""
        return await self.callbacks.apply(profile, headers, body, query)

    # -- red reversal, cancel ---------------------------------------------------------------

    async def red_reverse(
        self,
        request: RedReversalRequest,
        *,
        confirm: bool = False,
        wait_seconds: float = 0.0,
        poll_interval: float = 1.0,
    ) -> RedOutcome:
        """Reverse all or part of an issued invoice with a red invoice (红冲).

        The 红字确认单 workflow: the rules check the request against what the ledger says
        is already reversed → ``red_apply`` → when the other party must confirm: with
        ``confirm=True`` confirm it through the provider (when this system acts for that
        party), else poll up to ``wait_seconds`` → ``red_issue``. A form still pending is
        returned as such (``RedOutcome.awaiting_confirmation``); ``reconcile`` continues it
        when confirmed and reverts the blue invoice if it is rejected or lapses (72 h).
        Idempotent on ``request.order_id``: calling again continues, never repeats a step.
        """
        return await self.red.reverse(
            request, confirm=confirm, wait_seconds=wait_seconds, poll_interval=poll_interval
        )

    async def cancel(self, seller_tax_id: str, order_id: str) -> InvoiceStatus:
        """Cancel an issued invoice where the provider and the kind allow it (数电票 are
        normally reversed, not voided: most providers don't declare ``cancel``)."""
        record = await self.kernel.record(RequestKey(seller_tax_id, order_id))
        profile = record.provider_profile
        self.kernel.require(profile, Operation.CANCEL)
        if record.state is S.CANCELLED:
            return status_from_record(record)
        if record.state is not S.ISSUED:
            raise InvalidRequest(
                f"only an issued invoice can be cancelled; order {order_id} is {record.state.value}",
                message_zh=f"只有已开具的发票可以作废；订单 {order_id} 当前为 {record.state.value}",
                field="state",
            )
        provider = self.kernel.providers.get(profile)
        status = await self.kernel.call(
            profile, Operation.CANCEL, [order_id], lambda: provider.cancel(seller_tax_id, order_id)
        )
        if status.state is S.CANCELLED:
            new = await self.kernel.transition(
                record, S.CANCELLED, EventSource.API, detail={"raw_status": status.raw_status}
            )
        else:
            new = await self.kernel.apply(record, status, EventSource.API)
        return status_from_record(new, raw_status=status.raw_status)

    # -- documents, delivery, quota ---------------------------------------------------------

    async def documents(
        self,
        seller_tax_id: str,
        order_id: str,
        formats: Sequence[DocumentFormat | str] | None = None,
        dest_dir: str | os.PathLike[str] | None = None,
    ) -> list[Document]:
        """Download an issued invoice's files, verify each (type, parse, invoice number,
        hash), record the hashes in the ledger and hand them to ``fapiao_archive_invoice``.

        ``formats`` defaults to every format the provider declares. With ``dest_dir`` each
        file is written there atomically as ``<invoice number>.<format>``."""
        return await self.downloads.fetch(RequestKey(seller_tax_id, order_id), formats, dest_dir)

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        """Send an issued invoice to the buyer by e-mail or SMS through its provider."""
        profile = None
        if delivery.order_id:
            record = await self.kernel.ledger.get(
                RequestKey(delivery.seller_tax_id, delivery.order_id)
            )
            if record is not None:
                profile = record.provider_profile
        if profile is None:
            profile = self.kernel.router.profile_for(delivery.seller_tax_id)
        self.kernel.require(profile, Operation.DELIVER)
        provider = self.kernel.providers.get(profile)
        return await self.kernel.call(
            profile, Operation.DELIVER, delivery, lambda: provider.deliver(delivery)
        )

    async def quota(self, seller_tax_id: str) -> Quota:
        """The seller's remaining invoicing quota (授信额度) at its provider."""
        profile = self.kernel.router.profile_for(seller_tax_id)
        self.kernel.require(profile, Operation.QUOTA)
        provider = self.kernel.providers.get(profile)
        return await self.kernel.call(
            profile, Operation.QUOTA, seller_tax_id, lambda: provider.quota(seller_tax_id)
        )

    # -- reconciliation ---------------------------------------------------------------------

    async def reconcile(
        self, *, profile: str | None = None, keys: Iterable[RequestKey] | None = None
    ) -> ReconcileReport:
        """Settle every unsettled record (or just ``keys``): query providers in batches of
        their declared ``max_query_batch``, apply what they say, resend what provably never
        arrived, continue confirmed red forms and revert lapsed ones."""
        return await self.reconciler.run(profile=profile, keys=keys)


async def run_batch(client: AsyncClient, path: str | Path, **options: Any) -> BatchReport:
    """``client.run_batch(path, **options)``, kept as the function the CLI and scripts call."""
    return await client.run_batch(path, **options)

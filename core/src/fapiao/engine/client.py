"""The client business code calls: ``AsyncClient`` (its synchronous facade ``Client`` is in
``sync_client``).

Business code passes canonical models and never names a vendor: the seller tax ID routes
each request to its provider profile (config), the ledger makes every request exactly-once,
and the provider plugin speaks the vendor's protocol.

Exactly-once, the heart of it (DESIGN §5). The idempotency key is seller tax ID + order id.

1. The invoice is checked (``fapiao.rules`` + the ``fapiao_validate_invoice`` hook) and the
   profile's declared capabilities, before anything is recorded.
2. ``ledger.reserve`` creates the record directly in ``submitted`` and returns only once that
   is committed — *before* the network call. A key already in the ledger is never sent
   again from here: its recorded outcome is returned, and a request still ``submitted`` or
   ``issuing`` is settled by querying the provider (never by resending).
3. The provider's answer is applied to the ledger (``issued``/``issuing``; a definitive
   refusal → ``failed``, raised). A failure where nothing reached the provider
   (``PROVIDER_UNAVAILABLE``, ``RATE_LIMITED``) is retried with backoff; ``AUTH_FAILED`` is not
   retried (fix the secret); both leave the record ``submitted`` for ``reconcile``.
4. ``OUTCOME_UNKNOWN`` (timeout or reset after sending) leaves the record ``submitted`` and
   triggers a query by order id; a ``DUPLICATE_ORDER`` answer does the same and adopts the
   original outcome. If the provider doesn't know the order yet, the call raises
   ``OutcomeUnknown`` and the request is left to :meth:`AsyncClient.reconcile`, which resends
   only once the provider's declared visibility delay has passed without the order
   appearing — the one proof that it was never accepted — and records that as an event.

Hooks: ``fapiao_before_provider_call``/``fapiao_after_provider_call`` around every provider
operation, ``fapiao_status_changed`` after each committed state change,
``fapiao_archive_invoice`` after documents are verified. Observer hooks that raise are logged
and ignored: a broken archive plugin must not turn an issued invoice into an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pluggy

from fapiao.contract.operations import spec
from fapiao.errors import (
    DocumentInvalid,
    DuplicateOrder,
    FapiaoError,
    InvalidInvoice,
    InvalidRequest,
    InvalidStateTransition,
    NotAccepted,
    NotFound,
    OutcomeUnknown,
    ProviderError,
    UnsupportedOperation,
    ValidationIssue,
)
from fapiao.masking import mask_tax_id
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

from .config import FapiaoConfig, load_config
from .ledger import EventSource, Ledger, LedgerRecord, RequestKey, RequestKind
from .ledger.payload import canonical_payload
from .monitoring import ProviderMonitor
from .outcomes import BatchItem, RedOutcome, error_from_record, status_from_record
from .providers import ProviderPool
from .reconcile import ReconcileReport, reconcile
from .red import finish_blue, red_reverse
from .routing import Router
from .secrets import SecretStore

__all__ = ["AsyncClient"]

log = logging.getLogger("fapiao.engine")

T = TypeVar("T")
S = InvoiceState

HAS_INVOICE_STATES = frozenset(
    {S.ISSUED, S.RED_REQUESTED, S.RED_CONFIRMED, S.PARTIALLY_REVERSED, S.REVERSED}
)
"""States in which an invoice number exists and documents can be fetched."""

_FORM_STATES = frozenset({S.RED_REQUESTED, S.RED_CONFIRMED})
"""Blue-invoice states a provider reports about a 红字确认单 (never a red request's state)."""


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
        self.config = config
        self.ledger = ledger
        self.providers = providers
        self.router = Router(config)
        self.hooks = (plugin_manager or get_plugin_manager()).hook
        self.monitor = monitor or ProviderMonitor(config.monitoring, hook=self.hooks)
        self._owns_ledger = owns_ledger
        self._global_slots = asyncio.Semaphore(config.engine.concurrency)
        self._profile_slots: dict[str, asyncio.Semaphore] = {}
        self._inflight: dict[RequestKey, tuple[Invoice, asyncio.Future[InvoiceStatus]]] = {}
        self._closed = False
        self._notify("fapiao_register_metrics", registry=self.monitor.registry)

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

    # -- plumbing -------------------------------------------------------------------------------

    def _notify(self, hook: str, **kwargs: Any) -> None:
        caller = getattr(self.hooks, hook)
        if not caller.get_hookimpls():  # nobody listens: skip pluggy's call machinery
            return
        try:
            caller(**kwargs)
        except Exception as exc:
            log.warning("hook %s failed: %s", hook, self.providers.scrub(repr(exc))[:300])

    def _profile_slot(self, profile: str) -> asyncio.Semaphore:
        slot = self._profile_slots.get(profile)
        if slot is None:
            limit = self.providers.profile(profile).config.limits.concurrency
            slot = self._profile_slots[profile] = asyncio.Semaphore(limit)
        return slot

    async def _call(
        self, profile: str, operation: str, payload: Any, call: Callable[[], Awaitable[T]]
    ) -> T:
        """One provider operation with the concurrency bounds, hooks and metrics."""
        provider = self.providers.provider_name(profile)
        async with self._global_slots, self._profile_slot(profile):
            self._notify(
                "fapiao_before_provider_call",
                provider=provider,
                operation=operation,
                payload=payload,
            )
            error: FapiaoError | None = None
            started = time.perf_counter()
            finished = False
            try:
                result = await call()
                finished = True
                return result
            except FapiaoError as exc:
                error = exc
                finished = True
                raise
            except Exception as exc:
                error = self._plugin_failure(profile, operation, exc)
                finished = True
                raise error from exc
            finally:
                if finished:
                    elapsed = time.perf_counter() - started
                    self.monitor.observe(profile, provider, operation, elapsed, error)
                    self._notify(
                        "fapiao_after_provider_call",
                        provider=provider,
                        operation=operation,
                        duration_seconds=elapsed,
                        error=error,
                    )

    def _plugin_failure(self, profile: str, operation: str, exc: Exception) -> FapiaoError:
        """A plugin that crashes is not a clean refusal: after a send, the outcome is unknown."""
        provider = self.providers.provider_name(profile)
        detail = self.providers.scrub(f"{type(exc).__name__}: {exc}")[:300]
        if not spec(operation).idempotent:
            return OutcomeUnknown(
                f"provider plugin {provider} failed during {operation}: {detail}",
                message_zh=f"服务商插件 {provider} 在 {operation} 时出错，结果未知：{detail}",
                provider=provider,
            )
        return ProviderError(
            f"provider plugin {provider} failed during {operation}: {detail}",
            message_zh=f"服务商插件 {provider} 在 {operation} 时出错：{detail}",
            provider=provider,
        )

    def _changed(self, record: LedgerRecord, old: InvoiceState | None) -> None:
        if old == record.state:
            return
        self.monitor.state_changed(record.provider_profile, record.state.value)
        self._notify(
            "fapiao_status_changed",
            seller_tax_id=record.key.seller_tax_id,
            order_id=record.key.order_id,
            old=old,
            new=record.state,
        )

    async def _transition(
        self,
        record: LedgerRecord,
        to: InvoiceState,
        source: str,
        **fields: Any,
    ) -> LedgerRecord:
        fields.setdefault("expect_from", {record.state})
        new = await self.ledger.transition(record.key, to, source=source, **fields)
        self._changed(new, record.state)
        return new

    async def _apply(
        self, record: LedgerRecord, status: InvoiceStatus, source: str
    ) -> LedgerRecord:
        """Apply a provider's report (idempotent, never backwards) and follow its effects."""
        new = await self.ledger.apply_status(record.key, status, source=source)
        self._changed(new, record.state)
        if new.kind is RequestKind.RED and new.state is S.ISSUED and record.state is not S.ISSUED:
            await finish_blue(self, new, source)
        return new

    async def _record(self, key: RequestKey) -> LedgerRecord:
        record = await self.ledger.get(key)
        if record is None:
            raise _not_found(key)
        return record

    def _require(self, profile: str, operation: Operation) -> None:
        caps = self.providers.capabilities(profile)
        if not caps.supports(operation):
            provider = self.providers.provider_name(profile)
            raise UnsupportedOperation(
                f"provider {provider} (profile {profile}) does not support {operation.value}",
                message_zh=f"服务商 {provider}（配置档 {profile}）不支持 {operation.value}",
                provider=provider,
            )

    # -- issuing --------------------------------------------------------------------------------

    def _validate(self, invoice: Invoice) -> None:
        from fapiao.rules import ensure_valid

        issues: list[ValidationIssue] = []
        try:
            ensure_valid(invoice)
        except InvalidInvoice as exc:
            issues.extend(exc.issues)
        try:
            results = self.hooks.fapiao_validate_invoice(invoice=invoice)
        except Exception as exc:  # a broken validator refuses, it never lets an invoice through
            results = [[_hook_failed(self.providers.scrub(f"{type(exc).__name__}: {exc}"))]]
        for found in results:
            if found:
                issues.extend(found)
        if any(not issue.warning for issue in issues):
            raise InvalidInvoice(issues)

    def _check_capabilities(self, profile: str, invoice: Invoice) -> None:
        self._require(profile, Operation.ISSUE)
        refusal = self.providers.capabilities(profile).refuse_invoice(
            invoice,
            self.providers.provider_name(profile),
            strict_features=self.providers.profile(profile).settings.strict_features,
        )
        if refusal is not None:
            raise refusal

    async def issue(self, invoice: Invoice) -> InvoiceStatus:
        """Issue one blue invoice, exactly once per (seller tax ID, order id).

        Returns the status (``issued``, or ``issuing`` for asynchronous vendors). Raises the
        canonical error when the request is refused (``InvalidInvoice`` before anything is
        recorded; a provider refusal, recorded as ``failed`` and raised again on replay) and
        ``OutcomeUnknown`` when the request was sent but its fate is not known yet
        (``reconcile`` settles it; calling ``issue`` again queries, it never resends).
        """
        return await self._issue(invoice, EventSource.API)

    async def _issue(self, invoice: Invoice, source: str) -> InvoiceStatus:
        self._validate(invoice)
        seller = invoice.seller.tax_id or ""
        profile = self.router.profile_for(seller)
        self._check_capabilities(profile, invoice)
        key = RequestKey(seller, invoice.order_id)
        running = self._inflight.get(key)
        if running is not None:
            first, future = running
            if first != invoice:
                raise self._mismatch(key)
            return await asyncio.shield(future)
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = (invoice, future)
        try:
            status = await self._issue_once(invoice, key, profile, source)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(status)
            return status
        finally:
            self._inflight.pop(key, None)

    def _mismatch(self, key: RequestKey) -> DuplicateOrder:
        return DuplicateOrder(
            f"order {key.order_id} was already used for a different invoice of this seller; "
            "an order id identifies one invoice",
            message_zh=f"订单号 {key.order_id} 已用于该销方的另一张不同发票；一个订单号只对应一张发票",
            field="order_id",
        )

    async def _issue_once(
        self, invoice: Invoice, key: RequestKey, profile: str, source: str
    ) -> InvoiceStatus:
        record, created = await self.ledger.reserve(
            key,
            kind=RequestKind.BLUE,
            provider_profile=profile,
            provider=self.providers.provider_name(profile),
            payload=invoice,  # the ledger stores it as exact JSON (secret-looking keys masked)
            initial_state=S.SUBMITTED,
            source=source,
        )
        if created:
            self._changed(record, None)
            return await self._send(record, invoice, source)
        # compared as the ledger stored it, so masked provider_extra values compare equal
        stored = Invoice.model_validate(canonical_payload(invoice))
        if record.kind is not RequestKind.BLUE or Invoice.model_validate(record.payload) != stored:
            raise self._mismatch(key)
        return await self._resume(record, invoice, source)

    async def _resume(self, record: LedgerRecord, invoice: Invoice, source: str) -> InvoiceStatus:
        """A request already in the ledger: return its outcome, finish it, never resend."""
        if record.state in {S.RECEIVED, S.VALIDATED}:
            # recorded but provably never sent (submitted is committed before any send)
            record = await self._transition(record, S.SUBMITTED, source, attempts_increment=1)
            return await self._send(record, invoice, source)
        if record.state in {S.SUBMITTED, S.ISSUING}:
            return await self._settle(record, source)
        if record.state is S.FAILED:
            raise error_from_record(record)
        return status_from_record(record)

    async def _send(self, record: LedgerRecord, invoice: Invoice, source: str) -> InvoiceStatus:
        """Send a ``submitted`` request; only failures that prove non-acceptance are retried."""
        profile = record.provider_profile
        provider = self.providers.get(profile)
        retries = self.config.engine.unavailable_retries
        backoff = self.config.engine.retry_backoff_seconds
        attempt = 0
        while True:
            try:
                result = await self._call(
                    profile, "issue", invoice, lambda: provider.issue(invoice)
                )
            except (OutcomeUnknown, DuplicateOrder) as exc:
                log.warning(
                    "issue of %s/%s: %s; settling by query, never by resending",
                    mask_tax_id(record.key.seller_tax_id),
                    record.key.order_id,
                    exc.code,
                )
                return await self._settle(record, source, cause=exc)
            except FapiaoError as exc:
                if isinstance(exc, NotAccepted):
                    if exc.retry_now and attempt < retries:
                        await asyncio.sleep(backoff * 2**attempt)
                        attempt += 1
                        continue
                    await self._note(record, source, exc)
                    raise
                await self._transition(record, S.FAILED, source, error=exc)
                log.info(
                    "issue of %s/%s refused: %s",
                    mask_tax_id(record.key.seller_tax_id),
                    record.key.order_id,
                    exc.code,
                )
                raise
            if result.order_id != record.key.order_id:
                result = result.model_copy(update={"order_id": record.key.order_id})
            return await self._accept(record, result, source)

    async def _note(self, record: LedgerRecord, source: str, error: FapiaoError) -> None:
        """Leave the record ``submitted`` with the error noted as an event (for reconcile)."""
        with contextlib.suppress(InvalidStateTransition):  # moved on meanwhile: nothing to note
            await self.ledger.transition(
                record.key,
                record.state,
                source=source,
                error=error,
                detail={"not_accepted": error.code},
                expect_from={record.state},
            )

    async def _accept(
        self, record: LedgerRecord, result: InvoiceStatus, source: str
    ) -> InvoiceStatus:
        new = await self._apply(record, result, source)
        if new.state is S.FAILED:
            raise error_from_record(new)
        return status_from_record(new, documents=result.documents, raw_status=result.raw_status)

    async def _settle(
        self, record: LedgerRecord, source: str, *, cause: FapiaoError | None = None
    ) -> InvoiceStatus:
        """Find out what happened to a sent request by querying the provider."""
        key = record.key
        profile = record.provider_profile
        provider = self.providers.get(profile)
        try:
            found = await self._call(
                profile,
                "query",
                [key.order_id],
                lambda: provider.query(key.seller_tax_id, [key.order_id]),
            )
        except FapiaoError as exc:
            if record.state is S.ISSUING:
                return status_from_record(record)
            raise self._unknown(record, cause or exc) from exc
        status = next((s for s in found if s.order_id == key.order_id), None)
        if status is None:
            if record.state is S.ISSUING:
                return status_from_record(record)
            raise self._unknown(record, cause)
        new = await self._apply(record, status, source)
        if new.state is S.FAILED:
            raise error_from_record(new)
        if new.state is S.SUBMITTED:
            raise self._unknown(new, cause)
        return status_from_record(new, raw_status=status.raw_status)

    def _unknown(self, record: LedgerRecord, cause: FapiaoError | None) -> OutcomeUnknown:
        seconds = self.providers.visibility_seconds(record.provider_profile)
        why = f" ({cause.code})" if cause is not None else ""
        return OutcomeUnknown(
            f"order {record.key.order_id} was sent but the provider does not show it yet{why}; "
            f"it is never resent before {seconds:g} s have passed without it appearing: "
            "`reconcile` settles it",
            message_zh=f"订单 {record.key.order_id} 已发送，服务商暂查不到{why}；"
            f"{seconds:g} 秒内查不到才会重发，请稍后运行 reconcile 对账",
            provider=record.provider,
            retryable=False,
        )

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
        async for item in self._stream(invoices, concurrency=concurrency, source=EventSource.API):
            yield item

    async def _stream(
        self,
        invoices: Iterable[Invoice] | AsyncIterable[Invoice],
        *,
        concurrency: int | None,
        source: str,
    ) -> AsyncIterator[BatchItem]:
        limit = max(1, concurrency or self.config.engine.concurrency)
        running: set[asyncio.Task[BatchItem]] = set()
        ready: deque[asyncio.Task[BatchItem]] = deque()
        signal = asyncio.Event()

        def finished(task: asyncio.Task[BatchItem]) -> None:
            running.discard(task)
            ready.append(task)
            signal.set()

        async def next_ready() -> BatchItem:
            while not ready:
                signal.clear()
                await signal.wait()
            return ready.popleft().result()

        index = 0
        try:
            async for invoice in _aiter(invoices):
                while ready:
                    yield ready.popleft().result()
                while len(running) >= limit:
                    yield await next_ready()
                task = asyncio.create_task(self._item(index, invoice, source))
                running.add(task)
                task.add_done_callback(finished)
                index += 1
            while running or ready:
                yield await next_ready()
        finally:
            # Let calls in flight finish: cancelling one mid-send would only manufacture an
            # unknown outcome for reconcile to clear up.
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _item(self, index: int, invoice: Invoice, source: str) -> BatchItem:
        seller = invoice.seller.tax_id or ""
        try:
            status = await self._issue(invoice, source)
        except FapiaoError as exc:
            return BatchItem(index, seller, invoice.order_id, error=exc)
        return BatchItem(index, seller, invoice.order_id, status=status)

    # -- reading ----------------------------------------------------------------------------

    async def query(
        self, seller_tax_id: str, order_id: str, *, refresh: bool = True
    ) -> InvoiceStatus:
        """The status of a request. With ``refresh`` an unsettled record is first settled by
        asking its provider (the profile that sent it, even if routing changed since).

        An order the ledger doesn't know is looked up at the routed provider (not recorded);
        ``NotFound`` if nobody knows it."""
        key = RequestKey(seller_tax_id, order_id)
        record = await self.ledger.get(key)
        if record is None:
            if refresh:
                profile = self.router.profile_for(seller_tax_id)
                self._require(profile, Operation.QUERY)
                provider = self.providers.get(profile)
                found = await self._call(
                    profile,
                    "query",
                    [order_id],
                    lambda: provider.query(seller_tax_id, [order_id]),
                )
                for status in found:
                    if status.order_id == order_id:
                        return status
            raise _not_found(key)
        if refresh and record.state in {S.SUBMITTED, S.ISSUING}:
            try:
                return await self._settle(record, EventSource.POLL)
            except OutcomeUnknown:
                return status_from_record(await self._record(key))
            except FapiaoError as exc:
                if isinstance(exc, NotAccepted | ProviderError):
                    return status_from_record(await self._record(key))
                current = await self._record(key)
                if current.state is S.FAILED:
                    return status_from_record(current)
                raise
        return status_from_record(record)

    async def record(self, seller_tax_id: str, order_id: str) -> LedgerRecord:
        """The ledger record itself (``NotFound`` if absent), for status pages and audits."""
        return await self._record(RequestKey(seller_tax_id, order_id))

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
        record backwards. Raises ``CallbackRejected`` (forged, stale) — answer the provider
        with an error then; otherwise answer with ``response_status``/``response_body``."""
        provider = self.providers.get(profile)
        result = provider.verify_callback(headers, body, query)
        for status in result.statuses:
            key = RequestKey(status.seller_tax_id, status.order_id)
            record = await self.ledger.get(key)
            if record is None:
                log.warning(
                    "callback from profile %s for unknown order %s/%s ignored",
                    profile,
                    mask_tax_id(status.seller_tax_id),
                    status.order_id,
                )
                continue
            if record.provider_profile != profile:
                log.warning(
                    "callback from profile %s for order %s/%s of profile %s ignored",
                    profile,
                    mask_tax_id(status.seller_tax_id),
                    status.order_id,
                    record.provider_profile,
                )
                continue
            if record.kind is RequestKind.RED and status.state in _FORM_STATES:
                # a 红字确认单 report about a red request: it concerns the form, which the red
                # workflow (the caller polling it, or reconcile) follows; the red request's
                # own state only moves when the red invoice is issued
                log.debug(
                    "red form callback for order %s left to the red workflow", status.order_id
                )
                continue
            await self._apply(record, status, EventSource.CALLBACK)
        return result

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
        return await red_reverse(
            self, request, confirm=confirm, wait_seconds=wait_seconds, poll_interval=poll_interval
        )

    async def cancel(self, seller_tax_id: str, order_id: str) -> InvoiceStatus:
        """Cancel an issued invoice where the provider and the kind allow it (数电票 are
        normally reversed, not voided: most providers don't declare ``cancel``)."""
        record = await self._record(RequestKey(seller_tax_id, order_id))
        profile = record.provider_profile
        self._require(profile, Operation.CANCEL)
        if record.state is S.CANCELLED:
            return status_from_record(record)
        if record.state is not S.ISSUED:
            raise InvalidRequest(
                f"only an issued invoice can be cancelled; order {order_id} is {record.state.value}",
                message_zh=f"只有已开具的发票可以作废；订单 {order_id} 当前为 {record.state.value}",
                field="state",
            )
        provider = self.providers.get(profile)
        status = await self._call(
            profile, "cancel", [order_id], lambda: provider.cancel(seller_tax_id, order_id)
        )
        if status.state is S.CANCELLED:
            new = await self._transition(
                record, S.CANCELLED, EventSource.API, detail={"raw_status": status.raw_status}
            )
        else:
            new = await self._apply(record, status, EventSource.API)
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
        from fapiao.documents import verify_document

        key = RequestKey(seller_tax_id, order_id)
        record = await self._record(key)
        if record.state not in HAS_INVOICE_STATES or not record.invoice_number:
            raise InvalidRequest(
                f"order {order_id} has no issued invoice yet ({record.state.value})",
                message_zh=f"订单 {order_id} 尚未开具发票（{record.state.value}）",
                field="state",
            )
        profile = record.provider_profile
        self._require(profile, Operation.DOCUMENTS)
        caps = self.providers.capabilities(profile)
        wanted = [DocumentFormat(f) for f in formats] if formats else sorted(caps.document_formats)
        for fmt in wanted:
            if fmt not in caps.document_formats:
                raise UnsupportedOperation(
                    f"provider {record.provider} does not deliver {fmt.value} files",
                    message_zh=f"服务商 {record.provider} 不提供 {fmt.value} 格式",
                    provider=record.provider,
                    field="formats",
                )
        provider = self.providers.get(profile)
        status = status_from_record(record)
        target = Path(dest_dir) if dest_dir is not None else None
        fetched: list[Document] = []
        for fmt in wanted:
            document = await self._call(
                profile,
                "documents",
                {"invoice_number": record.invoice_number, "format": fmt.value},
                lambda fmt=fmt: provider.fetch_document(status, fmt),  # type: ignore[misc]
            )
            if document.content is None:
                raise DocumentInvalid(
                    f"{record.provider} returned no content for the {fmt.value} file",
                    message_zh=f"服务商 {record.provider} 未返回 {fmt.value} 文件内容",
                    provider=record.provider,
                )
            verify_document(fmt, document.content, invoice_number=record.invoice_number)
            sha256 = hashlib.sha256(document.content).hexdigest()
            location = document.url or f"{record.provider}:{record.invoice_number}.{fmt.value}"
            if target is not None:
                name = document.filename or f"{record.invoice_number}.{fmt.value}"
                path = target / Path(name).name
                await asyncio.to_thread(_write_atomically, path, document.content)
                location = str(path)
            await self.ledger.add_document(key, fmt, sha256, len(document.content), location)
            fetched.append(document)
        self._notify("fapiao_archive_invoice", status=status, documents=list(fetched))
        return fetched

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        """Send an issued invoice to the buyer by e-mail or SMS through its provider."""
        profile = None
        if delivery.order_id:
            record = await self.ledger.get(RequestKey(delivery.seller_tax_id, delivery.order_id))
            if record is not None:
                profile = record.provider_profile
        if profile is None:
            profile = self.router.profile_for(delivery.seller_tax_id)
        self._require(profile, Operation.DELIVER)
        provider = self.providers.get(profile)
        return await self._call(profile, "deliver", delivery, lambda: provider.deliver(delivery))

    async def quota(self, seller_tax_id: str) -> Quota:
        """The seller's remaining invoicing quota (授信额度) at its provider."""
        profile = self.router.profile_for(seller_tax_id)
        self._require(profile, Operation.QUOTA)
        provider = self.providers.get(profile)
        return await self._call(
            profile, "quota", seller_tax_id, lambda: provider.quota(seller_tax_id)
        )

    # -- reconciliation ---------------------------------------------------------------------

    async def reconcile(
        self, *, profile: str | None = None, keys: Iterable[RequestKey] | None = None
    ) -> ReconcileReport:
        """Settle every unsettled record (or just ``keys``): query providers in batches of
        their declared ``max_query_batch``, apply what they say, resend what provably never
        arrived, continue confirmed red forms and revert lapsed ones."""
        return await reconcile(self, profile=profile, keys=keys)


def _hook_failed(detail: str) -> ValidationIssue:
    return ValidationIssue(
        code="HOOK_FAILED",
        path="",
        message_zh=f"校验插件出错：{detail[:200]}",
        message_en=f"a fapiao_validate_invoice hook failed: {detail[:200]}",
    )


def _not_found(key: RequestKey) -> NotFound:
    return NotFound(
        f"no request for order {key.order_id} of seller {mask_tax_id(key.seller_tax_id)}",
        message_zh=f"没有销方 {mask_tax_id(key.seller_tax_id)} 订单 {key.order_id} 的请求记录",
        field="order_id",
    )


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item

"""The engine's kernel: the few things every workflow needs, as one object with a public API.

Issuance, the red workflow, reconciliation, batches and downloads are each their own class
over a :class:`Kernel`; ``AsyncClient`` builds one kernel and the workflows, and delegates to
them. Nothing here knows a workflow: where one must react to another's outcome (a red invoice
issued → its blue invoice is reversed), it registers a listener with :meth:`Kernel.on_applied`
instead of the two calling each other. See docs/architecture.md.

What the kernel owns:

- :meth:`call`: one provider operation with the concurrency bounds, the before/after hooks,
  the metrics, and the mapping of a crashing plugin to a canonical error (after a
  non-idempotent send, an unknown outcome);
- :meth:`transition` and :meth:`apply`: a ledger change (our decision, or a provider's report)
  followed by the status-changed notifications and the listeners;
- :meth:`record`, :meth:`require`, :meth:`mismatch`: look-ups and refusals every workflow
  raises the same way;
- :attr:`inflight`: the requests this process is sending right now (reconcile leaves them
  alone; a second identical call waits for the first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import pluggy

from fapiao.contract.operations import spec
from fapiao.errors import (
    DuplicateOrder,
    FapiaoError,
    InvalidStateTransition,
    NotFound,
    OutcomeUnknown,
    ProviderError,
)
from fapiao.masking import mask_tax_id
from fapiao.models import Invoice, InvoiceState, InvoiceStatus, Operation

from .config import FapiaoConfig
from .ledger import Ledger, LedgerRecord, RequestKey
from .monitoring import ProviderMonitor
from .providers import ProviderPool
from .report_checks import disagreement
from .routing import Router

__all__ = ["AppliedListener", "InFlight", "Kernel", "not_found"]

log = logging.getLogger("fapiao.engine")

T = TypeVar("T")
V = TypeVar("V")

AppliedListener = Callable[[LedgerRecord, LedgerRecord, str], Awaitable[None]]
"""Called as ``listener(before, after, source)`` after a provider's report moved a record."""


class InFlight(Generic[V]):
    """Requests this process is working on, each with the value it was started with and the
    future its outcome will be set on (an identical second call awaits the first's)."""

    def __init__(self) -> None:
        self._running: dict[RequestKey, tuple[V, asyncio.Future[Any]]] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._running

    def get(self, key: RequestKey) -> tuple[V, asyncio.Future[Any]] | None:
        return self._running.get(key)

    def start(self, key: RequestKey, value: V) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._running[key] = (value, future)
        return future

    def finish(self, key: RequestKey) -> None:
        self._running.pop(key, None)


class Kernel:
    """Shared by every workflow of one ``AsyncClient`` (one event loop)."""

    def __init__(
        self,
        config: FapiaoConfig,
        *,
        ledger: Ledger,
        providers: ProviderPool,
        hooks: pluggy.HookRelay,
        monitor: ProviderMonitor,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.providers = providers
        self.router = Router(config)
        self.hooks = hooks
        self.monitor = monitor
        self.inflight: InFlight[Any] = InFlight()
        self._global_slots = asyncio.Semaphore(config.engine.concurrency)
        self._profile_slots: dict[str, asyncio.Semaphore] = {}
        self._listeners: list[AppliedListener] = []

    # -- hooks and listeners ----------------------------------------------------------------

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call an observer hook; one that raises is logged and ignored (a broken archive
        plugin must not turn an issued invoice into an error)."""
        caller = getattr(self.hooks, hook)
        if not caller.get_hookimpls():  # nobody listens: skip pluggy's call machinery
            return
        try:
            caller(**kwargs)
        except Exception as exc:
            log.warning("hook %s failed: %s", hook, self.providers.scrub(repr(exc))[:300])

    def on_applied(self, listener: AppliedListener) -> None:
        """Run ``listener`` after every provider report that changed a record's state."""
        self._listeners.append(listener)

    def changed(self, record: LedgerRecord, old: InvoiceState | None) -> None:
        """Metrics and the ``fapiao_status_changed`` hook after a committed state change."""
        if old == record.state:
            return
        self.monitor.state_changed(record.provider_profile, record.state.value)
        self.notify(
            "fapiao_status_changed",
            seller_tax_id=record.key.seller_tax_id,
            order_id=record.key.order_id,
            old=old,
            new=record.state,
        )

    # -- provider calls -----------------------------------------------------------------------

    def require(self, profile: str, operation: Operation) -> None:
        """Refuse an operation the profile's provider does not declare (no network call)."""
        refusal = self.providers.capabilities(profile).refuse_operation(
            operation, self.providers.provider_name(profile), profile=profile
        )
        if refusal is not None:
            raise refusal

    def _profile_slot(self, profile: str) -> asyncio.Semaphore:
        slot = self._profile_slots.get(profile)
        if slot is None:
            limit = self.providers.profile(profile).config.limits.concurrency
            slot = self._profile_slots[profile] = asyncio.Semaphore(limit)
        return slot

    async def call(
        self, profile: str, operation: Operation, payload: Any, call: Callable[[], Awaitable[T]]
    ) -> T:
        """One provider operation with the concurrency bounds, hooks and metrics."""
        provider = self.providers.provider_name(profile)
        async with self._global_slots, self._profile_slot(profile):
            self.notify(
                "fapiao_before_provider_call",
                provider=provider,
                operation=operation.value,
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
                    self.monitor.observe(profile, provider, operation.value, elapsed, error)
                    self.notify(
                        "fapiao_after_provider_call",
                        provider=provider,
                        operation=operation.value,
                        duration_seconds=elapsed,
                        error=error,
                    )

    def _plugin_failure(self, profile: str, operation: Operation, exc: Exception) -> FapiaoError:
        """A plugin that crashes is not a clean refusal: after a send, the outcome is unknown."""
        provider = self.providers.provider_name(profile)
        detail = self.providers.scrub(f"{type(exc).__name__}: {exc}")[:300]
        name = operation.value
        if not spec(operation).idempotent:
            return OutcomeUnknown(
                f"provider plugin {provider} failed during {name}: {detail}",
                message_zh=f"服务商插件 {provider} 在 {name} 时出错，结果未知：{detail}",
                provider=provider,
            )
        return ProviderError(
            f"provider plugin {provider} failed during {name}: {detail}",
            message_zh=f"服务商插件 {provider} 在 {name} 时出错：{detail}",
            provider=provider,
        )

    # -- the ledger ---------------------------------------------------------------------------

    async def transition(
        self, record: LedgerRecord, to: InvoiceState, source: str, **fields: Any
    ) -> LedgerRecord:
        """Our own decision: an explicit, compare-and-set transition from the state we read
        (``expect_from``), refused with ``InvalidStateTransition`` if the record moved."""
        fields.setdefault("expect_from", {record.state})
        new = await self.ledger.transition(record.key, to, source=source, **fields)
        self.changed(new, record.state)
        return new

    async def apply(
        self,
        record: LedgerRecord,
        status: InvoiceStatus,
        source: str,
        *,
        requested: Invoice | None = None,
    ) -> LedgerRecord:
        """A provider's report (idempotent, never backwards), then the listeners. A report
        that cannot be true of this record (``report_checks``) changes nothing: it is noted
        on the record for a person and the record is returned as it is. ``requested`` is the
        invoice itself when the caller holds it (spares rebuilding it from the payload)."""
        reason = disagreement(record, status, requested)
        if reason is not None:
            return await self._reject_report(record, status, source, reason)
        new = await self.ledger.apply_status(record.key, status, source=source)
        self.changed(new, record.state)
        if new.state is not record.state:
            for listener in self._listeners:
                await listener(record, new, source)
        return new

    async def _reject_report(
        self, record: LedgerRecord, status: InvoiceStatus, source: str, reason: str
    ) -> LedgerRecord:
        log.warning(
            "report for %s/%s refused (%s): %s",
            mask_tax_id(record.key.seller_tax_id),
            record.key.order_id,
            source,
            reason,
        )
        detail = {
            "rejected_report": reason,
            "reported_state": status.state.value,
            "raw_status": status.raw_status,
        }
        with contextlib.suppress(InvalidStateTransition):  # a final record: the log says it
            return await self.ledger.transition(
                record.key, record.state, source=source, detail=detail, expect_from={record.state}
            )
        return await self.record(record.key)

    async def record(self, key: RequestKey) -> LedgerRecord:
        """The ledger record of ``key``; ``NotFound`` if there is none."""
        record = await self.ledger.get(key)
        if record is None:
            raise not_found(key)
        return record

    @staticmethod
    def mismatch(key: RequestKey) -> DuplicateOrder:
        """The refusal of an order id reused for a different request of the same seller."""
        return DuplicateOrder(
            f"order {key.order_id} was already used for a different invoice of this seller; "
            "an order id identifies one invoice",
            message_zh=f"订单号 {key.order_id} 已用于该销方的另一张不同发票；一个订单号只对应一张发票",
            field="order_id",
        )


def not_found(key: RequestKey) -> NotFound:
    return NotFound(
        f"no request for order {key.order_id} of seller {mask_tax_id(key.seller_tax_id)}",
        message_zh=f"没有销方 {mask_tax_id(key.seller_tax_id)} 订单 {key.order_id} 的请求记录",
        field="order_id",
    )

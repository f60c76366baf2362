"""Run the scenario set and the burst against one profile and record every call.

Profiles run one after another (never at the same time) so one vendor's load does not
colour another's latencies. Every provider call is timed and recorded with its canonical
outcome; waiting for asynchronous issuance is done by querying (those polling queries are
not counted as the vendor's query latency). An issue call whose outcome is unknown is
settled by querying, never sent again: the comparison obeys the same exactly-once rule as
the engine.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

from fapiao.contract.provider import Provider
from fapiao.errors import FapiaoError, OutcomeUnknown, UnsupportedOperation
from fapiao.models import (
    Delivery,
    DeliveryChannel,
    DocumentFormat,
    Invoice,
    InvoiceState,
    InvoiceStatus,
    Operation,
    RedLine,
    RedReason,
    RedReversalRequest,
)
from fapiao.testing.samples import new_order_id
from fapiao.tools.calls import error_codes, settle
from fapiao.tools.compare.results import CallRecord, ProfileResult, ScenarioResult, Throughput
from fapiao.tools.compare.scenarios import MANY_LINES, scenario
from fapiao.tools.invoices import bad_inputs, invoice_mix, many_lines_invoice, with_new_order_id
from fapiao.tools.targets import Target

__all__ = ["ISSUED_END_TO_END", "ProfileRunner"]

T = TypeVar("T")

ISSUED_END_TO_END = "issue→issued"
"""Operation key of the time from sending an invoice to seeing its number (settled)."""


class _Refused(Exception):
    """An expected-error scenario whose request was accepted instead."""


class ProfileRunner:
    def __init__(
        self,
        target: Target,
        *,
        burst: int = 50,
        concurrency: int = 16,
        settle_timeout: float = 30.0,
    ) -> None:
        self.target = target
        self.burst = burst
        self.concurrency = concurrency
        self.settle_timeout = settle_timeout
        self.records: list[CallRecord] = []
        self.issued: dict[str, tuple[Invoice, InvoiceStatus, float]] = {}
        self.named: dict[str, tuple[Invoice, InvoiceStatus]] = {}
        self._provider: Provider | None = None

    @property
    def provider(self) -> Provider:
        assert self._provider is not None, "run() creates the provider"
        return self._provider

    @property
    def seller(self) -> str:
        return self.target.seller_tax_id

    def declared(self, operation: Operation) -> bool:
        return operation in self.target.capabilities.operations

    # -- recording ---------------------------------------------------------------------------
    async def timed(
        self,
        operation: str,
        call: Callable[[], Awaitable[T]],
        *,
        expect_error: bool = False,
        declared: bool = True,
    ) -> T:
        started = time.perf_counter()
        try:
            result = await call()
        except FapiaoError as exc:
            ms = (time.perf_counter() - started) * 1000
            if not (isinstance(exc, UnsupportedOperation) and not declared):
                self.records.append(CallRecord(operation, False, ms, exc.code, expect_error))
            raise
        ms = (time.perf_counter() - started) * 1000
        self.records.append(CallRecord(operation, True, ms))
        return result

    async def issue_settled(
        self, invoice: Invoice, *, expect_error: bool = False, operation: str = "issue"
    ) -> InvoiceStatus:
        """Issue, then query until settled. A failed status is raised as its canonical error
        (so callers see one shape of refusal, synchronous or not)."""
        started = time.perf_counter()
        wall = time.time()
        try:
            result: InvoiceStatus = await self.timed(
                operation, lambda: self.provider.issue(invoice), expect_error=expect_error
            )
        except OutcomeUnknown:
            result = await settle(
                self.provider, self.seller, invoice.order_id, within=self.settle_timeout
            )
        if result.state is InvoiceState.ISSUING or not (
            result.state is InvoiceState.FAILED or result.invoice_number
        ):
            result = await settle(
                self.provider, self.seller, invoice.order_id, within=self.settle_timeout
            )
        if result.state is InvoiceState.FAILED:
            if result.error is not None:
                error = FapiaoError.from_info(result.error, provider=self.target.provider_name)
                self.records.append(
                    CallRecord(
                        ISSUED_END_TO_END,
                        False,
                        (time.perf_counter() - started) * 1000,
                        error.code,
                        expect_error,
                    )
                )
                raise error
            raise FapiaoError(f"order {invoice.order_id} failed without an error")
        self.records.append(
            CallRecord(ISSUED_END_TO_END, True, (time.perf_counter() - started) * 1000)
        )
        self.issued[invoice.order_id] = (invoice, result, wall)
        return result

    # -- scenarios -----------------------------------------------------------------------------
    async def _scenario(
        self,
        scenario_id: str,
        body: Callable[[], Awaitable[dict[str, str]]],
        *,
        expected: frozenset[str] = frozenset(),
    ) -> ScenarioResult:
        spec = scenario(scenario_id)
        result = ScenarioResult(
            id=spec.id,
            group=spec.group,
            title_zh=spec.title_zh,
            title_en=spec.title_en,
            expect=spec.expect,
            outcome="fail",
        )
        started = time.perf_counter()
        try:
            result.evidence = await body()
        except UnsupportedOperation as exc:
            result.outcome = "unsupported"
            result.codes = [exc.code]
            result.detail = exc.message_en
        except FapiaoError as exc:
            result.codes = sorted(error_codes(exc))
            result.raw_code = exc.raw_code
            result.detail = exc.message_en
            if spec.expect == "error":
                result.outcome = "pass"
                result.expected_code_matched = (
                    bool(expected & set(result.codes)) if expected else None
                )
        except _Refused as exc:
            result.detail = str(exc)
        except (TimeoutError, AssertionError) as exc:
            result.detail = str(exc)
        else:
            if spec.expect == "ok":
                result.outcome = "pass"
            elif result.evidence.get("outcome") == "same invoice returned":
                result.outcome = "pass"  # an idempotent answer is a correct refusal to duplicate
                result.expected_code_matched = True
            else:
                result.detail = "accepted although it should have been refused"
        result.ms = (time.perf_counter() - started) * 1000
        if spec.expect == "ok" and "ms" in result.evidence:
            result.ms = float(result.evidence.pop("ms"))
        return result

    async def run(self) -> ProfileResult:
        target = self.target
        caps = target.capabilities
        profile = ProfileResult(
            profile=target.profile,
            provider=target.provider_name,
            display_name=target.display_name,
            display_name_zh=target.display_name_zh,
            source=target.source,
            environment=target.settings.environment.value,
            capabilities=caps.model_dump(mode="json"),
        )
        started = time.perf_counter()
        self._provider = target.provider()
        try:
            for step in self._steps():
                profile.scenarios.append(await step())
            profile.throughput = await self._burst()
        finally:
            await self.provider.aclose()
        profile.records = self.records
        profile.seconds = time.perf_counter() - started
        return profile

    def _steps(self) -> list[Callable[[], Awaitable[ScenarioResult]]]:
        mix = invoice_mix(self.target.seller, self.target.buyer)
        steps: list[Callable[[], Awaitable[ScenarioResult]]] = [
            lambda: self._scenario("quota", self._quota)
        ]
        for name, invoice in mix.items():
            steps.append(self._issue_step(f"issue.{name}", invoice, name))
        steps.append(
            self._issue_step(
                "issue.many_lines",
                many_lines_invoice(self.target.seller, self.target.buyer, MANY_LINES),
            )
        )
        steps.append(lambda: self._scenario("query.batch", self._query_batch))
        steps.append(
            lambda: self._scenario(
                "duplicate.same_order", self._duplicate, expected=frozenset({"DUPLICATE_ORDER"})
            )
        )
        for name, bad in bad_inputs(self.target.seller, self.target.buyer).items():
            steps.append(self._bad_step(f"bad.{name}", bad.invoice, bad.expected))
        for fmt in DocumentFormat:
            steps.append(self._document_step(fmt))
        for channel in (DeliveryChannel.EMAIL, DeliveryChannel.SMS):
            steps.append(self._deliver_step(channel))
        steps.append(lambda: self._scenario("callback.issued", self._callback))
        steps.append(lambda: self._scenario("red.full", self._red_full))
        steps.append(lambda: self._scenario("red.partial", self._red_partial))
        steps.append(
            lambda: self._scenario(
                "red.over_reversal",
                self._over_reversal,
                expected=frozenset({"RED_NOT_ALLOWED", "INVALID_TRANSITION"}),
            )
        )
        return steps

    def _issue_step(
        self, scenario_id: str, invoice: Invoice, name: str | None = None
    ) -> Callable[[], Awaitable[ScenarioResult]]:
        async def body() -> dict[str, str]:
            started = time.perf_counter()
            status = await self.issue_settled(invoice)
            if name is not None:
                self.named[name] = (invoice, status)
            return {
                "order_id": invoice.order_id,
                "invoice_number": status.invoice_number or "",
                "ms": str((time.perf_counter() - started) * 1000),
            }

        return lambda: self._scenario(scenario_id, body)

    def _bad_step(
        self, scenario_id: str, invoice: Invoice, expected: frozenset[str]
    ) -> Callable[[], Awaitable[ScenarioResult]]:
        async def body() -> dict[str, str]:
            status = await self.issue_settled(invoice, expect_error=True)
            raise _Refused(f"issued as {status.invoice_number}: the bad input was accepted")

        return lambda: self._scenario(scenario_id, body, expected=expected)

    async def _quota(self) -> dict[str, str]:
        quota = await self.timed(
            "quota",
            lambda: self.provider.quota(self.seller),
            declared=self.declared(Operation.QUOTA),
        )
        return {"remaining": str(quota.remaining) if quota.remaining is not None else "-"}

    async def _query_batch(self) -> dict[str, str]:
        if not self.issued:
            raise _Refused("nothing was issued to query")
        unknown = new_order_id("NONE")
        issued = list(self.issued)[: self.target.capabilities.max_query_batch - 1]
        wanted = [*issued, unknown]
        statuses = await self.timed("query", lambda: self.provider.query(self.seller, wanted))
        found = {s.order_id for s in statuses}
        if unknown in found:
            raise _Refused("the unknown order id was answered instead of omitted")
        missing = [o for o in wanted if o != unknown and o not in found]
        if missing:
            raise _Refused(f"{len(missing)} issued order(s) missing from the answer")
        return {"orders": str(len(wanted) - 1)}

    async def _duplicate(self) -> dict[str, str]:
        if not self.issued:
            raise _Refused("nothing was issued to repeat")
        invoice, status, _wall = next(iter(self.issued.values()))
        again = await self.timed("issue", lambda: self.provider.issue(invoice), expect_error=True)
        if again.invoice_number not in {None, status.invoice_number}:
            raise _Refused(f"a second invoice {again.invoice_number} for one order id")
        return {"outcome": "same invoice returned", "invoice_number": status.invoice_number or ""}

    def _document_step(self, fmt: DocumentFormat) -> Callable[[], Awaitable[ScenarioResult]]:
        async def body() -> dict[str, str]:
            from fapiao.documents import verify_document

            _invoice, status, _wall = self._first_issued()
            document = await self.timed(
                "documents",
                lambda: self.provider.fetch_document(status, fmt),
                declared=self.declared(Operation.DOCUMENTS)
                and fmt in self.target.capabilities.document_formats,
            )
            if not document.content:
                raise _Refused(f"no {fmt.value} content")
            verify_document(fmt, document.content, invoice_number=status.invoice_number)
            return {"sha256": document.sha256 or "", "bytes": str(len(document.content))}

        return lambda: self._scenario(f"documents.{fmt.value}", body)

    def _deliver_step(self, channel: DeliveryChannel) -> Callable[[], Awaitable[ScenarioResult]]:
        address = "buyer@example.com" if channel is DeliveryChannel.EMAIL else "13812345678"

        async def body() -> dict[str, str]:
            invoice, status, _wall = self._first_issued()
            result = await self.timed(
                "deliver",
                lambda: self.provider.deliver(
                    Delivery(
                        seller_tax_id=self.seller,
                        invoice_number=status.invoice_number or "",
                        order_id=invoice.order_id,
                        channel=channel,
                        address=address,
                    )
                ),
                declared=self.declared(Operation.DELIVER)
                and channel in self.target.capabilities.delivery_channels,
            )
            if not result.accepted:
                raise _Refused(f"{channel.value} delivery not accepted")
            return {"provider_ref": result.provider_ref or "-"}

        return lambda: self._scenario(f"deliver.{channel.value}", body)

    def _first_issued(self) -> tuple[Invoice, InvoiceStatus, float]:
        if not self.issued:
            raise _Refused("nothing was issued")
        return next(iter(self.issued.values()))

    async def _callback(self) -> dict[str, str]:
        if not self.declared(Operation.CALLBACK):
            raise UnsupportedOperation(
                "status by polling only: no callbacks", message_zh="仅支持轮询，无回调"
            )
        receiver = self.target.callbacks
        if receiver is None:
            raise _Refused("no callback receiver for this profile")
        invoice, status, wall = self._first_issued()
        order = invoice.order_id.encode()
        request = await receiver.wait_for(lambda r: order in r.body, within=self.settle_timeout)
        verified = await self.timed(
            "callback",
            self._sync(
                lambda: self.provider.verify_callback(request.headers, request.body, request.query)
            ),
        )
        mine = [s for s in verified.statuses if s.order_id == invoice.order_id]
        if not mine or mine[0].invoice_number != status.invoice_number:
            raise _Refused("the callback did not carry the issued invoice")
        delay_ms = max(0.0, (request.received_at - wall) * 1000)
        return {"ms": str(delay_ms), "delay_after_issue_ms": f"{delay_ms:.0f}"}

    @staticmethod
    def _sync(fn: Callable[[], T]) -> Callable[[], Awaitable[T]]:
        async def run() -> T:
            return fn()

        return run

    def _red_request(
        self, invoice: Invoice, status: InvoiceStatus, reason: RedReason, lines: tuple[RedLine, ...]
    ) -> RedReversalRequest:
        return RedReversalRequest(
            order_id=new_order_id("RED"),
            seller_tax_id=self.seller,
            buyer_tax_id=invoice.buyer.tax_id,
            original_invoice_number=status.invoice_number or "",
            original_order_id=invoice.order_id,
            reason=reason,
            lines=lines,
        )

    async def _reverse(
        self,
        invoice: Invoice,
        status: InvoiceStatus,
        reason: RedReason,
        lines: tuple[RedLine, ...] = (),
        *,
        expect_error: bool = False,
    ) -> dict[str, str]:
        declared = self.declared(Operation.RED_APPLY)
        request = self._red_request(invoice, status, reason, lines)
        form = await self.timed(
            "red_apply",
            lambda: self.provider.red_apply(request),
            expect_error=expect_error,
            declared=declared,
        )
        if self.declared(Operation.RED_QUERY):
            await self.timed(
                "red_query", lambda: self.provider.red_query(self.seller, form.confirmation_id)
            )
        started = time.perf_counter()
        await self.timed(
            "red_issue", lambda: self.provider.red_issue(form), expect_error=expect_error
        )
        red = await settle(self.provider, self.seller, form.order_id, within=self.settle_timeout)
        if red.state is not InvoiceState.ISSUED or not red.is_red:
            raise _Refused(f"red invoice ended {red.state.value}")
        self.records.append(
            CallRecord("red issue→issued", True, (time.perf_counter() - started) * 1000)
        )
        return {
            "confirmation_id": form.confirmation_id,
            "red_invoice_number": red.invoice_number or "",
            "red_amount": str(form.amount),
        }

    def _named(self, name: str) -> tuple[Invoice, InvoiceStatus]:
        if name not in self.named:
            raise _Refused(f"the {name} invoice was not issued")
        return self.named[name]

    async def _red_full(self) -> dict[str, str]:
        invoice, status = self._named("special_multi_rate")
        return await self._reverse(invoice, status, RedReason.INVOICING_ERROR)

    async def _red_partial(self) -> dict[str, str]:
        if not self.target.capabilities.red_partial:
            raise UnsupportedOperation(
                "partial red reversal not declared", message_zh="不支持部分红冲"
            )
        invoice, status = self._named("normal_simplified_rates")
        half = (invoice.lines[0].amount / 2).quantize(Decimal("0.01"))
        return await self._reverse(
            invoice, status, RedReason.SALES_RETURN, (RedLine(original_line=0, amount=half),)
        )

    async def _over_reversal(self) -> dict[str, str]:
        invoice, status = self._named("special_multi_rate")
        await self._reverse(invoice, status, RedReason.INVOICING_ERROR, expect_error=True)
        raise _Refused("a second full reversal of a reversed invoice was accepted")

    # -- the burst ---------------------------------------------------------------------------------
    async def _burst(self) -> Throughput | None:
        if self.burst <= 0:
            return None
        template = invoice_mix(self.target.seller, self.target.buyer)["normal_natural_person"]
        invoices = [with_new_order_id(template, "BURST") for _ in range(self.burst)]
        gate = asyncio.Semaphore(self.concurrency)
        errors: Counter[str] = Counter()
        accepted_at: list[float] = []
        issued_at: list[float] = []
        unknown_resolved = 0
        started = time.perf_counter()

        async def one(invoice: Invoice) -> None:
            nonlocal unknown_resolved
            async with gate:
                try:
                    result: InvoiceStatus = await self.timed(
                        "issue (burst)", lambda: self.provider.issue(invoice)
                    )
                except OutcomeUnknown as exc:
                    errors[exc.code] += 1
                    result = await self._resolve(invoice)
                    unknown_resolved += result.state is InvoiceState.ISSUED
                except FapiaoError as exc:
                    errors[exc.code] += 1
                    return
                accepted_at.append(time.perf_counter())
                if result.state is not InvoiceState.ISSUED or not result.invoice_number:
                    try:
                        result = await settle(
                            self.provider,
                            self.seller,
                            invoice.order_id,
                            within=self.settle_timeout,
                            max_poll=0.05,
                        )
                    except (FapiaoError, TimeoutError) as exc:
                        errors[getattr(exc, "code", "SETTLE_TIMEOUT")] += 1
                        return
                if result.state is InvoiceState.ISSUED:
                    issued_at.append(time.perf_counter())
                elif result.error is not None:
                    errors[result.error.code] += 1

        await asyncio.gather(*(one(i) for i in invoices))
        return Throughput(
            invoices=self.burst,
            concurrency=self.concurrency,
            accepted=len(accepted_at),
            issued=len(issued_at),
            failed=self.burst - len(issued_at),
            unknown_resolved=unknown_resolved,
            accept_seconds=(max(accepted_at) - started) if accepted_at else 0.0,
            issued_seconds=(max(issued_at) - started) if issued_at else 0.0,
            errors=dict(errors),
        )

    async def _resolve(self, invoice: Invoice) -> InvoiceStatus:
        """An issue whose outcome is unknown: ask the provider, never send it again."""
        try:
            return await settle(
                self.provider, self.seller, invoice.order_id, within=self.settle_timeout
            )
        except TimeoutError:
            return InvoiceStatus(
                provider=self.target.provider_name,
                seller_tax_id=self.seller,
                order_id=invoice.order_id,
                state=InvoiceState.SUBMITTED,
            )

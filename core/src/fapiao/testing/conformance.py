"""The provider conformance suite: one test class every provider plugin runs against its own
sandbox.

Using it
--------
In the plugin's tests, a module (say ``tests/test_conformance.py``)::

    from fapiao.testing.conformance import ProviderConformance

    class TestMyVendorConformance(ProviderConformance):
        pass

and, in that directory's ``conftest.py``, ONE fixture named ``conformance_harness`` that
returns a :class:`fapiao.testing.ConformanceHarness`: a provider factory wired to the
plugin's sandbox, the sandbox seller, the bad inputs per canonical error code, the secrets
given to the provider, and optionally the ``callback_receiver`` (a fixture this kit
provides: a loopback server whose ``url`` the plugin passes as ``callback_url``), a sandbox
clock and a way to mark an invoice as used by the buyer. Start the sandbox once per module
or session (``fapiao.sandboxkit.serve``); the harness fixture itself may be cheap.

What is checked
---------------
* metadata and declarations are well formed; every declared operation is implemented;
* issue → query (waiting for asynchronous issuance) → the invoice number, state and totals
  agree with ``fapiao.rules``; issuing the same order id twice never makes a second
  invoice; querying unknown order ids returns no status for them (no exception);
* documents in every declared format download, have the right type, parse and hash;
* red reversal full and (if declared) partial, over-reversal refused, the 72 h rule when
  the harness can steer the sandbox clock;
* each canonical error code in ``bad_inputs`` is produced for its bad input (raised, or
  reported as a failed status once issuance settles);
* callbacks (if declared): a genuine callback verifies and normalises; a forged, unsigned
  or replayed one raises ``CallbackRejected``. Not declared: ``UnsupportedOperation``;
* undeclared operations raise ``UnsupportedOperation`` *without any network call* (the
  provider is pointed at a closed port, so a call would surface as
  ``ProviderUnavailable``);
* ``scrub`` removes every secret the harness gave the provider, from synthetic transcripts
  and from the transport's real log lines.

The contract points this suite pins down (so providers agree): ``query`` omits order ids it
does not know; a duplicate order id either raises ``DuplicateOrder`` or returns the first
invoice; ``red_issue`` on a lapsed or rejected form raises ``RedReversalNotAllowed`` or
``InvalidStateTransition``.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from fapiao.contract.capabilities import Capabilities
from fapiao.contract.operations import OPERATIONS, probe
from fapiao.contract.provider import Provider
from fapiao.contract.settings import ProviderSettings
from fapiao.errors import (
    CallbackRejected,
    DuplicateOrder,
    FapiaoError,
    InvalidInvoice,
    InvalidStateTransition,
    ProviderUnavailable,
    RedReversalNotAllowed,
    UnsupportedOperation,
)
from fapiao.models import (
    Delivery,
    DeliveryChannel,
    Invoice,
    InvoiceState,
    InvoiceStatus,
    Operation,
    RedApplicant,
    RedConfirmation,
    RedConfirmationState,
    RedLine,
    RedReason,
    RedReversalRequest,
)
from fapiao.testing.harness import CapturedRequest, ConformanceHarness
from fapiao.testing.samples import new_order_id, sample_invoices

__all__ = ["ProviderConformance", "settle"]

_CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard port: nothing listens on loopback


async def settle(
    provider: Provider, seller_tax_id: str, order_id: str, *, within: float = 10.0
) -> InvoiceStatus:
    """Query until the order leaves ``issuing`` (asynchronous issuance), then return it."""
    deadline = time.monotonic() + within
    delay = 0.01
    while True:
        found = [
            s for s in await provider.query(seller_tax_id, [order_id]) if s.order_id == order_id
        ]
        if found and found[0].state is not InvoiceState.ISSUING:
            return found[0]
        if time.monotonic() > deadline:
            state = found[0].state.value if found else "not found"
            raise AssertionError(f"order {order_id} still {state} after {within} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)


class ProviderConformance:
    """Subclass as ``TestXxxConformance`` and provide the ``conformance_harness`` fixture."""

    # -- fixtures -------------------------------------------------------------------
    @pytest.fixture
    async def conformance_provider(
        self, conformance_harness: ConformanceHarness
    ) -> AsyncIterator[Provider]:
        provider = conformance_harness.provider_factory()
        try:
            yield provider
        finally:
            await provider.aclose()

    # -- helpers --------------------------------------------------------------------
    @staticmethod
    def _caps(provider: Provider) -> Capabilities:
        return provider.capabilities

    @staticmethod
    def _blue_invoices(harness: ConformanceHarness) -> list[Invoice]:
        if harness.invoices:
            return list(harness.invoices)
        return sample_invoices(harness.seller, harness.buyer)

    @staticmethod
    def _fresh(invoice: Invoice) -> Invoice:
        return invoice.model_copy(update={"order_id": new_order_id()})

    async def _issue_settled(
        self, provider: Provider, harness: ConformanceHarness, invoice: Invoice
    ) -> InvoiceStatus:
        result = await provider.issue(invoice)
        assert result.order_id == invoice.order_id
        assert result.state in {InvoiceState.ISSUING, InvoiceState.ISSUED}, result
        if provider.capabilities.issuance == "sync":
            assert result.state is InvoiceState.ISSUED, "sync issuance must return issued"
            assert result.invoice_number
        status = await settle(
            provider,
            invoice.seller.tax_id or "",
            invoice.order_id,
            within=harness.settle_timeout,
        )
        assert status.state is InvoiceState.ISSUED, status.error or status
        return status

    # -- declarations ---------------------------------------------------------------
    def test_declarations_are_well_formed(self, conformance_provider: Provider) -> None:
        provider = conformance_provider
        assert isinstance(provider, Provider)
        assert provider.name and provider.name.isidentifier(), provider.name
        assert provider.info.display_name
        assert issubclass(provider.settings_model, ProviderSettings)
        caps = provider.capabilities
        assert isinstance(caps, Capabilities)
        assert Operation.ISSUE in caps.operations and Operation.QUERY in caps.operations
        if Operation.DOCUMENTS in caps.operations:
            assert caps.document_formats, "documents declared without any format"
        if Operation.DELIVER in caps.operations:
            assert caps.delivery_channels, "delivery declared without any channel"
        if caps.status_updates == "callback":
            assert Operation.CALLBACK in caps.operations
        if caps.red_partial:
            assert Operation.RED_APPLY in caps.operations

    def test_declared_operations_are_implemented(self, conformance_provider: Provider) -> None:
        from fapiao.sdk import ProviderBase

        for operation in self._caps(conformance_provider).operations:
            method = getattr(type(conformance_provider), OPERATIONS[operation].method)
            inherited = getattr(ProviderBase, OPERATIONS[operation].method)
            assert method is not inherited, f"{operation.value} declared but not implemented"

    async def test_undeclared_operations_refused_without_network(
        self, conformance_harness: ConformanceHarness
    ) -> None:
        offline = conformance_harness.provider_factory(base_url=_CLOSED_PORT_URL)
        try:
            seller = conformance_harness.seller.tax_id or ""
            undeclared = [op for op in Operation if op not in offline.capabilities.operations]
            for operation in undeclared:
                with pytest.raises(UnsupportedOperation) as caught:
                    await probe(offline, operation, seller)
                assert caught.value.code == "UNSUPPORTED", operation
            # A declared network operation against the closed port must fail as
            # unavailable: proof that the refusals above really were offline.
            with pytest.raises(ProviderUnavailable):
                await offline.query(seller, [new_order_id()])
        finally:
            await offline.aclose()

    # -- issue and query --------------------------------------------------------------
    async def test_issue_then_query_until_issued(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        from fapiao.rules import compute_totals

        for invoice in self._blue_invoices(conformance_harness):
            status = await self._issue_settled(conformance_provider, conformance_harness, invoice)
            assert status.provider == conformance_provider.name
            assert status.order_id == invoice.order_id
            assert status.invoice_number and len(status.invoice_number) == 20, status
            assert status.invoice_number.isdigit()
            assert not status.is_red
            totals = compute_totals(invoice)
            if status.total_amount is not None:
                assert status.total_amount == totals.total_amount, invoice.order_id
            if status.total_tax is not None:
                assert status.total_tax == totals.total_tax, invoice.order_id
            if status.total_with_tax is not None:
                assert status.total_with_tax == totals.total_with_tax, invoice.order_id

    async def test_same_order_twice_never_makes_a_second_invoice(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        invoice = self._fresh(self._blue_invoices(conformance_harness)[0])
        first = await self._issue_settled(conformance_provider, conformance_harness, invoice)
        duplicate: DuplicateOrder | None = None
        try:
            again = await conformance_provider.issue(invoice)
        except DuplicateOrder as exc:
            duplicate = exc
        if duplicate is not None:
            assert duplicate.raw_code, "the provider's own duplicate code must be kept"
        else:
            assert again.invoice_number in {None, first.invoice_number}
            assert again.serial_number in {None, first.serial_number}
        statuses = await conformance_provider.query(invoice.seller.tax_id or "", [invoice.order_id])
        assert [s.invoice_number for s in statuses] == [first.invoice_number]

    async def test_query_batch_omits_unknown_orders(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        seller = conformance_harness.seller.tax_id or ""
        issued = [
            await self._issue_settled(conformance_provider, conformance_harness, self._fresh(i))
            for i in self._blue_invoices(conformance_harness)[:2]
        ]
        unknown = new_order_id("NONE")
        wanted = [s.order_id for s in issued] + [unknown]
        statuses = await conformance_provider.query(seller, wanted)
        assert sorted(s.order_id for s in statuses) == sorted(s.order_id for s in issued)
        assert await conformance_provider.query(seller, [new_order_id("NONE")]) == []
        batch = conformance_provider.capabilities.max_query_batch
        many = [new_order_id("NONE") for _ in range(batch + 3)]
        assert await conformance_provider.query(seller, many) == []

    # -- documents --------------------------------------------------------------------
    async def test_documents_in_every_declared_format(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        caps = conformance_provider.capabilities
        if Operation.DOCUMENTS not in caps.operations:
            pytest.skip("documents not declared")
        from fapiao.documents import sniff_format, verify_document

        invoice = self._fresh(self._blue_invoices(conformance_harness)[0])
        status = await self._issue_settled(conformance_provider, conformance_harness, invoice)
        for fmt in sorted(caps.document_formats):
            document = await conformance_provider.fetch_document(status, fmt)
            assert document.format is fmt
            assert document.invoice_number == status.invoice_number
            assert document.content, f"{fmt.value}: no content downloaded"
            assert sniff_format(document.content) is fmt
            verify_document(fmt, document.content, invoice_number=status.invoice_number)
            assert document.sha256 == hashlib.sha256(document.content).hexdigest()
            assert document.size == len(document.content)

    # -- red reversal -------------------------------------------------------------------
    async def _reverse(
        self,
        provider: Provider,
        harness: ConformanceHarness,
        blue: Invoice,
        status: InvoiceStatus,
        reason: RedReason,
        lines: Sequence[RedLine] = (),
    ) -> tuple[RedConfirmation, InvoiceStatus]:
        request = RedReversalRequest(
            order_id=new_order_id("RED"),
            seller_tax_id=blue.seller.tax_id or "",
            buyer_tax_id=blue.buyer.tax_id,
            original_invoice_number=status.invoice_number or "",
            original_order_id=blue.order_id,
            reason=reason,
            lines=tuple(lines),
        )
        confirmation = await provider.red_apply(request)
        assert confirmation.order_id == request.order_id
        assert confirmation.original_invoice_number == status.invoice_number
        assert confirmation.reason is reason
        assert confirmation.state in {
            RedConfirmationState.CONFIRMED,
            RedConfirmationState.RED_ISSUED,
        }, confirmation
        if Operation.RED_QUERY in provider.capabilities.operations:
            again = await provider.red_query(request.seller_tax_id, confirmation.confirmation_id)
            assert again.confirmation_id == confirmation.confirmation_id
        issued = await provider.red_issue(confirmation)
        assert issued.order_id == request.order_id
        red = await settle(
            provider, request.seller_tax_id, request.order_id, within=harness.settle_timeout
        )
        assert red.state is InvoiceState.ISSUED, red
        assert red.is_red
        assert red.original_invoice_number == status.invoice_number
        assert red.invoice_number and red.invoice_number != status.invoice_number
        return confirmation, red

    async def test_red_reversal_full(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        if Operation.RED_APPLY not in conformance_provider.capabilities.operations:
            pytest.skip("red reversal not declared")
        from fapiao.rules import compute_totals

        blue = self._fresh(self._blue_invoices(conformance_harness)[0])
        status = await self._issue_settled(conformance_provider, conformance_harness, blue)
        confirmation, red = await self._reverse(
            conformance_provider, conformance_harness, blue, status, RedReason.INVOICING_ERROR
        )
        totals = compute_totals(blue)
        assert confirmation.amount == -totals.total_amount
        assert confirmation.tax == -totals.total_tax
        if red.total_amount is not None:
            assert red.total_amount == -totals.total_amount
        # Nothing is left to reverse: a second full reversal is refused.
        with pytest.raises((RedReversalNotAllowed, InvalidStateTransition)):
            await self._reverse(
                conformance_provider, conformance_harness, blue, status, RedReason.INVOICING_ERROR
            )

    async def test_red_reversal_partial(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        caps = conformance_provider.capabilities
        if not caps.red_partial:
            pytest.skip("partial red reversal not declared")
        blue = self._fresh(self._blue_invoices(conformance_harness)[0])
        status = await self._issue_settled(conformance_provider, conformance_harness, blue)
        first_amount = (blue.lines[0].amount / 2).quantize(Decimal("0.01"))
        confirmation, red = await self._reverse(
            conformance_provider,
            conformance_harness,
            blue,
            status,
            RedReason.SALES_RETURN,
            [RedLine(original_line=0, amount=first_amount)],
        )
        assert confirmation.amount == -first_amount
        if red.total_amount is not None:
            assert red.total_amount == -first_amount
        # 开票有误 is full reversal only: refused before or by the provider.
        with pytest.raises((RedReversalNotAllowed, InvalidInvoice)):
            await self._reverse(
                conformance_provider,
                conformance_harness,
                blue,
                status,
                RedReason.INVOICING_ERROR,
                [RedLine(original_line=0, amount=Decimal("1.00"))],
            )
        # More than what remains of the line is refused.
        with pytest.raises((RedReversalNotAllowed, InvalidInvoice)):
            await self._reverse(
                conformance_provider,
                conformance_harness,
                blue,
                status,
                RedReason.SALES_RETURN,
                [RedLine(original_line=0, amount=blue.lines[0].amount)],
            )

    async def test_red_confirmation_lapses_after_72_hours(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        harness = conformance_harness
        if Operation.RED_APPLY not in conformance_provider.capabilities.operations:
            pytest.skip("red reversal not declared")
        if harness.mark_used is None or harness.advance_clock is None:
            pytest.skip("the harness cannot mark invoices used or move the sandbox clock")
        blue = self._fresh(self._blue_invoices(harness)[0])
        status = await self._issue_settled(conformance_provider, harness, blue)
        harness.mark_used(status.invoice_number or "")
        request = RedReversalRequest(
            order_id=new_order_id("RED"),
            seller_tax_id=blue.seller.tax_id or "",
            buyer_tax_id=blue.buyer.tax_id,
            original_invoice_number=status.invoice_number or "",
            original_order_id=blue.order_id,
            reason=RedReason.INVOICING_ERROR,
            applicant=RedApplicant.SELLER,
        )
        pending = await conformance_provider.red_apply(request)
        assert pending.state is RedConfirmationState.PENDING, pending
        assert pending.requires_confirmation
        assert pending.created_at and pending.expires_at
        assert pending.expires_at - pending.created_at == timedelta(hours=72)
        with pytest.raises((RedReversalNotAllowed, InvalidStateTransition)):
            await conformance_provider.red_issue(pending)
        harness.advance_clock(timedelta(hours=72, minutes=1))
        lapsed = await conformance_provider.red_query(
            request.seller_tax_id, pending.confirmation_id
        )
        assert lapsed.state is RedConfirmationState.LAPSED, lapsed
        with pytest.raises((RedReversalNotAllowed, InvalidStateTransition)):
            await conformance_provider.red_issue(lapsed)

    # -- canonical errors -------------------------------------------------------------
    async def test_each_declared_error_is_produced(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        assert conformance_harness.bad_inputs, "declare at least one bad input"
        problems: list[str] = []
        for code, bad in conformance_harness.bad_inputs.items():
            produced = await self._error_codes_of(conformance_provider, conformance_harness, bad)
            if code not in produced:
                problems.append(f"{code}: got {', '.join(sorted(produced))}")
        assert not problems, "; ".join(problems)

    async def _error_codes_of(
        self, provider: Provider, harness: ConformanceHarness, bad: Any
    ) -> set[str]:
        """The canonical code raised (plus, for ``InvalidInvoice``, the rule codes of its
        issues: an invalid tax ID caught before sending is ``INVALID_INVOICE`` carrying an
        ``INVALID_TAX_ID`` issue, the same code the provider's refusal would have)."""
        try:
            if isinstance(bad, Invoice):
                result: InvoiceStatus = await provider.issue(bad)
                if result.state is InvoiceState.ISSUING:
                    result = await settle(
                        provider,
                        bad.seller.tax_id or "",
                        bad.order_id,
                        within=harness.settle_timeout,
                    )
                if result.state is InvoiceState.FAILED and result.error is not None:
                    return {result.error.code}
                return {f"no error (state {result.state.value})"}
            await bad(provider)
        except FapiaoError as exc:
            if not (exc.message_zh and exc.message_en):
                return {f"{exc.code} without bilingual messages"}
            codes = {exc.code}
            if isinstance(exc, InvalidInvoice):
                codes |= {i.code for i in exc.issues if not i.warning}
            return codes
        return {"no error"}

    # -- callbacks -----------------------------------------------------------------------
    async def test_callbacks_verify_and_refuse_forgery_and_replay(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        provider = conformance_provider
        if Operation.CALLBACK not in provider.capabilities.operations:
            with pytest.raises(UnsupportedOperation):
                provider.verify_callback({}, b"{}", {})
            return
        receiver = conformance_harness.callbacks
        assert receiver is not None, "callbacks declared: the harness needs the receiver"
        invoice = self._fresh(self._blue_invoices(conformance_harness)[0])
        status = await self._issue_settled(provider, conformance_harness, invoice)
        order = invoice.order_id.encode()
        genuine = await receiver.wait_for(
            lambda r: order in r.body, within=conformance_harness.settle_timeout
        )

        result = provider.verify_callback(genuine.headers, genuine.body, genuine.query)
        mine = [s for s in result.statuses if s.order_id == invoice.order_id]
        assert mine and mine[0].state is InvoiceState.ISSUED
        assert mine[0].invoice_number == status.invoice_number
        assert 200 <= result.response_status < 300

        for name, forged in self._forgeries(genuine):
            try:
                provider.verify_callback(forged.headers, forged.body, forged.query)
            except CallbackRejected:
                continue
            pytest.fail(f"a {name} callback was accepted")
        with pytest.raises(CallbackRejected):  # the genuine one, a second time: a replay
            provider.verify_callback(genuine.headers, genuine.body, genuine.query)

    @staticmethod
    def _forgeries(genuine: CapturedRequest) -> list[tuple[str, CapturedRequest]]:
        body = bytearray(genuine.body)
        digit = next((i for i, b in enumerate(body) if 0x30 <= b <= 0x38), len(body) - 1)
        body[digit] = body[digit] + 1
        tampered = CapturedRequest(
            genuine.method,
            genuine.path,
            genuine.query,
            genuine.headers,
            bytes(body),
            genuine.received_at,
        )
        sign_keys = [k for k in genuine.headers if "sign" in k.lower()] or list(genuine.headers)
        unsigned_headers = {k: v for k, v in genuine.headers.items() if k not in sign_keys}
        unsigned = CapturedRequest(
            genuine.method,
            genuine.path,
            genuine.query,
            unsigned_headers,
            genuine.body,
            genuine.received_at,
        )
        return [("tampered", tampered), ("unsigned", unsigned)]

    # -- other declared capabilities ------------------------------------------------------
    async def test_quota_delivery_and_cancel_as_declared(
        self, conformance_provider: Provider, conformance_harness: ConformanceHarness
    ) -> None:
        provider = conformance_provider
        caps = provider.capabilities
        seller = conformance_harness.seller.tax_id or ""
        if Operation.QUOTA in caps.operations:
            quota = await provider.quota(seller)
            assert quota.seller_tax_id == seller
            assert quota.remaining is None or quota.remaining >= 0
            assert quota.remaining is not None or quota.invoices_remaining is not None
        if Operation.DELIVER in caps.operations:
            invoice = self._fresh(self._blue_invoices(conformance_harness)[0])
            status = await self._issue_settled(provider, conformance_harness, invoice)
            addresses = {
                DeliveryChannel.EMAIL: "buyer@example.com",
                DeliveryChannel.SMS: "13812345678",
            }
            for channel in sorted(caps.delivery_channels):
                delivered = await provider.deliver(
                    Delivery(
                        seller_tax_id=seller,
                        invoice_number=status.invoice_number or "",
                        order_id=invoice.order_id,
                        channel=channel,
                        address=addresses[channel],
                    )
                )
                assert delivered.accepted, delivered
                assert delivered.channel is channel

    # -- secrets --------------------------------------------------------------------------
    async def test_scrub_removes_every_secret(
        self,
        conformance_provider: Provider,
        conformance_harness: ConformanceHarness,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        secrets = [s for s in conformance_harness.secrets if s]
        assert secrets, "the harness must list the secrets it gave the provider"
        tax_id = conformance_harness.seller.tax_id or ""
        transcripts = []
        for secret in secrets:
            transcripts += [
                f"POST /x HTTP/1.1\nAuthorization: Bearer {secret}\nX-Api-Key: {secret}\n",
                f'{{"client_secret": "{secret}", "appSecret": "{secret}", "taxNum": "{tax_id}"}}',
                f"grant_type=client_credentials&client_secret={secret}&client_id=x",
                f"raw {secret} in the middle of text and {tax_id}",
            ]
        for transcript in transcripts:
            scrubbed = conformance_provider.scrub(transcript)
            for secret in secrets:
                assert secret not in scrubbed, transcript
            if tax_id:
                assert tax_id not in scrubbed, "tax IDs must be masked"
        # The real wire: every transport log line of a real issue goes through scrub.
        caplog.set_level(logging.DEBUG, logger="fapiao")
        invoice = self._fresh(self._blue_invoices(conformance_harness)[0])
        await self._issue_settled(conformance_provider, conformance_harness, invoice)
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for secret in secrets:
            assert secret not in logged

    # -- contract shape (cheap, no sandbox call) ------------------------------------------
    def test_operations_are_coroutines(self, conformance_provider: Provider) -> None:
        for spec in OPERATIONS.values():
            method = getattr(conformance_provider, spec.method)
            if spec.is_coroutine:
                assert inspect.iscoroutinefunction(method), f"{spec.method} must be async"
            else:
                assert not inspect.iscoroutinefunction(method), f"{spec.method} is synchronous"

"""What a check may use: the provider under test, variants of it, the parties, what the
environment can do, and what earlier checks of the same run issued.

``selftest`` builds one context per run: its checks share the invoices the issue checks
made (a go-live run issues no more real invoices than it needs), and once issuance has
failed a check needing an invoice fails saying so. The conformance suite builds one per
test: each test issues what it needs, on a fresh provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, get_args

from pydantic import SecretBytes, SecretStr

from fapiao.checks.check import CheckFailed, CheckSkipped
from fapiao.contract.capabilities import Capabilities
from fapiao.contract.provider import Provider
from fapiao.contract.settings import ProviderSettings
from fapiao.models import DeliveryChannel, Invoice, InvoiceState, InvoiceStatus, Party
from fapiao.testing.harness import BadInput, CallbackReceiver
from fapiao.tools.calls import settle
from fapiao.tools.invoices import invoice_mix, with_new_order_id

__all__ = ["SANDBOX_ADDRESSES", "CheckContext", "Issued", "secret_field"]

SANDBOX_ADDRESSES: Mapping[DeliveryChannel, str] = {
    DeliveryChannel.EMAIL: "buyer@example.com",
    DeliveryChannel.SMS: "13812345678",
}
"""Where a sandbox delivers (nothing leaves the machine); a real profile is given its own."""


@dataclass(frozen=True)
class Issued:
    """A blue invoice a check issued, and its settled status."""

    invoice: Invoice
    status: InvoiceStatus

    @property
    def number(self) -> str:
        return self.status.invoice_number or ""


def secret_field(settings: ProviderSettings) -> str | None:
    """The first secret settings field holding a value (a wrong value for it must fail
    authentication; an empty optional one may not be used at all)."""
    for name, info in type(settings).model_fields.items():
        if _is_secret(info.annotation) and getattr(settings, name):
            return name
    return None


def _is_secret(annotation: Any) -> bool:
    return annotation in (SecretStr, SecretBytes) or any(map(_is_secret, get_args(annotation)))


@dataclass
class CheckContext:
    """One run's provider, environment and shared state (see the module docstring)."""

    provider: Provider
    provider_with: Callable[..., Provider]
    """A fresh provider with these settings overridden (a wrong secret, a closed port)."""
    seller: Party
    buyer: Party
    secrets: Sequence[str]
    settle_timeout: float
    addresses: Mapping[DeliveryChannel, str]
    hints: Mapping[str, str]
    """How to supply a part the environment lacks, by part name (see :meth:`lacks`)."""
    required: frozenset[str] = frozenset()
    """Parts whose absence fails a check instead of skipping it."""
    callbacks: CallbackReceiver | None = None
    mark_used: Callable[[str], None] | None = None
    advance_clock: Callable[[timedelta], None] | None = None
    secret_field: str | None = None
    bad_inputs: Mapping[str, BadInput] = field(default_factory=dict)
    invoices: Sequence[Invoice] = ()
    """Blue invoices of the runner's own, issued and checked next to the mix."""
    issued: list[Issued] = field(default_factory=list)
    reversed_fully: list[Issued] = field(default_factory=list)
    issuance_failed: bool = False
    mix: dict[str, Invoice] = field(init=False)
    """The everyday invoices of ``fapiao.tools.invoices`` for this seller, by name."""

    def __post_init__(self) -> None:
        self.mix = invoice_mix(self.seller, self.buyer)

    @property
    def caps(self) -> Capabilities:
        return self.provider.capabilities

    @property
    def seller_tax_id(self) -> str:
        return self.seller.tax_id or ""

    def lacks(self, part: str, what: str) -> CheckFailed | CheckSkipped:
        """What to raise when the environment cannot supply ``part``: a skip saying how to
        supply it, or a failure when the runner requires it."""
        message = f"{what} ({self.hints[part]})" if part in self.hints else what
        return CheckFailed(message) if part in self.required else CheckSkipped(message)

    def fresh(self, name: str = "special_multi_rate") -> Invoice:
        """A mix invoice with a new order id: ``name`` if its kind is declared, else the first
        one of a declared kind."""
        kinds = self.caps.invoice_kinds
        if self.mix[name].kind not in kinds:
            name = next((n for n, i in self.mix.items() if i.kind in kinds), name)
        return with_new_order_id(self.mix[name])

    async def settle(self, order_id: str) -> InvoiceStatus:
        return await settle(self.provider, self.seller_tax_id, order_id, within=self.settle_timeout)

    async def blue(self, purpose: str) -> Issued:
        """An issued invoice not fully reversed: one an earlier check issued, else one issued
        now; never a new attempt once issuance has failed in this run."""
        if unreversed := [i for i in self.issued if i not in self.reversed_fully]:
            return unreversed[0]
        if self.issuance_failed:
            raise CheckFailed(f"needs an issued invoice for {purpose}, and issuance failed")
        return await self.issue(self.fresh())

    async def issue(self, invoice: Invoice) -> Issued:
        """Issue ``invoice``, hold the outcome to the contract and keep it for later checks;
        any failure marks issuance as failed here (see :meth:`blue`)."""
        try:
            issued = Issued(invoice, await self._issued_status(invoice))
        except BaseException:
            self.issuance_failed = True
            raise
        self.issued.append(issued)
        return issued

    async def _issued_status(self, invoice: Invoice) -> InvoiceStatus:
        """A sync issuance answers the number; the query (always made) settles as issued,
        with a 20-digit number and the totals of ``fapiao.rules``."""
        from fapiao.rules import compute_totals

        order, answer = invoice.order_id, await self.provider.issue(invoice)
        if answer.order_id != order or answer.state not in {
            InvoiceState.ISSUING,
            InvoiceState.ISSUED,
        }:
            raise CheckFailed(
                f"issue of {order} answered {answer.state.value} for {answer.order_id}"
            )
        if self.caps.issuance == "sync" and not (
            answer.invoice_number and answer.state is InvoiceState.ISSUED
        ):
            raise CheckFailed(f"declared sync issuance, but {order} answered {answer.state.value}")
        status = await self.settle(order)
        if status.state is not InvoiceState.ISSUED:
            reason = f": {status.error.code} {status.error.message_en}" if status.error else ""
            raise CheckFailed(f"order {order} ended {status.state.value}{reason}")
        totals, number = compute_totals(invoice), status.invoice_number or ""
        wrong = [
            f"{name} {getattr(status, name)} ≠ rules {getattr(totals, name)}"
            for name in ("total_amount", "total_tax", "total_with_tax")
            if getattr(status, name) not in {None, getattr(totals, name)}
        ]
        if len(number) != 20 or not number.isdigit():
            wrong.append(f"invoice number {number!r} is not 20 digits")
        if status.provider != self.provider.name or status.is_red:
            wrong.append(f"status of provider {status.provider}, red {status.is_red}")
        if wrong:
            raise CheckFailed(f"order {order}: " + "; ".join(wrong))
        return status

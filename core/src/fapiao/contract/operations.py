"""The one table of provider operations: which method implements each, whether it may be
repeated, and a harmless call that probes it.

Why one table: the engine (is a crash during this call an unknown outcome?), the plugin base
class (refuse what is not declared), the transport (may a failed request be retried?), the
conformance suite and ``fapiao selftest`` (is every undeclared operation refused before the
network?) all need the same facts. Each reads them here; nobody keeps a list of its own.

``Operation`` (the names a provider declares in its capabilities) is a model enum in
``fapiao.models``; this module adds what the contract says about each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fapiao.contract.provider import Provider
from fapiao.models import (
    Delivery,
    DeliveryChannel,
    DocumentFormat,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    InvoiceStatus,
    Operation,
    Party,
    RedConfirmation,
    RedConfirmationState,
    RedReason,
    RedReversalRequest,
)

__all__ = ["OPERATIONS", "OperationSpec", "probe", "spec"]

Probe = Callable[[Provider, str], Awaitable[Any]]

_PROBE_NUMBER = "26310000000000000001"
_PROBE_ORDER = "PROBE-UNKNOWN"


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """What the contract says about one operation."""

    operation: Operation
    method: str
    """The :class:`~fapiao.contract.Provider` method that implements it."""
    idempotent: bool
    """Repeating it creates nothing: the transport may retry it after a failure, and a plugin
    that crashes during it has caused a plain error, not an unknown outcome."""
    probe: Probe
    """One call with harmless arguments. Only for checking that an *undeclared* operation is
    refused before any network call; never sent to a real provider as a declared one."""

    @property
    def is_coroutine(self) -> bool:
        """Every operation is a coroutine but the callback check, which is synchronous (the
        web framework calls it on the request's own body)."""
        return self.operation is not Operation.CALLBACK


def _probe_status(provider: Provider, seller: str) -> InvoiceStatus:
    return InvoiceStatus(
        provider=provider.name,
        seller_tax_id=seller,
        order_id=_PROBE_ORDER,
        state=InvoiceState.ISSUED,
        invoice_number=_PROBE_NUMBER,
    )


def _probe_invoice(seller: str) -> Invoice:
    return Invoice(
        order_id=_PROBE_ORDER,
        kind=InvoiceKind.NORMAL,
        seller=Party(name="探测销方", tax_id=seller),
        buyer=Party(name="探测购方", natural_person=True),
        lines=[
            InvoiceLine(
                name="软件服务",
                tax_code="3040201010000000000",
                amount=Decimal("100.00"),
                tax_rate=Decimal("0.06"),
            )
        ],
    )


def _probe_red(seller: str) -> RedReversalRequest:
    return RedReversalRequest(
        order_id=f"{_PROBE_ORDER}-RED",
        seller_tax_id=seller,
        original_invoice_number=_PROBE_NUMBER,
        original_order_id=_PROBE_ORDER,
        reason=RedReason.INVOICING_ERROR,
    )


def _probe_form(provider: Provider, seller: str) -> RedConfirmation:
    return RedConfirmation(
        provider=provider.name,
        confirmation_id=_PROBE_ORDER,
        seller_tax_id=seller,
        original_invoice_number=_PROBE_NUMBER,
        order_id=f"{_PROBE_ORDER}-RED",
        reason=RedReason.INVOICING_ERROR,
        state=RedConfirmationState.CONFIRMED,
        amount=Decimal("-100.00"),
        tax=Decimal("-6.00"),
    )


async def _probe_callback(provider: Provider, seller: str) -> Any:
    return provider.verify_callback({}, b"{}", {})


def _spec(operation: Operation, method: str, *, idempotent: bool, probe: Probe) -> OperationSpec:
    return OperationSpec(operation, method, idempotent, probe)


OPERATIONS: Mapping[Operation, OperationSpec] = {
    s.operation: s
    for s in (
        _spec(
            Operation.ISSUE,
            "issue",
            idempotent=False,
            probe=lambda p, seller: p.issue(_probe_invoice(seller)),
        ),
        _spec(
            Operation.QUERY,
            "query",
            idempotent=True,
            probe=lambda p, seller: p.query(seller, [_PROBE_ORDER]),
        ),
        _spec(
            Operation.RED_APPLY,
            "red_apply",
            idempotent=False,
            probe=lambda p, seller: p.red_apply(_probe_red(seller)),
        ),
        _spec(
            Operation.RED_CONFIRM,
            "red_confirm",
            idempotent=False,
            probe=lambda p, seller: p.red_confirm(seller, _PROBE_ORDER),
        ),
        _spec(
            Operation.RED_QUERY,
            "red_query",
            idempotent=True,
            probe=lambda p, seller: p.red_query(seller, _PROBE_ORDER),
        ),
        _spec(
            Operation.RED_ISSUE,
            "red_issue",
            idempotent=False,
            probe=lambda p, seller: p.red_issue(_probe_form(p, seller)),
        ),
        _spec(
            Operation.CANCEL,
            "cancel",
            idempotent=False,
            probe=lambda p, seller: p.cancel(seller, _PROBE_ORDER),
        ),
        _spec(
            Operation.DOCUMENTS,
            "fetch_document",
            idempotent=True,
            probe=lambda p, seller: p.fetch_document(_probe_status(p, seller), DocumentFormat.PDF),
        ),
        _spec(
            Operation.DELIVER,
            "deliver",
            idempotent=False,
            probe=lambda p, seller: p.deliver(
                Delivery(
                    seller_tax_id=seller,
                    invoice_number=_PROBE_NUMBER,
                    channel=DeliveryChannel.EMAIL,
                    address="buyer@example.com",
                )
            ),
        ),
        _spec(
            Operation.QUOTA,
            "quota",
            idempotent=True,
            probe=lambda p, seller: p.quota(seller),
        ),
        _spec(Operation.CALLBACK, "verify_callback", idempotent=True, probe=_probe_callback),
    )
}
"""Every :class:`Operation`, in declaration order; a test checks none is missing."""


def spec(operation: Operation | str) -> OperationSpec:
    """The table's entry for an operation (by enum or by its value)."""
    return OPERATIONS[Operation(operation)]


def probe(provider: Provider, operation: Operation, seller_tax_id: str) -> Awaitable[Any]:
    """Call ``operation`` on ``provider`` with harmless arguments (see ``OperationSpec.probe``)."""
    return OPERATIONS[operation].probe(provider, seller_tax_id)

"""What every provider sandbox remembers besides its vendor's own records.

One re-entrant lock (the server thread changes the state while a test thread reads it or
moves the clock), the business clock, the 20-digit invoice numbers, the invoices by number
(a buyer "uses" one), counters for the state endpoint, the deliveries made, and each
seller's 授信额度 use (issuance consumes it, a red invoice gives it back). A sandbox's state
class extends :class:`SandboxMemory` with its vendor's records.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from fapiao.sandboxkit.clock import SandboxClock
from fapiao.sandboxkit.invoice_numbers import InvoiceNumberGenerator

__all__ = ["SandboxMemory"]


class _Usable(Protocol):
    used: bool


R = TypeVar("R", bound=_Usable)


class SandboxMemory(Generic[R]):
    def __init__(self, *, province: str) -> None:
        self.lock = threading.RLock()
        self.clock = SandboxClock()
        self.numbers = InvoiceNumberGenerator(default_province=province)
        self.by_number: dict[str, R] = {}
        self.counters: dict[str, int] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.credit_used: dict[str, Decimal] = {}

    def count(self, name: str) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + 1

    def use_credit(self, seller_tax_id: str, amount: Decimal, credit_line: Decimal) -> bool:
        """Consume ``amount`` of the seller's credit line (negative: give it back), unless
        that would exceed ``credit_line``: then False, and nothing is consumed."""
        with self.lock:
            used = self.credit_used.get(seller_tax_id, Decimal("0.00")) + amount
            if used > credit_line:
                return False
            self.credit_used[seller_tax_id] = used
            return True

    def mark_used(self, invoice_number: str) -> None:
        """The buyer has used (deducted, entered) the invoice: a red form on it then needs
        the other party's confirmation. ``KeyError`` for an unknown number."""
        with self.lock:
            self.by_number[invoice_number].used = True

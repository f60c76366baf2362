"""The sandbox's memory: its clock, tokens, invoices, red forms, deliveries and quotas.

Plain records behind one lock: the server thread changes them while a test thread may read
them or steer the clock. Business time (token expiry, the 72 h rule) runs on a virtual clock
that tests can move; signature freshness uses the wall clock, as the client stamps it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from fapiao.sandboxkit import SandboxClock, SandboxMemory, SandboxTokens
from fapiao.sdk import Invoice, InvoiceTotals, SlidingWindow
from fapiao_provider_b.sandbox.config import SandboxConfig, SandboxSeller

__all__ = [
    "ApiError",
    "InvoiceRecord",
    "RedForm",
    "SandboxClock",
    "SandboxState",
]


class ApiError(Exception):
    """An ``errorResponse``: a platform code, or 100006 with a business ``subCode``."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        sub_code: str | None = None,
        sub_message: str | None = None,
    ) -> None:
        super().__init__(f"{code}/{sub_code}: {sub_message or message}")
        self.code = code
        self.message = message
        self.sub_code = sub_code
        self.sub_message = sub_message


@dataclass
class InvoiceRecord:
    """One issued 数电票, blue or red, as the platform keeps it."""

    invoice_id: str
    serial_no: str
    tax_no: str
    invoice_number: str
    issued_at: datetime
    kind_code: str  # invoiceTypeCode
    invoice: Invoice  # blue: as requested; red: the red lines as positive magnitudes
    totals: InvoiceTotals  # of ``invoice`` (positive magnitudes for a red one)
    details: list[dict[str, Any]]  # invoiceDetailsList as returned (signed amounts)
    is_red: bool = False
    original_invoice_number: str | None = None
    red_form_uuid: str | None = None
    red_form_number: str | None = None
    reversed_by_line: dict[int, Decimal] = field(default_factory=dict)  # blue line → reversed
    used: bool = False  # by the buyer (deducted): a red form then needs its confirmation
    documents: dict[str, bytes] = field(default_factory=dict)

    @property
    def sign(self) -> Decimal:
        return Decimal(-1) if self.is_red else Decimal(1)

    @property
    def total_amount(self) -> Decimal:
        return self.totals.total_amount * self.sign

    @property
    def total_tax(self) -> Decimal:
        return self.totals.total_tax * self.sign

    @property
    def total_with_tax(self) -> Decimal:
        return self.totals.total_with_tax * self.sign

    @property
    def status_code(self) -> str:
        """invoiceStatus: 00 正常, 04 部分红冲, 05 全额红冲."""
        if self.is_red or not self.reversed_by_line:
            return "00"
        reversed_total = sum(self.reversed_by_line.values(), Decimal("0.00"))
        return "05" if reversed_total >= self.totals.total_amount else "04"


@dataclass
class RedForm:
    """One 红字确认单."""

    uuid: str
    number: str
    serial_no: str
    tax_no: str  # seller
    buyer_tax_no: str | None
    entry_identity: str  # 01 seller, 02 buyer
    original_invoice_number: str
    label: str  # redInvoiceLabel 01..04
    state: str  # confirmState 01..10
    created_at: datetime
    deadline: datetime | None
    total_price: Decimal  # negative
    total_tax: Decimal  # negative
    details: list[dict[str, Any]]  # signed (negative) detail lines
    red_invoice_number: str | None = None

    @property
    def issued(self) -> bool:
        return self.red_invoice_number is not None


class SandboxState(SandboxMemory[InvoiceRecord]):
    """Everything the sandbox remembers, guarded by one lock (the shared part, with the
    clock, numbers, counters, deliveries and credit use, is ``SandboxMemory``)."""

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(province=config.region_code)
        self.config = config
        self.sellers: dict[str, SandboxSeller] = {s.tax_no: s for s in config.sellers}
        self.apps = {a.app_key: a for a in config.apps}
        self.tokens = SandboxTokens(self.clock.now)  # on the business clock: tests move it
        self.invoices: dict[tuple[str, str], InvoiceRecord] = {}  # (taxNo, serialNo)
        self.red_forms: dict[str, RedForm] = {}
        self.red_serials: dict[tuple[str, str], str] = {}  # (taxNo, redConfirmSerialNo) → uuid
        # by app: token grants in the last minute, business calls in the last second
        self.grant_times = defaultdict[str, SlidingWindow](lambda: SlidingWindow(60.0))
        self.call_times = defaultdict[str, SlidingWindow](lambda: SlidingWindow(1.0))
        self._forms_made = 0

    def next_form_number(self) -> str:
        """红字确认单编号: region, date, sequence (20 digits)."""
        with self.lock:
            self._forms_made += 1
            return f"{self.config.region_code}{self.clock.now():%y%m%d}{self._forms_made:012d}"

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "now": self.clock.now().isoformat(),
                "invoices": len(self.by_number),
                "red_forms": len(self.red_forms),
                "tokens": len(self.tokens.access),
                "deliveries": len(self.deliveries),
                "counters": dict(self.counters),
            }

    # --- steering (tests, admin endpoints) ------------------------------------------------

    def expire_tokens(self) -> int:
        """Expire every access token now (refresh tokens stay valid)."""
        return self.tokens.expire_all()

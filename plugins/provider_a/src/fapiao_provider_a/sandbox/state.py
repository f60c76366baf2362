"""The sandbox platform's memory: invoices, red forms, tokens, counters and its clock.

Plain records behind one lock: the server runs handlers in its own event loop while tests
poke the state from their thread. Business time (invoice dates, the 72-hour rule) runs on a
virtual clock tests can move; token expiry and signature freshness use the wall clock, as
the client stamps them. The rules live in the area modules (``gateway``, ``invoices``,
``red_forms``, ``documents``); what tests steer directly is here.
"""

from __future__ import annotations

import itertools
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fapiao.sandboxkit import RedFormLine, SandboxMemory, SandboxTokens
from fapiao.sdk import Invoice, ReplayGuard, SlidingWindow
from fapiao_provider_a.errors_map import CODES
from fapiao_provider_a.sandbox.config import Merchant, SandboxConfig

__all__ = ["PlatformError", "Record", "RedForm", "SandboxState"]


class PlatformError(Exception):
    """An answer with the platform's code (``describe`` from the shared code table)."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        entry = CODES.get(code)
        self.code = code
        self.describe = (entry.message if entry else code) + (f"：{detail}" if detail else "")
        super().__init__(f"{code} {self.describe}")


@dataclass
class Record:
    """One invoice request (blue or red) as the platform holds it."""

    serial: str
    order_no: str
    merchant: Merchant
    invoice: Invoice  # for red invoices: positive magnitudes, like RedLine
    line_kind: str
    ready_at: float
    base_url: str
    callback_url: str | None = None
    is_red: bool = False
    original_number: str | None = None
    red_reason: str | None = None
    red_form_no: str | None = None
    amount: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    status: str = "20"
    number: str | None = None
    issued_at: datetime | None = None
    used: bool = False
    reversed: dict[int, Decimal] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    file_key: str = field(default_factory=lambda: secrets.token_hex(8))
    email: str | None = None
    phone: str | None = None


@dataclass
class RedForm:
    bill_id: str
    bill_no: str
    bill_uuid: str
    merchant: Merchant  # who entered it
    apply_source: str
    blue: Record
    reason: str
    order_no: str | None
    lines: dict[int, Decimal]  # blue line index → reversed 不含税 amount (positive)
    amount: Decimal  # negative
    tax: Decimal  # negative
    created: datetime
    status: str
    detail: list[RedFormLine]  # the red lines (signed), each naming its blue line
    callback_url: str | None = None
    red: Record | None = None
    confirm_time: datetime | None = None


class SandboxState(SandboxMemory[Record]):
    """Everything the sandbox remembers, guarded by one lock (the shared part, with the
    clock, numbers, counters, deliveries and credit use, is ``SandboxMemory``)."""

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(province="33")
        self.config = config
        self.records: dict[str, Record] = {}  # by serial
        self.by_order: dict[tuple[str, str], Record] = {}  # (seller tax id, orderNo)
        self.forms: dict[str, RedForm] = {}
        self.tokens = SandboxTokens(lambda: datetime.now(UTC))  # they follow real time
        # by app key: token grants in 30 days, service calls in the last second
        self.token_calls = defaultdict[str, SlidingWindow](lambda: SlidingWindow(30 * 86_400))
        self.call_times = defaultdict[str, SlidingWindow](lambda: SlidingWindow(1.0))
        self.seen_senids = ReplayGuard(2 * config.timestamp_tolerance_seconds, capacity=200_000)
        self.serials = itertools.count(1)
        self.on_issued: Callable[[Record], None] | None = None
        self.on_form_changed: Callable[[RedForm], None] | None = None

    def new_serial(self) -> str:
        """The platform's invoiceSerialNum: a timestamp and a sequence."""
        return f"{datetime.now(UTC):%y%m%d%H%M%S}{next(self.serials):08d}"

    # -- steering (tests, admin endpoints) ------------------------------------------------
    def expire_tokens(self) -> None:
        self.tokens.expire_all()

    def confirm_form(
        self, merchant: Merchant, payload: Mapping[str, Any], *, base_url: str
    ) -> RedForm:
        """A party decides on a form through its own app, as ``confirm`` does (tests act
        as the buyer with it)."""
        from fapiao_provider_a.sandbox.red_forms import confirm_form  # builds on this module

        return confirm_form(self, merchant, payload, base_url=base_url)

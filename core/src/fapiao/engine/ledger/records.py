"""What the ledger hands back: plain frozen values, detached from any database session.

Callers live in asyncio code and must never touch a connection; these dataclasses are built
inside the writer thread from committed rows and are safe to share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fapiao.models import DocumentFormat, InvoiceState, RedConfirmationState

__all__ = [
    "BatchRecord",
    "DocumentRecord",
    "EventSource",
    "LedgerEvent",
    "LedgerRecord",
    "LedgerStats",
    "RedConfirmationRecord",
    "RequestKey",
    "RequestKind",
]


class RequestKind(StrEnum):
    BLUE = "blue"
    RED = "red"


class EventSource(StrEnum):
    """Who caused a transition: kept on every event for audits and reconciliation reports."""

    API = "api"
    CALLBACK = "callback"
    POLL = "poll"
    RECONCILE = "reconcile"
    BATCH = "batch"


@dataclass(frozen=True, slots=True)
class RequestKey:
    """The idempotency key (docs/architecture.md §3): the seller (subsidiary) and its external order id."""

    seller_tax_id: str
    order_id: str


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    key: RequestKey
    kind: RequestKind
    state: InvoiceState
    provider_profile: str
    provider: str
    payload: Mapping[str, Any]
    serial_number: str | None
    invoice_number: str | None
    issued_at: datetime | None
    total_amount: Decimal | None
    total_tax: Decimal | None
    total_with_tax: Decimal | None
    attempts: int
    error_code: str | None
    error_message: str | None
    original_order_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    id: int = field(repr=False)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One state change (or a note on an unchanged state) and why it happened."""

    key: RequestKey
    from_state: InvoiceState | None  # None: the record was created
    to_state: InvoiceState
    source: EventSource
    detail: Mapping[str, Any] | None
    at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    key: RequestKey
    format: DocumentFormat
    sha256: str
    size: int
    location: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RedConfirmationRecord:
    """A 红字确认单 raised against the blue invoice ``original``; amounts are positive
    magnitudes per blue line (``line_amounts``), totals keep the provider's sign."""

    original: RequestKey
    provider: str
    confirmation_id: str
    confirmation_number: str | None
    red_order_id: str
    state: RedConfirmationState
    reason: str
    amount: Decimal
    tax: Decimal
    line_amounts: Mapping[int, Decimal]
    requires_confirmation: bool
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """Progress of one input file, so a killed batch resumes where its commits stopped."""

    batch_id: str
    input_path: str
    input_sha256: str | None
    position: int
    counts: Mapping[str, int]
    done: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerStats:
    """Counts for ``fapiao status``."""

    total: int
    by_state: Mapping[InvoiceState, int]
    by_profile: Mapping[str, Mapping[InvoiceState, int]]
    non_final: int

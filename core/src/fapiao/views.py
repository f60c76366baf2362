"""What callers are shown of the engine's results: the JSON of ``fapiao ... --json`` and of the
REST gateway, one typed model per shape.

Why a module of its own: the CLI and the service must answer the same question with the same
JSON — a status, its events, the ledger's counts, a red reversal's outcome — so the shapes
live in one place both import, rather than one borrowing them from the other. Statuses are
the canonical :class:`InvoiceStatus` with each document reduced to a reference (format,
hash, size, URL): file bytes are fetched on their own, never inlined into a status.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from fapiao.models import Document, DocumentFormat, InvoiceStatus, RedConfirmation

if TYPE_CHECKING:
    from fapiao.engine import RedOutcome
    from fapiao.engine.ledger import LedgerEvent, LedgerStats

__all__ = [
    "DocumentRef",
    "EventOut",
    "InvoiceStatusOut",
    "LedgerSummary",
    "RedOutcomeOut",
    "event_out",
    "ledger_summary",
    "public_status",
    "red_outcome_out",
]


class DocumentRef(BaseModel):
    """A document without its bytes."""

    model_config = ConfigDict(frozen=True)

    format: DocumentFormat
    invoice_number: str
    url: str | None = None
    sha256: str | None = None
    size: int | None = None
    filename: str | None = None

    @classmethod
    def of(cls, document: Document) -> DocumentRef:
        return cls(
            format=document.format,
            invoice_number=document.invoice_number,
            url=document.url,
            sha256=document.sha256,
            size=document.size,
            filename=document.filename,
        )


class InvoiceStatusOut(InvoiceStatus):
    """An invoice request's status as the ledger records it."""

    documents: tuple[DocumentRef, ...] = ()  # type: ignore[assignment]


def public_status(status: InvoiceStatus) -> InvoiceStatusOut:
    data = {name: getattr(status, name) for name in InvoiceStatus.model_fields}
    data["documents"] = tuple(DocumentRef.of(d) for d in status.documents)
    return InvoiceStatusOut.model_validate(data)


class RedOutcomeOut(BaseModel):
    red: InvoiceStatusOut
    blue: InvoiceStatusOut
    confirmation: RedConfirmation | None
    issued: bool
    awaiting_confirmation: bool


def red_outcome_out(outcome: RedOutcome) -> RedOutcomeOut:
    return RedOutcomeOut(
        red=public_status(outcome.red),
        blue=public_status(outcome.blue),
        confirmation=outcome.confirmation,
        issued=outcome.issued,
        awaiting_confirmation=outcome.awaiting_confirmation,
    )


class EventOut(BaseModel):
    from_state: str | None
    to_state: str
    source: str
    detail: dict[str, Any] | None
    at: datetime


def event_out(event: LedgerEvent) -> EventOut:
    return EventOut(
        from_state=str(event.from_state) if event.from_state is not None else None,
        to_state=str(event.to_state),
        source=str(event.source),
        detail=dict(event.detail) if event.detail is not None else None,
        at=event.at,
    )


class LedgerSummary(BaseModel):
    total: int
    non_final: int
    by_state: dict[str, int]
    by_profile: dict[str, dict[str, int]]


def ledger_summary(stats: LedgerStats) -> LedgerSummary:
    """``LedgerStats`` as plain counts keyed by state name."""
    return LedgerSummary(
        total=stats.total,
        non_final=stats.non_final,
        by_state={str(state): count for state, count in stats.by_state.items()},
        by_profile={
            profile: {str(state): count for state, count in states.items()}
            for profile, states in stats.by_profile.items()
        },
    )

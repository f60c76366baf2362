"""What the REST gateway and the CLI's ``--json`` output say, as typed models (OpenAPI).

Statuses are the canonical :class:`InvoiceStatus` with each document reduced to a
reference (format, hash, size, URL): file bytes are fetched from their own endpoint, never
inlined into a status answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fapiao.models import (
    Document,
    DocumentFormat,
    InvoiceStatus,
    RedConfirmation,
    RedReversalRequest,
)

__all__ = [
    "DocumentRef",
    "EventOut",
    "InvoiceStatusOut",
    "LedgerSummary",
    "ProviderHealth",
    "RedOutcomeOut",
    "RedReversalIn",
    "ServiceStatus",
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


class RedReversalIn(RedReversalRequest):
    """A red reversal request plus how far this call should drive the workflow."""

    confirm: bool = Field(
        default=False,
        description="confirm the 红字确认单 through the provider when the other party must "
        "(only when this system acts for that party)",
    )
    wait_seconds: float = Field(
        default=0.0, ge=0, le=120, description="poll a pending form up to this long"
    )

    def request(self) -> RedReversalRequest:
        data = {name: getattr(self, name) for name in RedReversalRequest.model_fields}
        return RedReversalRequest.model_validate(data)


class RedOutcomeOut(BaseModel):
    red: InvoiceStatusOut
    blue: InvoiceStatusOut
    confirmation: RedConfirmation | None
    issued: bool
    awaiting_confirmation: bool


class EventOut(BaseModel):
    from_state: str | None
    to_state: str
    source: str
    detail: dict[str, Any] | None
    at: datetime


class LedgerSummary(BaseModel):
    total: int
    non_final: int
    by_state: dict[str, int]
    by_profile: dict[str, dict[str, int]]


class ProviderHealth(BaseModel):
    profile: str
    provider: str
    calls: int
    failures: int
    success_rate: float | None
    alerting: bool


class ServiceStatus(BaseModel):
    ledger: LedgerSummary
    providers: list[ProviderHealth]
    profiles: dict[str, str] = Field(description="profile → provider plugin")


def ledger_summary(stats: Any) -> LedgerSummary:
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


def red_outcome_out(outcome: Any) -> RedOutcomeOut:
    return RedOutcomeOut(
        red=public_status(outcome.red),
        blue=public_status(outcome.blue),
        confirmation=outcome.confirmation,
        issued=outcome.issued,
        awaiting_confirmation=outcome.awaiting_confirmation,
    )


def event_out(event: Any) -> EventOut:
    return EventOut(
        from_state=str(event.from_state) if event.from_state is not None else None,
        to_state=str(event.to_state),
        source=str(event.source),
        detail=dict(event.detail) if event.detail is not None else None,
        at=event.at,
    )

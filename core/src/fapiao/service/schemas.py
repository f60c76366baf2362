"""The REST gateway's own request and answer models (OpenAPI), beside the shared views.

The shapes the CLI's ``--json`` shows too — statuses, events, ledger counts, red outcomes —
are ``fapiao.views`` and re-exported here; what only the gateway says (a red reversal
request with how far to drive it, the service's status with provider health) is here.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from fapiao.models import RedReversalRequest
from fapiao.views import (
    DocumentRef,
    EventOut,
    InvoiceStatusOut,
    LedgerSummary,
    RedOutcomeOut,
    event_out,
    ledger_summary,
    public_status,
    red_outcome_out,
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

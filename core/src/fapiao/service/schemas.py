"""The REST gateway's own request and answer models (OpenAPI), beside the shared views.

The shapes the CLI's ``--json`` shows too — statuses, events, ledger counts, red outcomes —
are ``fapiao.views`` and re-exported here; what only the gateway says (a red reversal
request with how far to drive it, the service's status with provider health, the error
body every refusal carries) is here.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from fapiao.models import RedReversalRequest
from fapiao.models.results import ErrorInfo
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
    "ErrorBody",
    "ErrorOut",
    "EventOut",
    "InvoiceStatusOut",
    "IssueOut",
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


class IssueOut(BaseModel):
    """One problem of a request body, in one field."""

    code: str = Field(description="stable issue code, e.g. MISSING_FIELD, FLOAT_NOT_ALLOWED")
    path: str = Field(description="the field, e.g. lines[0].amount")
    message_zh: str
    message_en: str
    expected: str | None = None
    warning: bool = False


class ErrorOut(ErrorInfo):
    """A canonical error as the gateway answers it."""

    issues: list[IssueOut] | None = Field(
        default=None, description="invalid invoices and bodies: every problem with its field"
    )
    issues_omitted: int | None = Field(
        default=None, description="how many further issues were left out of this answer"
    )


class ErrorBody(BaseModel):
    """The body of every error answer of the service (4xx and 5xx alike)."""

    error: ErrorOut

"""Go-live readiness: run every capability a profile's plugin declares against that
profile's environment, within a time budget, and keep the evidence.

Why: 乐企 direct connection requires passing a full-capability test in the sandbox within
72 hours, and a pilot of a few real invoices should precede any go-live. The checklist is
built from the plugin's *declared* capabilities (an undeclared operation is checked to be
refused without a network call), so a plugin cannot pass by declaring little and a reader
sees which capabilities were exercised. Evidence is what a person can verify elsewhere:
invoice numbers, red form ids, document hashes, the provider's raw error codes.

The checks are the conformance suite's own (``fapiao.checks``: which few only the suite
runs, and why, is said there); this module runs them against a :class:`Target` within the
budget and reports. They run one after another on one provider instance, in the order a
go-live would meet them, sharing the invoices the issue checks made; checks that need an
issued invoice fail (they are not skipped) when issuance failed, so a broken environment can
never look half-ready. A check is skipped only when the environment cannot do it at all
(e.g. callbacks without a receiver), and says why and how to supply it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from fapiao.checks.check import Check, CheckFailed, CheckSkipped, Evidence, Runner
from fapiao.checks.checklist import checks_for
from fapiao.checks.context import SANDBOX_ADDRESSES, CheckContext, secret_field
from fapiao.errors import FapiaoError
from fapiao.masking import mask_tax_id
from fapiao.models import DeliveryChannel, ErrorInfo
from fapiao.tools.targets import Target

__all__ = [
    "CheckFailed",
    "CheckResult",
    "CheckSkipped",
    "SelftestReport",
    "run_selftest",
]

Status = Literal["pass", "fail", "skip"]

_HINTS = {
    "callbacks": "they go to the profile's callback_url; give --callback-listen HOST:PORT "
    "to receive them here",
    "email": "give --email",
    "sms": "give --mobile",
    "mark_used": "this environment offers no way to arrange it",
    "secrets": "the profile holds none",
}
"""How a person running selftest supplies what a check found missing."""


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    seconds: float
    evidence: Evidence = field(default_factory=dict)
    detail: str = ""
    error: ErrorInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        error = self.error.model_dump(mode="json") if self.error else None
        return {**asdict(self), "seconds": round(self.seconds, 3), "error": error}


@dataclass
class SelftestReport:
    profile: str
    provider: str
    source: str
    environment: str
    seller: str
    budget_seconds: float
    elapsed_seconds: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def passed(self) -> bool:
        return not self.failed and any(c.status == "pass" for c in self.checks)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in ("pass", "fail", "skip")}

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "provider": self.provider,
            "source": self.source,
            "environment": self.environment,
            "seller": self.seller,
            "passed": self.passed,
            "counts": self.counts(),
            "budget_seconds": self.budget_seconds,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "notes": self.notes,
            "checks": [c.to_dict() for c in self.checks],
        }


async def run_selftest(
    target: Target,
    *,
    budget: float = 300.0,
    settle_timeout: float = 20.0,
    email: str | None = None,
    mobile: str | None = None,
) -> SelftestReport:
    """Run the checklist against ``target`` within ``budget`` seconds; a check that would
    end after the budget is stopped and failed, the ones after it are failed as not run."""
    started = time.monotonic()
    deadline = started + budget
    given = {DeliveryChannel.EMAIL: email, DeliveryChannel.SMS: mobile}
    defaults = SANDBOX_ADDRESSES if target.source == "sandbox" else {}
    addresses = {c: a for c in DeliveryChannel if (a := given.get(c) or defaults.get(c))}
    report = SelftestReport(
        profile=target.profile,
        provider=target.provider_name,
        source=target.source,
        environment=target.settings.environment.value,
        seller=mask_tax_id(target.seller_tax_id),
        budget_seconds=budget,
        notes=list(target.notes),
    )
    provider = target.provider()
    context = CheckContext(
        provider=provider,
        provider_with=target.provider,
        seller=target.seller,
        buyer=target.buyer,
        secrets=target.secrets,
        settle_timeout=min(settle_timeout, budget),
        addresses=addresses,
        hints=_HINTS,
        callbacks=target.callbacks,
        mark_used=target.mark_used(),
        secret_field=secret_field(target.settings),
    )
    try:
        for check in checks_for(provider.capabilities, Runner.SELFTEST):
            report.checks.append(await _run_one(check, context, deadline))
    finally:
        await provider.aclose()
    report.elapsed_seconds = time.monotonic() - started
    return report


async def _run_one(check: Check, context: CheckContext, deadline: float) -> CheckResult:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return CheckResult(
            check.id, check.title, "fail", 0.0, detail="not run: time budget used up"
        )
    started = time.perf_counter()

    def result(status: Status, **kwargs: Any) -> CheckResult:
        return CheckResult(check.id, check.title, status, time.perf_counter() - started, **kwargs)

    try:
        evidence = await asyncio.wait_for(check.run(context), timeout=remaining)
    except CheckSkipped as exc:
        return result("skip", detail=str(exc))
    except CheckFailed as exc:
        cause = exc.__cause__
        info = cause.to_info() if isinstance(cause, FapiaoError) else None
        return result("fail", detail=str(exc), error=info)
    except FapiaoError as exc:
        raw = f" (raw {exc.raw_code} {exc.raw_message or ''})".rstrip() if exc.raw_code else ""
        return result("fail", detail=f"{exc.code}: {exc.message_en}{raw}", error=exc.to_info())
    except TimeoutError as exc:
        if time.monotonic() >= deadline:
            return result("fail", detail="stopped: time budget used up")
        return result("fail", detail=str(exc))
    except Exception as exc:  # a plugin bug must fail its check, not end the checklist
        return result("fail", detail=f"unexpected {type(exc).__name__}: {exc}")
    return result("pass", evidence=evidence)

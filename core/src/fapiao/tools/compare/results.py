"""What a comparison found, as plain data: the JSON report is exactly this, and the HTML
report is drawn from it (so the two never disagree)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "SCHEMA",
    "CallRecord",
    "Comparison",
    "LatencySummary",
    "OperationStats",
    "ProfileResult",
    "ScenarioResult",
    "Throughput",
    "operation_stats",
]

SCHEMA = "fapiao.compare/1"

Outcome = Literal["pass", "fail", "unsupported"]


@dataclass(frozen=True)
class CallRecord:
    """One provider call: which operation, whether it answered as hoped, how long it took."""

    operation: str
    ok: bool
    ms: float
    code: str | None = None
    expected_error: bool = False


@dataclass(frozen=True)
class LatencySummary:
    n: int
    min: float
    p25: float
    p50: float
    p75: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, samples: list[float]) -> LatencySummary | None:
        if not samples:
            return None
        ordered = sorted(samples)

        def pct(p: float) -> float:
            # nearest-rank on the sorted samples: a real observed value, never interpolated
            rank = max(1, math.ceil(p / 100 * len(ordered)))
            return ordered[rank - 1]

        return cls(
            n=len(ordered),
            min=ordered[0],
            p25=pct(25),
            p50=pct(50),
            p75=pct(75),
            p90=pct(90),
            p99=pct(99),
            max=ordered[-1],
            mean=sum(ordered) / len(ordered),
        )

    def rounded(self) -> dict[str, float | int]:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class OperationStats:
    """All calls of one operation: answered, refused as a scenario expected, failed."""

    operation: str
    calls: int
    ok: int
    refused_as_expected: int
    failed: int
    errors: dict[str, int]
    latency_ms: LatencySummary | None
    samples_ms: list[float]

    @property
    def success_rate(self) -> float | None:
        wanted = self.calls - self.refused_as_expected
        return self.ok / wanted if wanted else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "calls": self.calls,
            "ok": self.ok,
            "refused_as_expected": self.refused_as_expected,
            "failed": self.failed,
            "success_rate": self.success_rate,
            "errors": self.errors,
            "latency_ms": self.latency_ms.rounded() if self.latency_ms else None,
            "samples_ms": [round(x, 2) for x in self.samples_ms],
        }


def operation_stats(records: list[CallRecord]) -> dict[str, OperationStats]:
    grouped: dict[str, list[CallRecord]] = {}
    for record in records:
        grouped.setdefault(record.operation, []).append(record)
    stats: dict[str, OperationStats] = {}
    for name, calls in grouped.items():
        samples = [c.ms for c in calls if c.ok]
        errors = Counter(c.code or "?" for c in calls if not c.ok)
        expected = sum(1 for c in calls if not c.ok and c.expected_error)
        ok = sum(1 for c in calls if c.ok)
        stats[name] = OperationStats(
            operation=name,
            calls=len(calls),
            ok=ok,
            refused_as_expected=expected,
            failed=len(calls) - ok - expected,
            errors=dict(sorted(errors.items())),
            latency_ms=LatencySummary.of(samples),
            samples_ms=samples,
        )
    return stats


@dataclass
class ScenarioResult:
    """One scenario of the set on one profile."""

    id: str
    group: str
    title_zh: str
    title_en: str
    expect: Literal["ok", "error"]
    outcome: Outcome
    ms: float | None = None
    codes: list[str] = field(default_factory=list)
    raw_code: str | None = None
    expected_code_matched: bool | None = None
    detail: str = ""
    evidence: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ms"] = round(self.ms, 2) if self.ms is not None else None
        return data


@dataclass
class Throughput:
    """The burst: ``invoices`` issued ``concurrency`` at a time, timed to the last answer
    (accepted) and to the last invoice number (issued)."""

    invoices: int
    concurrency: int
    accepted: int
    issued: int
    failed: int
    unknown_resolved: int
    accept_seconds: float
    issued_seconds: float
    errors: dict[str, int]

    @property
    def accepted_per_second(self) -> float:
        return self.accepted / self.accept_seconds if self.accept_seconds else 0.0

    @property
    def issued_per_second(self) -> float:
        return self.issued / self.issued_seconds if self.issued_seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["accept_seconds"] = round(self.accept_seconds, 3)
        data["issued_seconds"] = round(self.issued_seconds, 3)
        data["accepted_per_second"] = round(self.accepted_per_second, 1)
        data["issued_per_second"] = round(self.issued_per_second, 1)
        return data


@dataclass
class ProfileResult:
    profile: str
    provider: str
    display_name: str
    display_name_zh: str | None
    source: str
    environment: str
    capabilities: dict[str, Any]
    scenarios: list[ScenarioResult] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)
    throughput: Throughput | None = None
    cost: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def label(self) -> str:
        zh = f" {self.display_name_zh}" if self.display_name_zh else ""
        return f"{self.profile} ({self.display_name}{zh})"

    def operations(self) -> dict[str, OperationStats]:
        return operation_stats(self.records)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "provider": self.provider,
            "display_name": self.display_name,
            "display_name_zh": self.display_name_zh,
            "source": self.source,
            "environment": self.environment,
            "seconds": round(self.seconds, 2),
            "capabilities": self.capabilities,
            "scenarios": [s.to_dict() for s in self.scenarios],
            "operations": {k: v.to_dict() for k, v in self.operations().items()},
            "throughput": self.throughput.to_dict() if self.throughput else None,
            "cost_per_10000": self.cost,
        }


@dataclass
class Comparison:
    generated_at: str
    fapiao_version: str
    burst: int
    concurrency: int
    profiles: list[ProfileResult]
    pricing: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "generated_at": self.generated_at,
            "fapiao_version": self.fapiao_version,
            "burst": self.burst,
            "concurrency": self.concurrency,
            "pricing": self.pricing,
            "notes": self.notes,
            "profiles": [p.to_dict() for p in self.profiles],
        }

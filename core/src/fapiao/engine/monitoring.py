"""Provider health: prometheus metrics and a sliding-window success rate with an alert hook.

Why a window of its own beside prometheus: the alert must fire *inside* the process (the
``fapiao_success_rate_alert`` pluggy hook, e.g. to page someone or switch routing) even where
nobody scrapes metrics. The window keeps one bucket per second, so memory is bounded by the
window length, not by the call rate (a 1,500/s batch over 300 s would otherwise hold 450,000
samples).

What counts as a failure: a call the *provider* failed — unreachable, unknown outcome,
5xx-like provider errors, authentication, rate limiting. A request the provider correctly
refused because of its content (invalid invoice, quota exhausted, duplicate order, red
reversal not allowed, unsupported feature) is a healthy answer and counts as a success.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from fapiao.errors import FapiaoError

from .config import MonitoringSection

__all__ = ["HealthSnapshot", "ProviderMonitor", "is_provider_failure"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def is_provider_failure(error: FapiaoError | None) -> bool:
    """A failure of the provider, not a correct refusal of the request (``client_fault``)."""
    return error is not None and not error.client_fault


@dataclass(frozen=True)
class HealthSnapshot:
    profile: str
    provider: str
    calls: int
    failures: int
    success_rate: float | None
    alerting: bool


class _Window:
    """Per-second buckets of (ok, failed) over the last ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.buckets: deque[list[int]] = deque()  # [second, ok, failed]
        self.ok = 0
        self.failed = 0
        self.alerting = False
        self.last_alert = float("-inf")

    def add(self, now: float, failed: bool) -> None:
        second = int(now)
        if not self.buckets or self.buckets[-1][0] != second:
            self.buckets.append([second, 0, 0])
        bucket = self.buckets[-1]
        if failed:
            bucket[2] += 1
            self.failed += 1
        else:
            bucket[1] += 1
            self.ok += 1
        self.evict(now)

    def evict(self, now: float) -> None:
        horizon = now - self.seconds
        while self.buckets and self.buckets[0][0] + 1 <= horizon:
            _, ok, failed = self.buckets.popleft()
            self.ok -= ok
            self.failed -= failed

    @property
    def calls(self) -> int:
        return self.ok + self.failed

    def rate(self) -> float | None:
        return self.ok / self.calls if self.calls else None


class ProviderMonitor:
    """Records every provider call; one instance per client, with its own registry."""

    def __init__(
        self,
        config: MonitoringSection | None = None,
        *,
        registry: CollectorRegistry | None = None,
        hook: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or MonitoringSection()
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.hook = hook
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._providers: dict[str, str] = {}
        self._series: dict[tuple[str, str, str], tuple[Counter, Counter, Histogram]] = {}
        self._rates: dict[str, Gauge] = {}
        self._transition_series: dict[tuple[str, str], Counter] = {}
        labels = ["profile", "provider", "operation"]
        self.calls = Counter(
            "fapiao_provider_calls",
            "Provider calls by outcome (ok, or failed when the provider was at fault).",
            [*labels, "outcome"],
            registry=self.registry,
        )
        self.errors = Counter(
            "fapiao_provider_errors",
            "Provider call errors by canonical error code.",
            [*labels, "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fapiao_provider_latency_seconds",
            "Provider call latency.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.success_rate_gauge = Gauge(
            "fapiao_provider_success_rate",
            "Success rate over the monitoring window (1.0 when no calls).",
            ["profile", "provider"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "fapiao_success_rate_alerts",
            "Alerts fired because the window's success rate fell below the threshold.",
            ["profile", "provider"],
            registry=self.registry,
        )
        self.transitions = Counter(
            "fapiao_state_transitions",
            "Committed ledger state changes by new state.",
            ["profile", "state"],
            registry=self.registry,
        )

    def observe(
        self,
        profile: str,
        provider: str,
        operation: str,
        seconds: float,
        error: FapiaoError | None = None,
    ) -> None:
        failed = is_provider_failure(error)
        series = self._series.get((profile, provider, operation))
        if series is None:
            series = self._series[(profile, provider, operation)] = (
                self.calls.labels(profile, provider, operation, "ok"),
                self.calls.labels(profile, provider, operation, "failed"),
                self.latency.labels(profile, provider, operation),
            )
        ok_calls, failed_calls, latency = series
        (failed_calls if failed else ok_calls).inc()
        latency.observe(seconds)
        if error is not None:
            self.errors.labels(profile, provider, operation, error.code).inc()
        fire: tuple[float, float] | None = None
        now = self.clock()
        with self._lock:
            self._providers[profile] = provider
            window = self._windows.get(profile)
            if window is None:
                window = self._windows[profile] = _Window(self.config.window_seconds)
            window.add(now, failed)
            rate = window.rate()
            if rate is not None:
                below = rate < self.config.threshold and window.calls >= self.config.min_calls
                if below and (
                    not window.alerting
                    or now - window.last_alert >= self.config.alert_cooldown_seconds
                ):
                    window.alerting = True
                    window.last_alert = now
                    fire = (rate, self.config.window_seconds)
                elif not below and rate >= self.config.threshold:
                    window.alerting = False
        if rate is not None:
            gauge = self._rates.get(profile)
            if gauge is None:
                gauge = self._rates[profile] = self.success_rate_gauge.labels(profile, provider)
            gauge.set(rate)
        if fire is not None:
            self.alerts.labels(profile, provider).inc()
            if self.hook is not None:
                # ``provider`` in the hook is the profile: two subsidiaries on one vendor
                # with separate accounts can fail separately.
                self.hook.fapiao_success_rate_alert(
                    provider=profile,
                    success_rate=fire[0],
                    threshold=self.config.threshold,
                    window_seconds=fire[1],
                )

    def state_changed(self, profile: str, state: str) -> None:
        counter = self._transition_series.get((profile, state))
        if counter is None:
            counter = self._transition_series[(profile, state)] = self.transitions.labels(
                profile, state
            )
        counter.inc()

    def success_rate(self, profile: str) -> float | None:
        with self._lock:
            window = self._windows.get(profile)
            if window is None:
                return None
            window.evict(self.clock())
            return window.rate()

    def snapshot(self) -> list[HealthSnapshot]:
        now = self.clock()
        out = []
        with self._lock:
            for profile, window in sorted(self._windows.items()):
                window.evict(now)
                out.append(
                    HealthSnapshot(
                        profile,
                        self._providers.get(profile, ""),
                        window.calls,
                        window.failed,
                        window.rate(),
                        window.alerting,
                    )
                )
        return out

    def exposition(self) -> bytes:
        """The prometheus text format of this monitor's registry (for a /metrics route)."""
        return generate_latest(self.registry)

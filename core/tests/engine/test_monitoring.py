"""Success-rate window, prometheus metrics and the alert hook."""

from __future__ import annotations

from typing import Any

import pluggy

from fapiao import hookspecs
from fapiao.engine.config import MonitoringSection
from fapiao.engine.monitoring import ProviderMonitor
from fapiao.errors import InvalidInvoice, OutcomeUnknown, ProviderUnavailable, QuotaExceeded


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class AlertSink:
    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []

    @hookspecs.hookimpl
    def fapiao_success_rate_alert(
        self, provider: str, success_rate: float, threshold: float, window_seconds: float
    ) -> None:
        self.alerts.append(
            {
                "provider": provider,
                "rate": success_rate,
                "threshold": threshold,
                "window": window_seconds,
            }
        )


def make(clock: Clock, **config: Any) -> tuple[ProviderMonitor, AlertSink]:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    sink = AlertSink()
    pm.register(sink)
    section = MonitoringSection(**{"window_seconds": 60, "min_calls": 10, **config})
    return ProviderMonitor(section, hook=pm.hook, clock=clock), sink


def sample(monitor: ProviderMonitor, name: str, labels: dict[str, str]) -> float:
    value = monitor.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_alert_fires_once_below_threshold_and_rearms() -> None:
    clock = Clock()
    monitor, sink = make(clock, threshold=0.9, alert_cooldown_seconds=3600)
    for _ in range(20):
        monitor.observe("nn_sh", "nuonuo", "issue", 0.01)
    assert sink.alerts == [] and monitor.success_rate("nn_sh") == 1.0
    for _ in range(3):
        monitor.observe("nn_sh", "nuonuo", "issue", 0.5, ProviderUnavailable())
    # 20/23 = 0.87 < 0.9: exactly one alert, not one per failing call
    assert len(sink.alerts) == 1
    alert = sink.alerts[0]
    assert alert["provider"] == "nn_sh" and alert["threshold"] == 0.9 and alert["window"] == 60
    assert abs(alert["rate"] - 20 / 23) < 1e-9
    monitor.observe("nn_sh", "nuonuo", "issue", 0.5, OutcomeUnknown())
    assert len(sink.alerts) == 1
    # the window slides past the failures: healthy again, then a new breach alerts again
    clock.now += 120
    for _ in range(10):
        monitor.observe("nn_sh", "nuonuo", "issue", 0.01)
    assert monitor.success_rate("nn_sh") == 1.0
    for _ in range(2):
        monitor.observe("nn_sh", "nuonuo", "issue", 0.01, ProviderUnavailable())
    assert len(sink.alerts) == 2


def test_business_refusals_are_not_provider_failures() -> None:
    clock = Clock()
    monitor, sink = make(clock)
    for _ in range(30):
        monitor.observe("bw", "baiwang", "issue", 0.02, QuotaExceeded())
        monitor.observe("bw", "baiwang", "issue", 0.02, InvalidInvoice([]))
    assert monitor.success_rate("bw") == 1.0 and sink.alerts == []
    labels = {
        "profile": "bw",
        "provider": "baiwang",
        "operation": "issue",
        "code": "QUOTA_EXCEEDED",
    }
    assert sample(monitor, "fapiao_provider_errors_total", labels) == 30


def test_few_calls_do_not_alert_and_metrics_are_exposed() -> None:
    clock = Clock()
    monitor, sink = make(clock, min_calls=10)
    for _ in range(5):
        monitor.observe("nn", "nuonuo", "query", 0.003, ProviderUnavailable())
    assert monitor.success_rate("nn") == 0.0 and sink.alerts == []
    (health,) = monitor.snapshot()
    assert (health.calls, health.failures, health.alerting) == (5, 5, False)
    text = monitor.exposition().decode()
    assert (
        'fapiao_provider_latency_seconds_bucket{le="0.005",operation="query",profile="nn",provider="nuonuo"} 5.0'
        in text
    )
    assert (
        sample(
            monitor,
            "fapiao_provider_calls_total",
            {"profile": "nn", "provider": "nuonuo", "operation": "query", "outcome": "failed"},
        )
        == 5
    )


def test_window_memory_is_bounded_by_seconds_not_calls() -> None:
    clock = Clock()
    monitor, _ = make(clock, window_seconds=10)
    for i in range(5000):
        clock.now = 1000 + i / 100  # 50 s of calls at 100/s
        monitor.observe("nn", "nuonuo", "issue", 0.001)
    window = monitor._windows["nn"]
    assert len(window.buckets) <= 11 and window.calls <= 1100

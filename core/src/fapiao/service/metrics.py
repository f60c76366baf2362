"""The service's own prometheus counters, and the middleware that feeds them.

They live in a registry beside the engine's (``/metrics`` serves both): requests by route
template, method and status, answer latency by route, and provider callbacks by outcome —
what an operator alerts on when a provider's callbacks stop arriving or start failing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["ServiceMetrics", "measure"]


class ServiceMetrics:
    """One app's counters (each app has its own registry: tests build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.callbacks = Counter(
            "fapiao_callbacks",
            "Provider callbacks received, by outcome (applied, rejected, error).",
            ["profile", "outcome"],
            registry=self.registry,
        )
        self.requests = Counter(
            "fapiao_http_requests",
            "Requests to the service by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fapiao_http_request_seconds",
            "Time to answer a request, by route template.",
            ["route"],
            registry=self.registry,
        )


async def measure(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """HTTP middleware: count and time every request under its route template."""
    metrics: ServiceMetrics = request.app.state.metrics
    started = time.perf_counter()
    response = await call_next(request)
    route = getattr(request.scope.get("route"), "path", "unmatched")
    metrics.requests.labels(route, request.method, str(response.status_code)).inc()
    metrics.latency.labels(route).observe(time.perf_counter() - started)
    return response

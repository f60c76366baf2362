"""What operators and the platform ask the service: ``/v1/status`` (ledger counts, provider
health; behind the API token), ``/metrics`` (prometheus; behind the token too unless the
operator opens it for a scraper, ``fapiao serve --public-metrics``) and ``/healthz`` (the
ledger answers; always open, for the platform's probes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.responses import Response

from fapiao import __version__
from fapiao.views import ledger_summary

from ..dependencies import GUARDED, METRICS_GUARDED, Client, Metrics
from ..schemas import ProviderHealth, ServiceStatus

__all__ = ["router"]

router = APIRouter(tags=["service"])


@router.get(
    "/v1/status",
    summary="ledger counts by state and profile, provider health",
    response_model=ServiceStatus,
    dependencies=GUARDED,
)
async def status(client: Client) -> ServiceStatus:
    stats = await client.ledger.stats()
    return ServiceStatus(
        ledger=ledger_summary(stats),
        providers=[
            ProviderHealth(
                profile=h.profile,
                provider=h.provider,
                calls=h.calls,
                failures=h.failures,
                success_rate=h.success_rate,
                alerting=h.alerting,
            )
            for h in client.monitor.snapshot()
        ],
        profiles={name: p.provider_name for name, p in client.providers.profiles.items()},
    )


@router.get(
    "/metrics",
    summary="prometheus metrics",
    response_class=Response,
    dependencies=METRICS_GUARDED,
)
async def metrics_endpoint(client: Client, metrics: Metrics) -> Response:
    body = client.monitor.exposition() + generate_latest(metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", summary="liveness: the ledger answers")
async def healthz(client: Client) -> dict[str, Any]:
    await client.ledger.get_cursor("fapiao.healthz")
    return {"status": "ok", "version": __version__}

"""The ASGI service: provider callbacks, the REST gateway, metrics and health.

Why one app around one :class:`~fapiao.engine.client.AsyncClient`: callbacks and gateway
calls must go through the same ledger and the same exactly-once path as the Python API, so
a callback racing a query, or a Java caller retrying an issue, can never move a record
backwards or send an order twice. The app must run in the event loop the client is used in
(``fapiao serve`` and the demo build both in one loop).

- ``POST /callbacks/{profile}``: the body is verified by the profile's plugin (signature,
  freshness, replay) and every status it carries applied idempotently; the provider gets
  the answer its protocol expects (``CallbackResult.response_*``), 401 if forged or stale
  (so it retries or alerts), 503 if the ledger could not record it (so it retries).
- ``/v1/...``: the gateway (OpenAPI at ``/openapi.json``, docs at ``/docs``), bearer-token
  protected when a token is configured. Bodies are checked by the same rules as everywhere
  (``fapiao.rules.parse_invoice``): every problem comes back with its field path.
- ``GET /metrics``: the engine's prometheus registry plus the service's own counters.
- ``GET /healthz``: 200 when the ledger answers.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Request
from fastapi.openapi.utils import get_openapi
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse, Response

from fapiao import __version__
from fapiao.documents import MEDIA_TYPES
from fapiao.errors import CallbackRejected, FapiaoError, InvalidInvoice, NotFound
from fapiao.models import Delivery, DeliveryResult, DocumentFormat, Invoice, Quota
from fapiao.rules import issues_from_validation_error, load_json, parse_invoice

from .errors import error_response, issues_response
from .schemas import (
    EventOut,
    InvoiceStatusOut,
    ProviderHealth,
    RedOutcomeOut,
    RedReversalIn,
    ServiceStatus,
    event_out,
    ledger_summary,
    public_status,
    red_outcome_out,
)

if TYPE_CHECKING:
    from fapiao.engine.client import AsyncClient

__all__ = ["MEDIA_TYPES", "create_app"]

log = logging.getLogger("fapiao.service")


SellerPath = Annotated[str, Path(min_length=6, max_length=20, description="销方税号 / seller")]
OrderPath = Annotated[str, Path(min_length=1, max_length=64, description="外部订单号 / order id")]

_BODY_MODELS: dict[str, type[BaseModel]] = {
    "Invoice": Invoice,
    "RedReversalIn": RedReversalIn,
    "Delivery": Delivery,
}


def _json_body(name: str) -> dict[str, Any]:
    """OpenAPI for a body the endpoint parses itself (to report issues our way)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    }


class _Refused(Exception):
    """Answer now with ``response`` (a body that is not even the right shape, no token)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def _parse(request: Request, model: type[BaseModel]) -> Any:
    raw = await request.body()
    try:
        if model is Invoice:
            return parse_invoice(raw)
        return model.model_validate(load_json(raw))
    except InvalidInvoice as exc:
        if model is Invoice:
            raise
        raise _Refused(issues_response(list(exc.issues))) from None
    except ValidationError as exc:
        raise _Refused(issues_response(issues_from_validation_error(exc))) from None


class _Metrics:
    """The service's own counters, in a registry beside the engine's (served together)."""

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


def create_app(client: AsyncClient, *, api_token: str | None = None) -> FastAPI:
    """The service app around ``client`` (which the caller opens and closes).

    With ``api_token`` every ``/v1`` route requires ``Authorization: Bearer <token>``;
    callbacks are authenticated by the provider's signature instead, and ``/metrics`` and
    ``/healthz`` stay open for the platform's probes.
    """
    app = FastAPI(
        title="fapiao gateway",
        version=__version__,
        summary="Issue, reverse, query and deliver 数电发票 through any provider.",
        description="REST gateway of the fapiao engine. Money is a JSON string (exact "
        "decimal); errors carry a stable `code`, Chinese and English messages and, for "
        "invalid invoices, every issue with its field path.",
    )
    app.state.client = client
    metrics = _Metrics()
    app.state.metrics = metrics

    async def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        if api_token is None:
            return
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), api_token.encode()):
            raise _Refused(
                JSONResponse(
                    {
                        "error": {
                            "code": "UNAUTHORIZED",
                            "message_zh": "缺少或错误的访问令牌（Authorization: Bearer …）",
                            "message_en": "missing or wrong API token (Authorization: Bearer …)",
                            "retryable": False,
                        }
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            )

    guarded = [Depends(authorised)]

    @app.exception_handler(FapiaoError)
    async def _fapiao_error(_request: Request, exc: FapiaoError) -> Response:
        return error_response(exc)

    @app.exception_handler(_Refused)
    async def _refused(_request: Request, exc: _Refused) -> Response:
        return exc.response

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)
        return response

    # -- callbacks ----------------------------------------------------------------------------

    @app.post("/callbacks/{profile}", tags=["callbacks"], summary="provider callback (回调)")
    async def callback(profile: Annotated[str, Path(max_length=64)], request: Request) -> Response:
        if profile not in client.providers.profiles:
            metrics.callbacks.labels("unknown", "rejected").inc()
            return error_response(
                NotFound(
                    f"no provider profile {profile!r} receives callbacks here",
                    message_zh=f"此处没有接收回调的配置档 {profile!r}",
                    field="profile",
                )
            )
        body = await request.body()
        try:
            result = await client.apply_callback(
                profile, dict(request.headers), body, dict(request.query_params)
            )
        except CallbackRejected as exc:
            metrics.callbacks.labels(profile, "rejected").inc()
            log.warning("callback for profile %s rejected: %s", profile, exc.message_en)
            return error_response(exc)
        except FapiaoError as exc:
            metrics.callbacks.labels(profile, "error").inc()
            log.warning("callback for profile %s not recorded: %s", profile, exc.code)
            failed = error_response(exc)
            failed.status_code = 503  # not recorded: the provider must send it again
            return failed
        metrics.callbacks.labels(profile, "applied").inc()
        log.debug("callback for profile %s: %d statuses received", profile, len(result.statuses))
        return Response(
            result.response_body,
            status_code=result.response_status,
            media_type=result.response_media_type,
        )

    # -- the gateway --------------------------------------------------------------------------

    @app.post(
        "/v1/invoices",
        tags=["invoices"],
        summary="issue a blue invoice (开具), exactly once per seller + order id",
        response_model=InvoiceStatusOut,
        dependencies=guarded,
        openapi_extra=_json_body("Invoice"),
    )
    async def issue(request: Request) -> InvoiceStatusOut:
        invoice = await _parse(request, Invoice)
        return public_status(await client.issue(invoice))

    @app.get(
        "/v1/invoices/{seller_tax_id}/{order_id}",
        tags=["invoices"],
        summary="status of a request (查询); refresh settles an open one with its provider",
        response_model=InvoiceStatusOut,
        dependencies=guarded,
    )
    async def query(
        seller_tax_id: SellerPath, order_id: OrderPath, refresh: bool = True
    ) -> InvoiceStatusOut:
        return public_status(await client.query(seller_tax_id, order_id, refresh=refresh))

    @app.get(
        "/v1/invoices/{seller_tax_id}/{order_id}/events",
        tags=["invoices"],
        summary="the request's state changes (audit trail)",
        response_model=list[EventOut],
        dependencies=guarded,
    )
    async def events(seller_tax_id: SellerPath, order_id: OrderPath) -> list[EventOut]:
        record = await client.record(seller_tax_id, order_id)
        return [event_out(e) for e in await client.ledger.events(record.key)]

    @app.get(
        "/v1/invoices/{seller_tax_id}/{order_id}/documents/{fmt}",
        tags=["documents"],
        summary="download the invoice file (PDF, OFD or XML), verified and hashed",
        response_class=Response,
        responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}},
        dependencies=guarded,
    )
    async def document(
        seller_tax_id: SellerPath, order_id: OrderPath, fmt: DocumentFormat
    ) -> Response:
        found = await client.documents(seller_tax_id, order_id, [fmt])
        file = found[0]
        return Response(
            file.content or b"",
            media_type=MEDIA_TYPES[fmt],
            headers={
                "Content-Disposition": f'attachment; filename="{file.invoice_number}.{fmt.value}"',
                "X-Content-SHA256": file.sha256 or "",
            },
        )

    @app.post(
        "/v1/red-reversals",
        tags=["red reversal"],
        summary="reverse all or part of an issued invoice (红冲 via 红字确认单)",
        response_model=RedOutcomeOut,
        dependencies=guarded,
        openapi_extra=_json_body("RedReversalIn"),
    )
    async def red_reverse(request: Request) -> RedOutcomeOut:
        body: RedReversalIn = await _parse(request, RedReversalIn)
        outcome = await client.red_reverse(
            body.request(), confirm=body.confirm, wait_seconds=body.wait_seconds
        )
        return red_outcome_out(outcome)

    @app.post(
        "/v1/deliveries",
        tags=["delivery"],
        summary="send an issued invoice to the buyer by e-mail or SMS (交付)",
        response_model=DeliveryResult,
        dependencies=guarded,
        openapi_extra=_json_body("Delivery"),
    )
    async def deliver(request: Request) -> DeliveryResult:
        delivery: Delivery = await _parse(request, Delivery)
        return await client.deliver(delivery)

    @app.get(
        "/v1/sellers/{seller_tax_id}/quota",
        tags=["sellers"],
        summary="the seller's remaining invoicing quota (授信额度)",
        response_model=Quota,
        dependencies=guarded,
    )
    async def quota(seller_tax_id: SellerPath) -> Quota:
        return await client.quota(seller_tax_id)

    @app.get(
        "/v1/status",
        tags=["service"],
        summary="ledger counts by state and profile, provider health",
        response_model=ServiceStatus,
        dependencies=guarded,
    )
    async def status() -> ServiceStatus:
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

    # -- operations ---------------------------------------------------------------------------

    @app.get("/metrics", tags=["service"], summary="prometheus metrics", response_class=Response)
    async def metrics_endpoint() -> Response:
        body = client.monitor.exposition() + generate_latest(metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["service"], summary="liveness: the ledger answers")
    async def healthz() -> dict[str, Any]:
        await client.ledger.get_cursor("fapiao.healthz")
        return {"status": "ok", "version": __version__}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in _BODY_MODELS.items():
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for sub_name, sub in body.pop("$defs", {}).items():
                    components.setdefault(sub_name, sub)
                components[name] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

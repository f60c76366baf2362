"""What a route reaches through FastAPI dependencies: the engine client, the service's
metrics, the bearer-token guards, and the path parameters every gateway route spells alike.

Why dependencies and not a closure: the routes live in modules of their own (``routes/``),
built once and included in every app, while the client, the access settings and the
counters belong to one app — ``create_app`` puts them on ``app.state`` and a route asks for
them here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from fapiao.engine import AsyncClient

from .access import Access, Surface, TokenCheck
from .errors import Refused, unauthorized_response
from .metrics import ServiceMetrics

__all__ = [
    "DOCS_GUARD",
    "DOCS_GUARDED",
    "GATEWAY_GUARD",
    "GUARDED",
    "METRICS_GUARD",
    "METRICS_GUARDED",
    "TOKEN_GUARDS",
    "Client",
    "Metrics",
    "OrderPath",
    "SellerPath",
    "TokenGuard",
]


def _client(request: Request) -> AsyncClient:
    client: AsyncClient = request.app.state.client
    return client


def _metrics(request: Request) -> ServiceMetrics:
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


Client = Annotated[AsyncClient, Depends(_client)]
Metrics = Annotated[ServiceMetrics, Depends(_metrics)]


class TokenGuard(HTTPBearer):
    """Dependency: a request to ``surface`` must carry ``Authorization: Bearer <token>``
    when the app's access settings say so (``fapiao.service.access``); else a 401.

    A FastAPI security scheme (one name per surface), so that FastAPI marks the operations
    it stands before and ``fapiao.service.openapi`` can keep the bearer scheme and the 401
    on exactly those this app guards."""

    def __init__(self, surface: Surface) -> None:
        super().__init__(scheme_name=f"bearer_{surface.value}", auto_error=False)
        self.surface = surface

    async def __call__(self, request: HTTPConnection) -> None:
        access: Access = request.app.state.access
        if not access.requires_token(self.surface):
            return
        outcome = access.check(request.headers.get("authorization"))
        if outcome is not TokenCheck.ADMITTED:
            raise Refused(unauthorized_response(outcome))


GATEWAY_GUARD = TokenGuard(Surface.GATEWAY)
METRICS_GUARD = TokenGuard(Surface.METRICS)
DOCS_GUARD = TokenGuard(Surface.DOCS)
TOKEN_GUARDS = (GATEWAY_GUARD, METRICS_GUARD, DOCS_GUARD)

GUARDED = [Depends(GATEWAY_GUARD)]  # the gateway's routes (/v1)
METRICS_GUARDED = [Depends(METRICS_GUARD)]
DOCS_GUARDED = [Depends(DOCS_GUARD)]

SellerPath = Annotated[str, Path(min_length=6, max_length=20, description="销方税号 / seller")]
OrderPath = Annotated[str, Path(min_length=1, max_length=64, description="外部订单号 / order id")]

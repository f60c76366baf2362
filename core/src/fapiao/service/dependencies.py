"""What a route reaches through FastAPI dependencies: the engine client, the service's
metrics, the bearer-token check, and the path parameters every gateway route spells alike.

Why dependencies and not a closure: the routes live in modules of their own (``routes/``),
built once and included in every app, while the client, the token and the counters belong
to one app — ``create_app`` puts them on ``app.state`` and a route asks for them here.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from fapiao.engine import AsyncClient

from .errors import Refused, unauthorized_response
from .metrics import ServiceMetrics

__all__ = ["GUARDED", "Client", "Metrics", "OrderPath", "SellerPath", "authorised"]


def _client(request: Request) -> AsyncClient:
    client: AsyncClient = request.app.state.client
    return client


def _metrics(request: Request) -> ServiceMetrics:
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


Client = Annotated[AsyncClient, Depends(_client)]
Metrics = Annotated[ServiceMetrics, Depends(_metrics)]


async def authorised(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """With an API token configured, the request must carry ``Authorization: Bearer
    <token>`` (compared in constant time); without one, every request passes."""
    api_token: str | None = request.app.state.api_token
    if api_token is None:
        return
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), api_token.encode()):
        raise Refused(unauthorized_response())


GUARDED = [Depends(authorised)]  # the gateway's routes; callbacks, metrics, health stay open

SellerPath = Annotated[str, Path(min_length=6, max_length=20, description="销方税号 / seller")]
OrderPath = Annotated[str, Path(min_length=1, max_length=64, description="外部订单号 / order id")]

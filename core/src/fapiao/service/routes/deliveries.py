"""``POST /v1/deliveries``: send an issued invoice to the buyer by e-mail or SMS through
its provider. Behind the API token."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.models import DeliveryResult

from ..bodies import DeliveryBody, json_body
from ..dependencies import GUARDED, Client
from ..openapi import NOT_FOUND

__all__ = ["router"]

router = APIRouter(tags=["delivery"], dependencies=GUARDED)


@router.post(
    "/v1/deliveries",
    summary="send an issued invoice to the buyer by e-mail or SMS (交付)",
    response_model=DeliveryResult,
    openapi_extra=json_body("Delivery"),
    responses=NOT_FOUND,
)
async def deliver(delivery: DeliveryBody, client: Client) -> DeliveryResult:
    return await client.deliver(delivery)

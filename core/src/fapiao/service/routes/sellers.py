"""``GET /v1/sellers/{seller}/quota``: what a seller may still invoice (授信额度), as its
provider reports it. Behind the API token."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.models import Quota

from ..dependencies import GUARDED, Client, SellerPath

__all__ = ["router"]

router = APIRouter(tags=["sellers"], dependencies=GUARDED)


@router.get(
    "/v1/sellers/{seller_tax_id}/quota",
    summary="the seller's remaining invoicing quota (授信额度)",
    response_model=Quota,
)
async def quota(seller_tax_id: SellerPath, client: Client) -> Quota:
    return await client.quota(seller_tax_id)

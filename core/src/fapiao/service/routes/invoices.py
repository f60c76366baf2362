"""``/v1/invoices``: issue a blue invoice exactly once, read where a request stands and
its audit trail. Behind the API token."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.views import EventOut, InvoiceStatusOut, event_out, public_status

from ..bodies import InvoiceBody, json_body
from ..dependencies import GUARDED, Client, OrderPath, SellerPath
from ..openapi import NOT_FOUND

__all__ = ["router"]

router = APIRouter(tags=["invoices"], dependencies=GUARDED)


@router.post(
    "/v1/invoices",
    summary="issue a blue invoice (开具), exactly once per seller + order id",
    response_model=InvoiceStatusOut,
    openapi_extra=json_body("Invoice"),
)
async def issue(invoice: InvoiceBody, client: Client) -> InvoiceStatusOut:
    return public_status(await client.issue(invoice))


@router.get(
    "/v1/invoices/{seller_tax_id}/{order_id}",
    summary="status of a request (查询); refresh settles an open one with its provider",
    response_model=InvoiceStatusOut,
    responses=NOT_FOUND,
)
async def query(
    seller_tax_id: SellerPath, order_id: OrderPath, client: Client, refresh: bool = True
) -> InvoiceStatusOut:
    return public_status(await client.query(seller_tax_id, order_id, refresh=refresh))


@router.get(
    "/v1/invoices/{seller_tax_id}/{order_id}/events",
    summary="the request's state changes (audit trail)",
    response_model=list[EventOut],
    responses=NOT_FOUND,
)
async def events(seller_tax_id: SellerPath, order_id: OrderPath, client: Client) -> list[EventOut]:
    record = await client.record(seller_tax_id, order_id)
    return [event_out(e) for e in await client.ledger.events(record.key)]

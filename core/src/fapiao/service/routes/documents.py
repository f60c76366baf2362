"""``GET /v1/invoices/{seller}/{order}/documents/{fmt}``: an issued invoice's PDF, OFD or
XML, verified (type, structure, invoice number) and hashed before it is served; the hash
is in ``X-Content-SHA256``. Behind the API token."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from fapiao.documents import MEDIA_TYPES
from fapiao.models import DocumentFormat

from ..dependencies import GUARDED, Client, OrderPath, SellerPath
from ..openapi import NOT_FOUND

__all__ = ["router"]

router = APIRouter(tags=["documents"], dependencies=GUARDED)


@router.get(
    "/v1/invoices/{seller_tax_id}/{order_id}/documents/{fmt}",
    summary="download the invoice file (PDF, OFD or XML), verified and hashed",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}, **NOT_FOUND},
)
async def document(
    seller_tax_id: SellerPath, order_id: OrderPath, fmt: DocumentFormat, client: Client
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

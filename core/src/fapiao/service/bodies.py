"""Request bodies the gateway parses itself, and how OpenAPI describes them.

Why not FastAPI's own body parsing: an invoice must be checked by the same rules as
everywhere (``fapiao.rules.parse_invoice``), so that every problem comes back at once with
its field path in the canonical error body — not in FastAPI's validation format. Each body
is a dependency (``InvoiceBody`` …) that runs after the token check; ``json_body`` gives the
route its OpenAPI request body, whose schema ``fapiao.service.openapi`` adds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from fapiao.errors import InvalidInvoice
from fapiao.models import Delivery, Invoice
from fapiao.rules import issues_from_validation_error, load_json, parse_invoice

from .errors import Refused, issues_response
from .schemas import RedReversalIn

__all__ = ["BODY_MODELS", "DeliveryBody", "InvoiceBody", "RedReversalBody", "json_body"]

M = TypeVar("M", bound=BaseModel)

BODY_MODELS: dict[str, type[BaseModel]] = {
    "Invoice": Invoice,
    "RedReversalIn": RedReversalIn,
    "Delivery": Delivery,
}


def json_body(name: str) -> dict[str, Any]:
    """OpenAPI for a body the endpoint parses itself (``name`` is one of ``BODY_MODELS``)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    }


async def _parse(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        if model is Invoice:
            return cast(M, parse_invoice(raw))  # InvalidInvoice: a canonical 422
        return model.model_validate(load_json(raw))
    except InvalidInvoice as exc:
        if model is Invoice:
            raise
        raise Refused(issues_response(list(exc.issues))) from None
    except ValidationError as exc:
        raise Refused(issues_response(issues_from_validation_error(exc))) from None


def _body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    async def body(request: Request) -> M:
        return await _parse(request, model)

    return body


InvoiceBody = Annotated[Invoice, Depends(_body(Invoice))]
RedReversalBody = Annotated[RedReversalIn, Depends(_body(RedReversalIn))]
DeliveryBody = Annotated[Delivery, Depends(_body(Delivery))]

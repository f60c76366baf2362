"""Request bodies the gateway parses itself, and how OpenAPI describes them.

Why not FastAPI's own body parsing: an invoice must be checked by the same rules as
everywhere (``fapiao.rules.parse_invoice``), so that every problem comes back at once with
its field path in the canonical error body — not in FastAPI's validation format. Each body
is a dependency (``InvoiceBody`` …) that runs after the token check; ``json_body`` gives the
route its OpenAPI request body, whose schema ``fapiao.service.openapi`` adds.

Why in a worker thread: parsing and validating a body is CPU work proportional to what the
caller sent — seconds for a hostile body the size limit still lets in — and the event loop
it would run on also answers ``/healthz``, the providers' callbacks and every other caller.
At most :data:`PARSE_THREADS` bodies are parsed at once (per app), so bodies sent in
parallel cannot take every thread, the memory and the GIL; a body beyond them waits its
turn (and only bodies that passed the token check are parsed at all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, TypeVar, cast

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from fapiao.errors import InvalidInvoice
from fapiao.models import Delivery, Invoice
from fapiao.rules import issues_from_validation_error, load_json, parse_invoice

from .errors import Refused, issues_response
from .schemas import RedReversalIn

__all__ = [
    "BODY_MODELS",
    "PARSE_THREADS",
    "DeliveryBody",
    "InvoiceBody",
    "RedReversalBody",
    "json_body",
    "parse_limiter",
]

M = TypeVar("M", bound=BaseModel)

PARSE_THREADS = 2
"""Bodies one app parses at once, in worker threads. Two, so that one caller's huge body
leaves a lane for everyone else's; not more, since they share one GIL with the event loop
and every further busy thread makes the loop wait longer for it (measured: two busy
parsers slow ``/healthz`` to about 0.2 s, one to about 0.05 s)."""

BODY_MODELS: dict[str, type[BaseModel]] = {
    "Invoice": Invoice,
    "RedReversalIn": RedReversalIn,
    "Delivery": Delivery,
}


INVOICE_EXAMPLE: dict[str, Any] = {
    "order_id": "SO-2026-0001",
    "kind": "special",
    "seller": {"name": "上海示例信息技术有限公司", "tax_id": "91310000MA1FL8XQ37"},
    "buyer": {"name": "杭州示例数电科技有限公司", "tax_id": "91330100MA2H3X5K73"},
    "lines": [
        {
            "name": "软件开发服务",
            "tax_code": "3040201010000000000",
            "amount": "12000.00",
            "tax_rate": "0.06",
        }
    ],
}
"""The README's invoice, as a caller in any language sends it (money as decimal strings)."""

EXAMPLES: dict[str, dict[str, Any]] = {"Invoice": INVOICE_EXAMPLE}


def json_body(name: str) -> dict[str, Any]:
    """OpenAPI for a body the endpoint parses itself (``name`` is one of ``BODY_MODELS``),
    with its example where there is one (generated clients and OpenAPI-driven testers use
    it as the valid request)."""
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{name}"}}
    if name in EXAMPLES:
        content["example"] = EXAMPLES[name]
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def parse_limiter() -> CapacityLimiter:
    """A new app's bound on the bodies it parses at once (kept on ``app.state``)."""
    return CapacityLimiter(PARSE_THREADS)


async def _parse(request: Request, model: type[M]) -> M:
    raw = await request.body()
    limiter: CapacityLimiter = request.app.state.parse_limiter
    return await anyio.to_thread.run_sync(partial(_parse_sync, raw, model), limiter=limiter)


def _parse_sync(raw: bytes, model: type[M]) -> M:
    try:
        value = load_json(raw)
        if model is Invoice:
            # a non-object is passed as text, for the parser's own refusal of its type
            return cast(M, parse_invoice(value if isinstance(value, dict) else raw))
        return model.model_validate(value)
    except InvalidInvoice as exc:
        if model is Invoice:
            raise  # a canonical 422 with every issue
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

"""The steering endpoints every provider sandbox serves under ``/__sandbox__/``, alike.

Tests, the demo and ``fapiao selftest`` move a sandbox's business clock (the 72-hour rule of
a 红字确认单, token expiry), have the buyer use an invoice (a red form on it then needs the
other party's confirmation) and read its counters the same way whichever vendor it imitates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from fapiao.sandboxkit.clock import SandboxClock

__all__ = ["steering_routes"]


def steering_routes(
    clock: SandboxClock,
    *,
    mark_used: Callable[[str], None],
    snapshot: Callable[[], Mapping[str, Any]],
) -> list[Any]:
    """Starlette routes: ``GET|POST /__sandbox__/clock {"advance_seconds": n}`` → ``{"now"}``
    (422 when moving back); ``POST /__sandbox__/invoices/{number}/use`` → ``{"invoiceNo",
    "used"}`` (404 when ``mark_used`` raises ``KeyError``); ``GET /__sandbox__/state``."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def move_clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            payload = await request.json()
            try:
                clock.advance(timedelta(seconds=float(payload.get("advance_seconds", 0))))
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 422)
        return JSONResponse({"now": clock.now().isoformat()})

    async def use_invoice(request: Request) -> JSONResponse:
        number = request.path_params["number"]
        try:
            mark_used(number)
        except KeyError:
            return JSONResponse({"error": f"no invoice {number}"}, 404)
        return JSONResponse({"invoiceNo": number, "used": True})

    async def state(request: Request) -> JSONResponse:
        return JSONResponse(dict(snapshot()))

    return [
        Route("/__sandbox__/clock", move_clock, methods=["GET", "POST"]),
        Route("/__sandbox__/invoices/{number}/use", use_invoice, methods=["POST"]),
        Route("/__sandbox__/state", state, methods=["GET"]),
    ]

"""The sandbox as an ASGI application: the platform's endpoints plus steering endpoints.

``POST /accessToken`` (form) issues tokens; ``POST /open/v1/services`` passes the gateway's
checks (``gateway``), then dispatches on the ``method`` header (``operations``). Answers are
``{"code", "describe", "result"}`` with HTTP 200, as the platform does; HTTP errors only come
from injected faults (``fapiao.sandboxkit.FaultMiddleware``). Everything under
``/__sandbox__/`` is for tests and demos (never faulted): the virtual clock, a buyer using an
invoice and the counters (``fapiao.sandboxkit.steering_routes``: what every sandbox offers;
this one's state adds its callback deliveries), and the shared fault switches.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fapiao.sandboxkit import FaultInjector, FaultMiddleware, steering_routes
from fapiao_provider_a.errors_map import CODES, SUCCESS
from fapiao_provider_a.protocol import SERVICES_PATH, TOKEN_PATH
from fapiao_provider_a.sandbox.callbacks import delivery_json, send_callbacks
from fapiao_provider_a.sandbox.calls import Call
from fapiao_provider_a.sandbox.config import SandboxConfig
from fapiao_provider_a.sandbox.documents import FILE_ROUTE, document
from fapiao_provider_a.sandbox.gateway import authenticate, grant_token
from fapiao_provider_a.sandbox.operations import HANDLERS
from fapiao_provider_a.sandbox.state import PlatformError, SandboxState
from fapiao_provider_a.signing import dump_body

__all__ = ["create_app"]


def _answer(code: str, result: Any = None, describe: str | None = None) -> Response:
    body = {
        "code": code,
        "describe": describe or (CODES[code].message if code in CODES else "成功"),
        "result": result,
    }
    return Response(dump_body(body), media_type="application/json; charset=utf-8")


def create_app(config: SandboxConfig | None = None) -> Any:
    """The sandbox ASGI app (Starlette wrapped in the fault middleware); its state is at
    ``app.state_ref`` (a :class:`SandboxState`) for tests and the admin endpoints."""
    cfg = config or SandboxConfig()
    state = SandboxState(cfg)
    injector = FaultInjector(cfg.faults)
    callbacks = send_callbacks(state, injector)

    async def access_token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        answer = grant_token(state, form)
        state.count("token")
        return JSONResponse(answer)

    async def services(request: Request) -> Response:
        body = await request.body()
        state.count("services")
        try:
            try:
                text: str | None = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            merchant = authenticate(state, request.query_params, request.headers, text)
            handler = HANDLERS.get(request.headers.get("method") or "")
            if handler is None:
                raise PlatformError("070605")
            try:
                payload = json.loads(text or "")
            except ValueError:
                raise PlatformError("E9109", "body") from None
            if not isinstance(payload, dict):
                raise PlatformError("E9109", "body")
            result = handler(Call(state, merchant, payload, str(request.base_url).rstrip("/")))
        except PlatformError as err:
            return _answer(err.code, describe=err.describe)
        return _answer(SUCCESS, result, "成功")

    async def invoice_file(request: Request) -> Response:
        found = document(state, request.path_params["name"])
        if found is None:
            return Response(status_code=404)
        content, media = found
        return Response(content, media_type=media)

    def overview() -> dict[str, Any]:
        return {
            "counters": dict(state.counters),
            "invoices": len(state.records),
            "forms": len(state.forms),
            "deliveries": state.deliveries,
            "callbacks": [delivery_json(d) for d in callbacks.deliveries[-200:]],
        }

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        async with callbacks.running():  # stops, after a short drain, with the server
            yield

    routes = [
        Route(TOKEN_PATH, access_token, methods=["POST"]),
        Route(SERVICES_PATH, services, methods=["POST"]),
        Route(FILE_ROUTE, invoice_file, methods=["GET"]),
        *steering_routes(state.clock, mark_used=state.mark_used, snapshot=overview),
    ]
    inner = Starlette(routes=routes, lifespan=lifespan)
    app = FaultMiddleware(
        inner, injector, applies_to=lambda scope: scope.get("path") == SERVICES_PATH
    )
    app.state_ref = state  # type: ignore[attr-defined]
    app.callbacks = callbacks  # type: ignore[attr-defined]
    app.config = cfg  # type: ignore[attr-defined]
    return app

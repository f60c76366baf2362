"""The sandbox as an ASGI application: the platform's single route plus steering endpoints.

``POST /router/rest`` dispatches on ``method`` like the real gateway. Everything under
``/__sandbox__/`` is for tests and demos (never faulted): state counters, the virtual clock
and a buyer using an invoice (``fapiao.sandboxkit.steering_routes``, as every sandbox), the
buyer deciding on a red form, expiring tokens, and the shared fault switches at
``/__sandbox__/faults``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fapiao.sandboxkit import FaultInjector, FaultMiddleware, steering_routes
from fapiao_provider_b.errors_map import ERRORS, BaiwangError
from fapiao_provider_b.protocol import API_PATH, Method, dumps, loads
from fapiao_provider_b.sandbox.calls import Call, business
from fapiao_provider_b.sandbox.config import SandboxConfig
from fapiao_provider_b.sandbox.gateway import authenticate, grant_token
from fapiao_provider_b.sandbox.operations import HANDLERS
from fapiao_provider_b.sandbox.red_forms import counterparty_decides
from fapiao_provider_b.sandbox.state import ApiError, SandboxState

__all__ = ["BaiwangSandbox", "create_app"]

_MEDIA = "application/json;charset=UTF-8"


def _answer(method: str, request_id: str, response: Any) -> Response:
    body = {"method": method, "requestId": request_id, "success": True, "response": response}
    return Response(dumps(body), media_type=_MEDIA)


def _refusal(method: str, request_id: str, error: ApiError) -> Response:
    detail: dict[str, Any] = {"code": int(error.code), "message": error.message}
    if error.sub_code is not None:
        detail["subCode"] = error.sub_code
        detail["subMessage"] = error.sub_message or ERRORS[error.sub_code].message
    body = {"method": method, "requestId": request_id, "success": False, "errorResponse": detail}
    return Response(dumps(body), media_type=_MEDIA)


class BaiwangSandbox:
    """One sandbox: its state, its fault injector and the ASGI app serving both."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState(self.config)
        self.faults = FaultInjector(self.config.faults)
        self.router = Starlette(
            routes=[
                Route(API_PATH, self._rest, methods=["POST"]),
                *steering_routes(
                    self.state.clock, mark_used=self.mark_used, snapshot=self.state.snapshot
                ),
                Route("/__sandbox__/tokens/expire", self._expire, methods=["POST"]),
                Route(
                    "/__sandbox__/red-forms/{uuid}/counterparty",
                    self._counterparty,
                    methods=["POST"],
                ),
            ]
        )
        self.faulted_methods: frozenset[str] | None = None
        """Limit rate-based faults to these methods (``None``: every business method)."""
        self._asgi = FaultMiddleware(self.router, self.faults, applies_to=self._faultable)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._asgi(scope, receive, send)

    def _faultable(self, scope: Any) -> bool:
        """Rate-based faults hit business calls (the token call has failures of its own),
        optionally only some methods."""
        if scope.get("path") != API_PATH:
            return False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        method = (query.get("method") or [""])[0]
        if method == Method.TOKEN:
            return False
        return self.faulted_methods is None or method in self.faulted_methods

    # --- steering from Python (same process) ---------------------------------------------

    def advance_clock(self, delta: timedelta) -> None:
        self.state.clock.advance(delta)

    def mark_used(self, invoice_number: str) -> None:
        self.state.mark_used(invoice_number)

    # --- the platform route ----------------------------------------------------------------

    async def _rest(self, request: Request) -> Response:
        params = dict(request.query_params)
        method = params.get("method", "")
        request_id = params.get("requestId") or uuid.uuid4().hex
        try:
            raw = await request.body()
        except ClientDisconnect:  # gone before the gateway read the request: not processed
            self.state.count("client_gone")
            return Response(status_code=499)
        self.state.count(f"call:{method}")
        try:
            if method == Method.TOKEN:
                return _answer(method, request_id, grant_token(self.state, params, _body(raw), raw))
            app = authenticate(self.state, params, raw)
            call = Call(self.state, app, _body(raw))
            return _answer(method, request_id, HANDLERS[method](call))
        except ApiError as error:
            self.state.count(f"refused_{error.sub_code or error.code}")
            return _refusal(method, request_id, error)

    # --- steering over HTTP ----------------------------------------------------------------

    async def _expire(self, request: Request) -> JSONResponse:
        return JSONResponse({"expired": self.state.expire_tokens()})

    async def _counterparty(self, request: Request) -> Response:
        payload = await request.json()
        try:
            form = counterparty_decides(
                self.state, request.path_params["uuid"], bool(payload.get("accept", True))
            )
        except KeyError:
            return JSONResponse({"error": "no such red form"}, 404)
        except ApiError as error:
            return JSONResponse({"error": error.sub_message or error.message}, 409)
        return Response(dumps(form), media_type=_MEDIA)


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = loads(raw) if raw else {}
    except Exception:
        raise business(BaiwangError.REQUIRED_EMPTY, "请求体不是合法的 JSON") from None
    if not isinstance(body, dict):
        raise business(BaiwangError.REQUIRED_EMPTY, "请求体须为 JSON 对象")
    return body


def create_app(config: SandboxConfig | None = None) -> BaiwangSandbox:
    """The sandbox ASGI app (a :class:`BaiwangSandbox`: call it, or steer it)."""
    return BaiwangSandbox(config)

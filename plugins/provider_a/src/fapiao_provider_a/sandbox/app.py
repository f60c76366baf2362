"""The sandbox's HTTP face: the platform's endpoints, gateway checks, signed callbacks.

``POST /accessToken`` (form) issues tokens; ``POST /open/v1/services`` checks, in the
gateway's order, the common parameters, the app key, the timestamp window, the signature,
the senid (no replays), the token and ``userTax``, then dispatches on the ``method`` header.
Answers are ``{"code", "describe", "result"}`` with HTTP 200, as the platform does; HTTP
errors only come from injected faults (``fapiao.sandboxkit.FaultMiddleware``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fapiao.sandboxkit import (
    CallbackDelivery,
    CallbackRequest,
    CallbackSender,
    FaultInjector,
    FaultMiddleware,
)
from fapiao_provider_a.errors_map import CODES, SUCCESS
from fapiao_provider_a.mapping import millis, money
from fapiao_provider_a.provider import CALLBACK_PATH
from fapiao_provider_a.sandbox.config import Merchant, SandboxConfig
from fapiao_provider_a.sandbox.state import PlatformError, Record, RedForm, SandboxState
from fapiao_provider_a.signing import SERVICES_PATH, dump_body, signed_query, verify

__all__ = ["create_app"]

Handler = Callable[[Merchant, dict[str, Any], str], Any]


def _answer(code: str, result: Any = None, describe: str | None = None) -> Response:
    body = {
        "code": code,
        "describe": describe or (CODES[code].describe if code in CODES else "成功"),
        "result": result,
    }
    return Response(dump_body(body), media_type="application/json; charset=utf-8")


def _signed_callback(payload: tuple[Merchant, dict[str, str]]) -> CallbackRequest:
    """A callback signed like a request (inferred: sign-string path ``/open/v1/callback``),
    with a fresh senid, nonce and timestamp in the query for every attempt, so a retry or a
    duplicate verifies on its own and a replay of one attempt is refused."""
    merchant, fields = payload
    body = urlencode(fields)
    query, signature = signed_query(merchant.app_secret, merchant.app_key, body, path=CALLBACK_PATH)
    return CallbackRequest(
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Nuonuo-Sign": signature,
        },
        body=body.encode(),
        params=query,
    )


def _delivery_json(delivery: CallbackDelivery) -> dict[str, Any]:
    return {
        "orderno": delivery.key,
        "url": delivery.url,
        "attempt": delivery.attempt,
        "duplicate": delivery.duplicate,
        "accepted": delivery.accepted,
        "status": delivery.status_code,
        "error": delivery.error,
        "senid": dict(delivery.params).get("senid"),
    }


def _callback_fields(record: Record) -> dict[str, str]:
    sign_ = -1 if record.is_red else 1
    content = {
        "c_status": "1" if record.status == "2" else "2",
        "c_orderno": record.order_no,
        "c_fpqqlsh": record.serial,
        "c_fphm": record.number or "",
        "c_fpdm": "",
        "c_kprq": millis(record.issued_at),
        "c_bhsje": money(record.amount * sign_),
        "c_hjse": money(record.tax * sign_),
        "c_saletaxnum": record.merchant.tax_id,
        "c_invoice_type": "2" if record.is_red else "1",
        "c_yfphm": record.original_number or "",
        "c_msg": "开票完成",
        "c_resultmsg": "",
        "c_url": "",
        "c_ofd_url": "",
        "c_xml_url": "",
    }
    return {
        "operater": "callback",
        "orderno": record.order_no,
        "content": json.dumps(content, ensure_ascii=False),
    }


def create_app(config: SandboxConfig | None = None) -> Any:
    """The sandbox ASGI app (Starlette wrapped in the fault middleware); its state is at
    ``app.state_ref`` (a :class:`SandboxState`) for tests and the admin endpoints."""
    cfg = config or SandboxConfig()
    state = SandboxState(cfg)
    injector = FaultInjector(cfg.faults)
    callbacks = CallbackSender(
        _signed_callback,
        injector=injector,
        retries=cfg.callback_attempts - 1,
        backoff_s=cfg.callback_backoff_seconds,
        reorder_hold_s=cfg.callback_reorder_hold_seconds,
    )

    def on_issued(record: Record) -> None:
        if cfg.callbacks and record.callback_url:
            fields = _callback_fields(record)
            if cfg.documents:
                content = json.loads(fields["content"])
                content.update(
                    c_url=state.file_url(record, "pdf"),
                    c_ofd_url=state.file_url(record, "ofd"),
                    c_xml_url=state.file_url(record, "xml"),
                )
                fields["content"] = json.dumps(content, ensure_ascii=False)
            callbacks.send(record.callback_url, (record.merchant, fields), key=record.order_no)

    def on_form_changed(form: RedForm) -> None:
        if cfg.callbacks and form.callback_url:
            fields = {
                "operater": "redConfirmCallback",
                "orderno": form.order_no or "",
                "content": json.dumps(state.form_item(form), ensure_ascii=False),
            }
            key = form.order_no or f"redform:{form.bill_id}"
            callbacks.send(form.callback_url, (form.merchant, fields), key=key)

    state.on_issued = on_issued
    state.on_form_changed = on_form_changed
    rate_windows: dict[str, list[float]] = {}

    def later(record: Record) -> None:
        asyncio.get_running_loop().call_later(cfg.issue_delay_seconds, state.finalize, record)

    # -- method handlers --------------------------------------------------------------------
    def issue(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        order = payload.get("order")
        if not isinstance(order, dict):
            raise PlatformError("E9109", "order")
        record = state.submit(merchant, order, base_url=base)
        later(record)
        return {"invoiceSerialNum": record.serial}

    def query(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        orders = payload.get("orderNos") or []
        serials = payload.get("serialNos") or []
        if not (orders or serials) or len(orders) > 50 or len(serials) > 50:
            raise PlatformError("E9109", "orderNos/serialNos 1-50")
        records = state.find(
            merchant, order_nos=[str(o) for o in orders], serial_nos=[str(s) for s in serials]
        )
        if not records:
            raise PlatformError("E9500")
        detail = str(payload.get("isOfferInvoiceDetail") or "0") == "1"
        return [state.result_item(r, detail) for r in records]

    def red_save(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        form = state.save_red_form(merchant, payload, base_url=base)
        if form.red is not None:
            later(form.red)
        return form.bill_id

    def red_query(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        identity = str(payload.get("identity") or "0")
        forms = state.forms_for(merchant, identity, str(payload.get("billId") or "") or None)
        size = min(int(payload.get("pageSize") or 10), 50)
        page = max(int(payload.get("pageNo") or 1), 1)
        chosen = forms[(page - 1) * size : page * size]
        return {"total": len(forms), "list": [state.form_item(f) for f in chosen]}

    def red_confirm(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        form = state.confirm_form(merchant, payload, base_url=base)
        if form.red is not None and form.red.status == "20":
            later(form.red)
        return {"billId": form.bill_id, "billStatus": form.status}

    def red_fast(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        record = state.fast_red(merchant, payload, base_url=base)
        later(record)
        return {"invoiceSerialNum": record.serial}

    def deliver(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        return state.deliver(merchant, payload)

    def credit(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        return state.credit_line(merchant)

    def cancel(merchant: Merchant, payload: dict[str, Any], base: str) -> Any:
        raise PlatformError("E9601")

    handlers: dict[str, Handler] = {
        "nuonuo.OpeMplatform.requestBillingNew": issue,
        "nuonuo.OpeMplatform.queryInvoiceResult": query,
        "nuonuo.ElectronInvoice.queryInvoiceResult": query,
        "nuonuo.OpeMplatform.saveInvoiceRedConfirm": red_save,
        "nuonuo.OpeMplatform.queryInvoiceRedConfirm": red_query,
        "nuonuo.OpeMplatform.confirm": red_confirm,
        "nuonuo.OpeMplatform.fastInvoiceRed": red_fast,
        "nuonuo.ElectronInvoice.deliveryInvoice": deliver,
        "nuonuo.OpeMplatform.getCreditLine": credit,
        "nuonuo.electronInvoice.invoiceCancellation": cancel,
    }

    # -- endpoints -----------------------------------------------------------------------
    async def access_token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        answer = state.issue_token(
            str(form.get("client_id") or ""),
            str(form.get("client_secret") or ""),
            str(form.get("grant_type") or ""),
        )
        state.count("token")
        return JSONResponse(answer)

    async def services(request: Request) -> Response:
        q = request.query_params
        senid, nonce, timestamp, app_key = (
            q.get(k, "") for k in ("senid", "nonce", "timestamp", "appkey")
        )
        body = await request.body()
        state.count("services")
        try:
            if not (
                len(senid) == 32
                and senid.isalnum()
                and nonce.isdigit()
                and timestamp.isdigit()
                and app_key
            ):
                raise PlatformError("070604")
            merchant = cfg.merchant_by_key(app_key)
            if merchant is None:
                raise PlatformError("070101")
            if abs(time.time() - int(timestamp)) > cfg.timestamp_tolerance_seconds:
                raise PlatformError("070602")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise PlatformError("070601") from None
            if not verify(
                request.headers.get("x-nuonuo-sign"),
                merchant.app_secret,
                app_key,
                senid,
                nonce,
                timestamp,
                text,
            ):
                raise PlatformError("070601")
            state.check_senid(senid)
            state.check_token(request.headers.get("accesstoken"), app_key)
            user_tax = request.headers.get("usertax") or ""
            if user_tax and user_tax != merchant.tax_id:
                raise PlatformError("070801")
            if cfg.requests_per_second:
                now = time.monotonic()
                window = [t for t in rate_windows.get(app_key, []) if t > now - 1.0]
                if len(window) >= cfg.requests_per_second:
                    raise PlatformError("070701")
                window.append(now)
                rate_windows[app_key] = window
            handler = handlers.get(request.headers.get("method") or "")
            if handler is None:
                raise PlatformError("070605")
            try:
                payload = json.loads(text)
            except ValueError:
                raise PlatformError("E9109", "body") from None
            if not isinstance(payload, dict):
                raise PlatformError("E9109", "body")
            base = str(request.base_url).rstrip("/")
            result = handler(merchant, payload, base)
        except PlatformError as err:
            return _answer(err.code, describe=err.describe)
        return _answer(SUCCESS, result, "成功")

    async def invoice_file(request: Request) -> Response:
        found = state.document(request.path_params["name"])
        if found is None:
            return Response(status_code=404)
        content, media = found
        return Response(content, media_type=media)

    # -- sandbox control ----------------------------------------------------------------
    async def clock(request: Request) -> Response:
        if request.method == "POST":
            data = await request.json()
            state.clock.advance(timedelta(seconds=float(data.get("advance_seconds", 0))))
        return JSONResponse({"now": state.clock.now().isoformat()})

    async def use_invoice(request: Request) -> Response:
        try:
            state.mark_used(request.path_params["number"])
        except KeyError:
            return JSONResponse({"error": "unknown invoice"}, 404)
        return JSONResponse({"used": True})

    async def overview(request: Request) -> Response:
        return JSONResponse(
            {
                "counters": dict(state.counters),
                "invoices": len(state.records),
                "forms": len(state.forms),
                "deliveries": state.deliveries,
                "callbacks": [_delivery_json(d) for d in callbacks.deliveries[-200:]],
            }
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        async with callbacks.running():  # stops, after a short drain, with the server
            yield

    routes = [
        Route("/accessToken", access_token, methods=["POST"]),
        Route(SERVICES_PATH, services, methods=["POST"]),
        Route("/invoice/file/{name}", invoice_file, methods=["GET"]),
        Route("/__sandbox__/clock", clock, methods=["GET", "POST"]),
        Route("/__sandbox__/invoices/{number}/use", use_invoice, methods=["POST"]),
        Route("/__sandbox__/state", overview, methods=["GET"]),
    ]
    inner = Starlette(routes=routes, lifespan=lifespan)
    app = FaultMiddleware(
        inner, injector, applies_to=lambda scope: scope.get("path") == SERVICES_PATH
    )
    app.state_ref = state  # type: ignore[attr-defined]
    app.callbacks = callbacks  # type: ignore[attr-defined]
    app.config = cfg  # type: ignore[attr-defined]
    return app

"""The YonBIP open-API simulator: a real Starlette app speaking the platform's protocol.

What it implements (paths as the official SDK and API docs use them):

* ``GET /iuap-api-auth/open-auth/selfAppAuth/getAccessToken?appKey&timestamp&signature`` —
  HMAC-SHA256 signature and timestamp freshness checked; ``{"code": "00000", "data":
  {"access_token", "expire"}}``; unknown app ``10018``, bad signature/stale timestamp ``310003``;
* the gateway ``/iuap-api-gateway/yonbip/sd/{vouchersaleinvoice,voucherorder}/{list,detail}``
  with ``access_token`` as query parameter (the docs) or header (the Python SDK); missing token
  ``310001``, unknown or expired token ``310036`` — all with HTTP 200 as the real gateway does;
  unknown API ``310404`` with HTTP 404; list bodies with ``pageIndex``/``pageSize``, ``isSum``,
  ``simpleVOs`` (eq neq lt gt elt egt between in nin like) and ``queryOrders``;
* write-back ``POST …/einvoiceResult`` with MDD idempotency on ``resubmitCheckKey`` (same key →
  first answer again);
* event push: when a document is audited through the admin API, every subscriber gets the
  signed, encrypted envelope;
* admin (``/__sim__/…``): state and counters, subscriptions, add/audit documents, token expiry.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fapiao_erp_yonyou.signing import encrypt_event, event_signature, token_signature
from fapiao_erp_yonyou.simulator.data import red_invoice_for, sample_invoices, sample_orders

__all__ = ["SimulatorConfig", "YonyouSimulator", "create_app", "dumps"]

DEFAULT_APP_KEY = "2231c234d3194f709b02ab99d157e4bd"
DEFAULT_APP_SECRET = "b569999441514b80a0c6ecb174173dfc"


def dumps(value: Any) -> str:
    """JSON with Decimals written as exact JSON numbers (the platform sends numbers)."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text if "." not in text else text.rstrip("0").rstrip(".") or "0"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status_code=status, media_type="application/json;charset=UTF-8")


def _fail(code: str, message: str, status: int = 200) -> Response:
    return _json({"code": code, "message": message}, status)


@dataclass
class SimulatorConfig:
    app_key: str = DEFAULT_APP_KEY
    app_secret: str = DEFAULT_APP_SECRET
    tenant_id: str = "sim0tenant"
    token_ttl_seconds: int = 7200
    timestamp_skew_ms: int = 5 * 60 * 1000
    base_time: datetime = field(default_factory=lambda: datetime(2025, 3, 3, 9, 0, 0))
    with_samples: bool = True


class YonyouSimulator:
    """Holds the tenant's documents, tokens and counters; ``app`` serves them."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.tokens: dict[str, float] = {}
        self.documents: dict[str, dict[int, dict[str, Any]]] = {"saleinvoice": {}, "saleorder": {}}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.subscribers: list[str] = []
        self.pushes: list[dict[str, Any]] = []
        self.counters: dict[str, int] = {"token": 0, "list": 0, "detail": 0, "writeback": 0, "writeback_applied": 0}
        self._clock = self.config.base_time + timedelta(days=1)
        if self.config.with_samples:
            for doc in sample_invoices(self.config.base_time):
                self.documents["saleinvoice"][int(doc["id"])] = doc
            for doc in sample_orders(self.config.base_time):
                self.documents["saleorder"][int(doc["id"])] = doc
        self.app = self._build_app()

    # -- helpers -------------------------------------------------------------------------
    def next_pubts(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%d %H:%M:%S")

    def _token_ok(self, request: Request) -> Response | None:
        token = request.query_params.get("access_token") or request.headers.get("access_token")
        if not token:
            return _fail("310001", "access_token不能为空。")
        expires = self.tokens.get(token)
        if expires is None or expires < time.monotonic():
            return _fail("310036", "非法token")
        return None

    def expire_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = 0.0

    # -- token ---------------------------------------------------------------------------
    async def get_token(self, request: Request) -> Response:
        params = request.query_params
        app_key = params.get("appKey", "")
        timestamp = params.get("timestamp", "")
        signature = params.get("signature", "")
        if app_key != self.config.app_key:
            return _fail("10018", "应用不存在或appKey已停用")
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > self.config.timestamp_skew_ms:
            return _fail("310003", "获取token失败：时间戳无效或已过期")
        expected = token_signature(app_key, self.config.app_secret, timestamp)
        if not secrets.compare_digest(expected, signature):
            return _fail("310003", "获取token失败：签名校验失败")
        token = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        self.tokens[token] = time.monotonic() + self.config.token_ttl_seconds
        self.counters["token"] += 1
        return _json({"code": "00000", "message": "成功！", "data": {"access_token": token, "expire": self.config.token_ttl_seconds}})

    # -- queries -------------------------------------------------------------------------
    async def list_documents(self, request: Request) -> Response:
        denied = self._token_ok(request)
        if denied is not None:
            return denied
        kind = request.path_params["kind"]
        try:
            body = json.loads(await request.body() or b"{}", parse_float=Decimal)
        except ValueError:
            return _fail("310002", "请求体必须是JSON结构")
        if not isinstance(body, dict):
            return _fail("310002", "请求体必须是JSON结构")
        try:
            page_index = max(1, int(body.get("pageIndex") or 1))
            page_size = max(1, min(500, int(body.get("pageSize") or 10)))
        except (TypeError, ValueError):
            return _fail("310023", "参数类型校验失败：pageIndex/pageSize")
        self.counters["list"] += 1
        docs = [d for d in self.documents[_KIND[kind]].values() if _matches(d, body)]
        docs = _ordered(docs, body.get("queryOrders") or [{"field": "id", "order": "asc"}])
        count = len(docs)
        page_count = (count + page_size - 1) // page_size
        chunk = docs[(page_index - 1) * page_size : page_index * page_size]
        lines_key = _LINES[_KIND[kind]]
        if body.get("isSum") in (True, "true"):
            records = [{k: v for k, v in d.items() if k != lines_key} for d in chunk]
        else:
            records = [
                {**{k: v for k, v in d.items() if k != lines_key}, **line, "id": d["id"], f"{lines_key}_id": line["id"]}
                for d in chunk
                for line in d.get(lines_key, [])
            ]
        data = {
            "pageIndex": page_index,
            "pageSize": page_size,
            "recordCount": count,
            "recordList": records,
            "pageCount": page_count,
            "beginPageIndex": 1,
            "endPageIndex": max(page_count, 1),
            "pubts": self._clock.strftime("%Y-%m-%d %H:%M:%S"),
        }
        return _json({"code": "200", "message": "操作成功", "data": data})

    async def detail(self, request: Request) -> Response:
        denied = self._token_ok(request)
        if denied is not None:
            return denied
        self.counters["detail"] += 1
        raw = request.query_params.get("id", "")
        doc = self.documents[_KIND[request.path_params["kind"]]].get(int(raw)) if raw.isdigit() else None
        if doc is None:
            return _fail("1002", "数据不存在")
        return _json({"code": 200, "message": "操作成功", "data": doc})

    # -- write-back ----------------------------------------------------------------------
    async def writeback(self, request: Request) -> Response:
        denied = self._token_ok(request)
        if denied is not None:
            return denied
        self.counters["writeback"] += 1
        try:
            body = json.loads(await request.body() or b"{}", parse_float=Decimal)
            data = body["data"]
            doc_id = int(data["id"])
        except (ValueError, KeyError, TypeError):
            return _fail("310008", "参数校验失败，缺少必填参数 data.id")
        key = str(data.get("resubmitCheckKey") or "")
        if len(key) > 32:
            return _fail("310015", "resubmitCheckKey 长度不能超过32位")
        kind = _KIND[request.path_params["kind"]]
        scoped = f"{kind}:{key}"
        if key and scoped in self.idempotency:
            return _json(self.idempotency[scoped])
        doc = self.documents[kind].get(doc_id)
        if doc is None:
            return _fail("1002", "数据不存在")
        if data.get("code") and str(data["code"]) != str(doc["code"]):
            return _fail("999", f"单据编号 {data['code']} 与 id {doc_id} 不符")
        try:
            status = int(data.get("taxBillingStatus", doc.get("taxBillingStatus", 1)))
        except (TypeError, ValueError):
            return _fail("310023", "参数类型校验失败：taxBillingStatus")
        if status not in (0, 1, 2, 3):
            return _fail("310015", "taxBillingStatus 取值不合法")
        for name in ("einvoiceHm", "blueEinvoiceKprq", "einvoiceDownUrl", "einvoiceFailMemo", "einvoiceRequestNo"):
            if name in data:
                doc[name] = data[name]
        doc["taxBillingStatus"] = status
        doc["businessState"] = {0: 0, 1: 1, 2: 2, 3: 7}[status]
        doc["pubts"] = self.next_pubts()
        self.counters["writeback_applied"] += 1
        answer = {"code": "200", "message": "操作成功", "data": {"id": doc_id, "code": doc["code"], "pubts": doc["pubts"]}}
        if key:
            self.idempotency[scoped] = answer
        return _json(answer)

    async def unknown_api(self, request: Request) -> Response:
        return _fail("310404", f"网关上没有注册此API[{request.url.path}]，请确认后重新调用", 404)

    # -- admin ---------------------------------------------------------------------------
    async def admin_state(self, request: Request) -> Response:
        return _json(
            {
                "counters": self.counters,
                "documents": {k: len(v) for k, v in self.documents.items()},
                "subscribers": self.subscribers,
                "pushes": len(self.pushes),
            }
        )

    async def admin_document(self, request: Request) -> Response:
        kind = _KIND[request.path_params["kind"]]
        raw = request.path_params["doc_id"]
        doc = self.documents[kind].get(int(raw)) if raw.isdigit() else None
        if doc is None:
            return _fail("1002", "数据不存在", 404)
        return _json(doc)

    async def admin_add(self, request: Request) -> Response:
        kind = _KIND[request.path_params["kind"]]
        doc = json.loads(await request.body(), parse_float=Decimal)
        doc.setdefault("pubts", self.next_pubts())
        self.documents[kind][int(doc["id"])] = doc
        return _json({"id": doc["id"], "pubts": doc["pubts"]})

    async def admin_audit(self, request: Request) -> Response:
        """Audit (审核) a document: status 1, new pubts, and an event to every subscriber."""
        kind = _KIND[request.path_params["kind"]]
        raw = request.path_params["doc_id"]
        doc = self.documents[kind].get(int(raw)) if raw.isdigit() else None
        if doc is None:
            return _fail("1002", "数据不存在", 404)
        doc["status"] = 1
        doc["verifystate"] = 2
        doc["pubts"] = self.next_pubts()
        event = {
            "eventType": "SD_SALEINVOICE_AUDIT" if kind == "saleinvoice" else "SD_SALEORDER_AUDIT",
            "tenantId": self.config.tenant_id,
            "timestamp": int(time.time() * 1000),
            "content": {"id": str(doc["id"]), "code": doc["code"], "billType": kind, "pubts": doc["pubts"]},
        }
        delivered = await self.push(event)
        return _json({"id": doc["id"], "pubts": doc["pubts"], "delivered": delivered})

    async def admin_red(self, request: Request) -> Response:
        """Raise a red sales invoice (销货退回, one unit of line 1) against an issued blue one."""
        raw = request.path_params["doc_id"]
        blue = self.documents["saleinvoice"].get(int(raw)) if raw.isdigit() else None
        if blue is None:
            return _fail("1002", "数据不存在", 404)
        if not blue.get("einvoiceHm"):
            return _fail("999", "蓝字发票尚未开具税票，不能红冲", 400)
        serial = 90 + sum(1 for d in self.documents["saleinvoice"].values() if d.get("blueInvId") == blue["id"])
        red = red_invoice_for(blue, self.next_pubts(), serial=serial)
        self.documents["saleinvoice"][int(red["id"])] = red
        blue["isIssueRedInvoice"] = True
        return _json({"id": red["id"], "code": red["code"], "pubts": red["pubts"]})

    async def admin_subscribe(self, request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        url = str(body.get("url") or "")
        if not url.startswith(("http://", "https://")):
            return _fail("310015", "url 必须是 http(s) 地址", 400)
        if url not in self.subscribers:
            self.subscribers.append(url)
        return _json({"subscribers": self.subscribers})

    async def admin_expire_tokens(self, request: Request) -> Response:
        self.expire_tokens()
        return _json({"expired": len(self.tokens)})

    def envelope(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The signed, encrypted push body for one event."""
        message = json.dumps(event, ensure_ascii=False)
        encrypted = encrypt_event(self.config.app_key, self.config.app_secret, message)
        nonce = secrets.token_hex(8)
        timestamp = int(time.time() * 1000)
        return {
            "nonce": nonce,
            "timestamp": timestamp,
            "encrypt": encrypted,
            "signature": event_signature(self.config.app_secret, nonce, encrypted, str(timestamp)),
        }

    async def push(self, event: Mapping[str, Any]) -> int:
        """POST the event to every subscriber (3 tries each); returns how many answered 2xx."""
        body = self.envelope(event)
        delivered = 0
        async with httpx.AsyncClient(timeout=5.0) as client:
            for url in self.subscribers:
                for attempt in range(3):
                    try:
                        response = await client.post(url, json=body)
                    except httpx.HTTPError:
                        response = None
                    ok = response is not None and response.is_success
                    self.pushes.append({"url": url, "event": dict(event), "attempt": attempt + 1, "ok": ok})
                    if ok:
                        delivered += 1
                        break
                    await asyncio.sleep(0.05 * (attempt + 1))
        return delivered

    def _build_app(self) -> Starlette:
        kinds = "{kind:str}"
        routes = [
            Route("/iuap-api-auth/open-auth/selfAppAuth/getAccessToken", self.get_token, methods=["GET"]),
            Route("/open-auth/selfAppAuth/getAccessToken", self.get_token, methods=["GET"]),
            Route(f"/iuap-api-gateway/yonbip/sd/{kinds}/list", self._guard(self.list_documents), methods=["POST"]),
            Route(f"/iuap-api-gateway/yonbip/sd/{kinds}/detail", self._guard(self.detail), methods=["GET"]),
            Route(f"/iuap-api-gateway/yonbip/sd/{kinds}/einvoiceResult", self._guard(self.writeback), methods=["POST"]),
            Route("/iuap-api-gateway/{rest:path}", self.unknown_api, methods=["GET", "POST"]),
            Route("/__sim__/state", self.admin_state, methods=["GET"]),
            Route("/__sim__/subscriptions", self.admin_subscribe, methods=["POST"]),
            Route("/__sim__/tokens/expire", self.admin_expire_tokens, methods=["POST"]),
            Route(f"/__sim__/{kinds}", self._guard(self.admin_add), methods=["POST"]),
            Route(f"/__sim__/{kinds}/{{doc_id:str}}", self._guard(self.admin_document), methods=["GET"]),
            Route(f"/__sim__/{kinds}/{{doc_id:str}}/audit", self._guard(self.admin_audit), methods=["POST"]),
            Route("/__sim__/vouchersaleinvoice/{doc_id:str}/red", self.admin_red, methods=["POST"]),
        ]
        return Starlette(routes=routes)

    def _guard(self, handler: Any) -> Any:
        async def guarded(request: Request) -> Response:
            if request.path_params.get("kind") not in _KIND:
                return await self.unknown_api(request)
            return await handler(request)

        return guarded


_KIND = {"vouchersaleinvoice": "saleinvoice", "voucherorder": "saleorder"}
_LINES = {"saleinvoice": "saleInvoiceDetails", "saleorder": "orderDetails"}
_OPS = {"eq", "neq", "lt", "gt", "elt", "egt", "between", "in", "nin", "like", "leftlike", "rightlike", "is_null", "is_not_null"}


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | Decimal):
        return Decimal(value)
    text = "" if value is None else str(value)
    try:
        return Decimal(text) if text and text.lstrip("-").replace(".", "", 1).isdigit() else text
    except InvalidOperation:  # pragma: no cover
        return text


def _cmp(left: Any, right: Any) -> int:
    a, b = _comparable(left), _comparable(right)
    if type(a) is not type(b):
        a, b = str(left), str(right)
    return (a > b) - (a < b)


def _condition(doc: Mapping[str, Any], vo: Mapping[str, Any]) -> bool:
    name = str(vo.get("field") or "")
    op = str(vo.get("op") or "eq").lower()
    if not name or op not in _OPS:
        return True
    value = doc.get(name)
    v1, v2 = vo.get("value1"), vo.get("value2")
    if op == "is_null":
        return value in (None, "")
    if op == "is_not_null":
        return value not in (None, "")
    if op in ("in", "nin"):
        options = v1 if isinstance(v1, list) else str(v1 or "").split(",")
        hit = any(_cmp(value, o) == 0 for o in options)
        return hit if op == "in" else not hit
    if op == "between":
        return _cmp(value, v1) >= 0 and (v2 in (None, "") or _cmp(value, v2) <= 0)
    if op in ("like", "leftlike", "rightlike"):
        text, needle = str(value or ""), str(v1 or "")
        return {"like": needle in text, "leftlike": text.startswith(needle), "rightlike": text.endswith(needle)}[op]
    result = _cmp(value, v1)
    return {"eq": result == 0, "neq": result != 0, "lt": result < 0, "gt": result > 0, "elt": result <= 0, "egt": result >= 0}[op]


def _matches(doc: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    for name in ("code", "status", "taxBillingStatus", "businessState", "invoiceType"):
        if body.get(name) not in (None, "") and _cmp(doc.get(name), body[name]) != 0:
            return False
    begin, end = body.get("open_vouchdate_begin"), body.get("open_vouchdate_end")
    if begin and _cmp(doc.get("vouchdate"), begin) < 0:
        return False
    if end and _cmp(doc.get("vouchdate"), end) > 0:
        return False
    simple: Iterable[Any] = body.get("simpleVOs") or []
    return all(_condition(doc, vo) for vo in simple if isinstance(vo, Mapping))


def _sort_key(value: Any) -> tuple[int, Decimal, str]:
    comparable = _comparable(value)
    if isinstance(comparable, Decimal):
        return (0, comparable, "")
    return (1, Decimal(0), str(comparable))


def _ordered(docs: list[dict[str, Any]], orders: Iterable[Any]) -> list[dict[str, Any]]:
    """Stable sorts applied last-key-first give a multi-key order like SQL ORDER BY."""
    for order in reversed([o for o in orders if isinstance(o, Mapping) and o.get("field")]):
        name = str(order["field"])
        descending = str(order.get("order", "asc")).lower() == "desc"
        docs = sorted(docs, key=lambda d: _sort_key(d.get(name)), reverse=descending)
    return docs


def create_app(config: SimulatorConfig | None = None) -> Starlette:
    """App factory (``uvicorn --factory fapiao_erp_yonyou.simulator:create_app``)."""
    simulator = YonyouSimulator(config)
    app = simulator.app
    app.state.simulator = simulator
    return app

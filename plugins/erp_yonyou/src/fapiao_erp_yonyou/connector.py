"""The Yonyou YonBIP connector: audited sales invoices (or orders) without a tax invoice in,
invoice results out.

Pending documents are those 已审核 (``status`` 1) whose 税务开票状态 ``taxBillingStatus`` is 1
(未开税票), changed at or after the cursor. The cursor is ``"<pubts>|<id>"``: ``pubts`` (the
document's last-change timestamp, second precision) alone is not unique, the id breaks ties.

The header list is read whole before the first document is yielded: the sync writes results
back while it iterates, which moves those documents out of the filtered set; offset paging over
a shrinking set would silently skip documents, a snapshot cannot.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from fapiao.sdk import (
    ConnectorBase,
    ConnectorSettings,
    HttpClientFactory,
    InvoiceState,
    MappedDocument,
    NotFound,
    SourceDocument,
    WriteBack,
)
from fapiao_erp_yonyou.api import YonyouApi
from fapiao_erp_yonyou.mapping import DocumentMapper
from fapiao_erp_yonyou.settings import YonyouSettings

__all__ = ["YonyouConnector", "writeback_body"]

CHINA = ZoneInfo("Asia/Shanghai")

_PATHS = {
    "saleinvoice": (
        "/yonbip/sd/vouchersaleinvoice/list",
        "/yonbip/sd/vouchersaleinvoice/detail",
        "/yonbip/sd/vouchersaleinvoice/einvoiceResult",
    ),
    "saleorder": (
        "/yonbip/sd/voucherorder/list",
        "/yonbip/sd/voucherorder/detail",
        "/yonbip/sd/voucherorder/einvoiceResult",
    ),
}

# taxBillingStatus: 0 开票中, 1 未开税票, 2 已开税票, 3 开票失败
_TAX_STATUS = {
    InvoiceState.ISSUED: 2,
    InvoiceState.REVERSED: 2,
    InvoiceState.PARTIALLY_REVERSED: 2,
    InvoiceState.FAILED: 3,
    InvoiceState.CANCELLED: 3,
}


def writeback_body(erp_id: str, outcome: WriteBack) -> dict[str, Any]:
    """The write-back request: one ``data`` object with a stable ``resubmitCheckKey``.

    The key is derived from the outcome itself, so a retry after a timeout is recognised by the
    gateway's MDD idempotency as the same request, and a later, different outcome is not.
    """
    status = _TAX_STATUS.get(outcome.state, 0)
    key_source = f"{erp_id}|{outcome.state.value}|{outcome.invoice_number or ''}"
    data: dict[str, Any] = {
        "id": erp_id,
        "code": outcome.source_id,
        "resubmitCheckKey": hashlib.sha256(key_source.encode()).hexdigest()[:32],
        "taxBillingStatus": status,
        "einvoiceRequestNo": outcome.order_id,
    }
    if outcome.invoice_number:
        data["einvoiceHm"] = outcome.invoice_number
    if outcome.issued_at is not None:
        data["blueEinvoiceKprq"] = outcome.issued_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    url = outcome.document_urls.get("pdf") or next(iter(outcome.document_urls.values()), None)
    if url:
        data["einvoiceDownUrl"] = url
    if outcome.error_code or outcome.error_message:
        data["einvoiceFailMemo"] = f"[{outcome.error_code or ''}] {outcome.error_message or ''}"[:200]
    return {"data": data}


class YonyouConnector(ConnectorBase[YonyouSettings]):
    name: ClassVar[str] = "yonyou"
    settings_model: ClassVar[type[ConnectorSettings]] = YonyouSettings

    def __init__(self, settings: YonyouSettings, *, http: HttpClientFactory | None = None) -> None:
        super().__init__(settings, http=http)
        self.api = YonyouApi(settings, self.http, self.scrubber)
        self.mapper = DocumentMapper(settings)
        self.list_path, self.detail_path, default_writeback = _PATHS[settings.document]
        self.writeback_path = settings.writeback_path or default_writeback
        self._erp_ids: dict[str, str] = {}

    async def pending(self, cursor: str | None) -> AsyncIterator[SourceDocument]:
        since, after_id = _parse_cursor(cursor)
        headers = await self._pending_headers(since, after_id)
        for header in headers:
            erp_id = str(header["id"])
            detail = await self.api.call(
                "GET", self.detail_path, params={"id": erp_id}, operation="detail"
            )
            if not isinstance(detail, dict):
                continue
            payload = dict(detail)
            red = str(payload.get("invDirection", "2")) == "1"
            if red and payload.get("blueInvId"):
                payload["_blue"] = await self._blue(str(payload["blueInvId"]))
            code = str(payload.get("code") or header.get("code") or erp_id)
            self._erp_ids[code] = erp_id
            pubts = str(payload.get("pubts") or header.get("pubts") or "")
            yield SourceDocument(
                id=code,
                kind="red" if red else "invoice",
                changed_at=_parse_pubts(pubts),
                cursor=f"{pubts}|{erp_id}",
                payload=payload,
            )

    async def _pending_headers(self, since: str | None, after_id: str | None) -> list[dict[str, Any]]:
        filters: list[dict[str, str]] = [
            {"field": "status", "op": "eq", "value1": "1"},
            {"field": "taxBillingStatus", "op": "eq", "value1": "1"},
        ]
        if since:
            filters.append({"field": "pubts", "op": "egt", "value1": since})
        body = {
            "isSum": True,
            "simpleVOs": filters,
            "queryOrders": [{"field": "pubts", "order": "asc"}, {"field": "id", "order": "asc"}],
        }
        headers: list[dict[str, Any]] = []
        seen: set[str] = set()
        async for page in self.api.list_pages(self.list_path, body, page_size=self.settings.page_size):
            for record in page:
                erp_id = str(record.get("id", ""))
                if not erp_id or erp_id in seen:
                    continue
                if since and not _after(str(record.get("pubts", "")), erp_id, since, after_id):
                    continue
                seen.add(erp_id)
                headers.append(record)
        headers.sort(key=lambda r: (str(r.get("pubts", "")), _id_key(str(r.get("id", "")))))
        return headers

    async def _blue(self, blue_id: str) -> dict[str, Any]:
        try:
            blue = await self.api.call("GET", self.detail_path, params={"id": blue_id}, operation="detail")
        except NotFound:
            return {}
        return dict(blue) if isinstance(blue, dict) else {}

    def map(self, document: SourceDocument) -> MappedDocument:
        return self.mapper.map(document)

    async def write_back(self, outcome: WriteBack) -> None:
        erp_id = self._erp_ids.get(outcome.source_id) or await self._lookup_id(outcome.source_id)
        await self.api.call(
            "POST", self.writeback_path, body=writeback_body(erp_id, outcome), operation="writeback"
        )

    async def _lookup_id(self, code: str) -> str:
        """The numeric id of a document known by its 单据编号 (a write-back in a later run)."""
        body = {"isSum": True, "simpleVOs": [{"field": "code", "op": "eq", "value1": code}]}
        async for page in self.api.list_pages(self.list_path, body, page_size=10):
            for record in page:
                if str(record.get("code")) == code:
                    self._erp_ids[code] = str(record["id"])
                    return str(record["id"])
        raise NotFound(
            f"Yonyou document {code} not found for write-back",
            message_zh=f"回写时未找到用友单据 {code}",
            provider="yonyou",
        )


def _parse_cursor(cursor: str | None) -> tuple[str | None, str | None]:
    if not cursor:
        return None, None
    pubts, _, erp_id = cursor.partition("|")
    return pubts or None, erp_id or None


def _id_key(erp_id: str) -> tuple[int, str]:
    return (int(erp_id), "") if erp_id.isdigit() else (0, erp_id)


def _after(pubts: str, erp_id: str, since: str, after_id: str | None) -> bool:
    if pubts != since:
        return pubts > since
    return after_id is None or _id_key(erp_id) > _id_key(after_id)


def _parse_pubts(pubts: str) -> datetime | None:
    try:
        return datetime.strptime(pubts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None

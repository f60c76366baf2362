"""The Nuonuo (诺诺开放平台, 诺税通 SaaS) provider: the canonical contract over its protocol.

Every business call is one signed POST to ``{base}/open/v1/services`` (see ``signing``);
issuance is asynchronous (``requestBillingNew`` accepts, the result comes by callback or
``queryInvoiceResult``); 数电 reversal goes through a 红字确认单 (``saveInvoiceRedConfirm`` /
``queryInvoiceRedConfirm`` / ``confirm``) after which the platform issues the red invoice
itself, or ``fastInvoiceRed`` is asked to.

What is declared is enforced by ``ProviderBase`` before any method here runs (undeclared
operations such as ``cancel``, invoice kinds, special businesses, line count, order-id
length); this class keeps only Nuonuo's own checks (the seller must be the profile's
``userTax``; a special business needs its 特定要素).

Exactly-once: whether a call may be repeated comes from the operations table, through
``NuonuoClient.call(..., operation=...)``: ``issue``, ``red_apply``, ``red_confirm``,
``red_issue`` and ``deliver`` are never retried by the transport; an unknown outcome raises
``OutcomeUnknown`` and is settled by ``query`` (by order number) or ``red_query`` (the
billId derives from the red order id). A token refused by the gateway means the call never
ran, so that one case is refreshed and resent.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from fapiao.sdk import (
    OPERATIONS,
    CallbackRejected,
    CallbackResult,
    Capabilities,
    Delivery,
    DeliveryChannel,
    DeliveryResult,
    Document,
    DocumentFormat,
    DuplicateOrder,
    HttpClientFactory,
    InvalidRequest,
    Invoice,
    InvoiceKind,
    InvoiceState,
    InvoiceStatus,
    IssueResult,
    NotFound,
    Operation,
    OutcomeUnknown,
    ProviderBase,
    ProviderInfo,
    ProviderUnavailable,
    Quota,
    RedConfirmation,
    RedConfirmationState,
    RedReversalNotAllowed,
    RedReversalRequest,
    ReplayGuard,
    UnsupportedOperation,
    ensure_red_reversal,
    ensure_valid,
    red_lines,
    verified_document,
)
from fapiao_provider_a import mapping
from fapiao_provider_a.client import NuonuoClient
from fapiao_provider_a.protocol import (
    BUYER,
    CALLBACK_PATH,
    ISSUED,
    SELLER,
    Method,
)
from fapiao_provider_a.settings import NuonuoSettings
from fapiao_provider_a.signing import verify

__all__ = ["CAPABILITIES", "NuonuoProvider"]

CAPABILITIES = Capabilities(
    operations=frozenset(
        {
            Operation.ISSUE,
            Operation.QUERY,
            Operation.RED_APPLY,
            Operation.RED_CONFIRM,
            Operation.RED_QUERY,
            Operation.RED_ISSUE,
            Operation.DOCUMENTS,
            Operation.DELIVER,
            Operation.QUOTA,
            Operation.CALLBACK,
        }
    ),
    invoice_kinds=frozenset(InvoiceKind),
    document_formats=frozenset(DocumentFormat),
    delivery_channels=frozenset(DeliveryChannel),
    issuance="async",
    status_updates="callback",
    red_partial=True,
    documents_inline=False,
    max_lines_per_invoice=2000,
    max_query_batch=50,
    max_order_id_length=64,
    rate_limit_per_second=None,
)
"""Limits are the platform's (see README). Not declared: cancel (数电票 are never voided)."""

_SECRET_HEADERS = re.compile(r"((?:accessToken|X-Nuonuo-Sign)\s*[:=]\s*)([^\s,&\"']+)", re.I)


class NuonuoProvider(ProviderBase[NuonuoSettings]):
    name: ClassVar[str] = "nuonuo"
    info: ClassVar[ProviderInfo] = ProviderInfo(
        display_name="Nuonuo open platform (诺税通 SaaS)",
        display_name_zh="诺诺开放平台（诺税通）",
        homepage="https://open.nuonuo.com",
        docs_url="https://open.nuonuo.com/#/api-doc/common-api",
        protocol_notes="HMAC-SHA1 X-Nuonuo-Sign over a canonical string; async issuance "
        "with callbacks; 红字确认单 workflow for 数电 reversal",
    )
    settings_model: ClassVar[type[NuonuoSettings]] = NuonuoSettings
    default_capabilities: ClassVar[Capabilities] = CAPABILITIES

    def __init__(self, settings: NuonuoSettings, *, http: HttpClientFactory | None = None) -> None:
        super().__init__(settings, http=http)
        self._secret = settings.app_secret.get_secret_value()
        self.client = NuonuoClient(self.http, settings, provider=self.name)
        self._seen_callbacks = ReplayGuard(2 * settings.callback_max_age_seconds)

    # -- issue and query ---------------------------------------------------------------------
    async def issue(self, invoice: Invoice) -> IssueResult:
        self._check_seller(invoice.seller.tax_id, field="seller.tax_id")
        # Declared limits are refused by the base class; under ``strict_features = false`` a
        # special business still never goes out without its 特定要素 (never dropped silently).
        if invoice.special_business is not None and "specificFactor" not in invoice.provider_extra:
            raise UnsupportedOperation(
                f"special business {invoice.special_business.value} needs its 特定要素: pass "
                "specificFactor and its elements in provider_extra",
                message_zh=f"特定业务（{invoice.special_business.label_zh}）须通过 provider_extra 提供 specificFactor 及特定要素",
                provider=self.name,
                field="special_business",
            )
        totals = ensure_valid(invoice)
        order = mapping.order_payload(
            invoice,
            totals,
            clerk=self.settings.clerk,
            extension_number=self.settings.extension_number,
            callback_url=self.settings.callback_url,
        )
        try:
            result = await self.client.call(
                Method.ISSUE, {"order": order}, operation=Operation.ISSUE
            )
        except ProviderUnavailable as exc:
            if exc.raw_code is None:
                raise
            # The platform answered "busy" after receiving the order: it may still run.
            raise OutcomeUnknown(
                f"requestBillingNew answered {exc.raw_code}: outcome unknown",
                message_zh=f"开票请求返回 {exc.raw_code}，结果未知，须查询确认",
                provider=self.name,
                raw_code=exc.raw_code,
                raw_message=exc.raw_message,
            ) from exc
        serial = str((result or {}).get("invoiceSerialNum") or "") or None
        return IssueResult(
            provider=self.name,
            seller_tax_id=self.settings.user_tax,
            order_id=invoice.order_id,
            state=InvoiceState.ISSUING,
            serial_number=serial,
            total_amount=totals.total_amount,
            total_tax=totals.total_tax,
            total_with_tax=totals.total_with_tax,
        )

    async def _query_items(
        self, key: str, values: Sequence[str], detail: bool = False
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for chunk in self.capabilities.query_batches(values):
            try:
                result = await self.client.call(
                    Method.QUERY,
                    {key: chunk, "isOfferInvoiceDetail": "1" if detail else "0"},
                    operation=Operation.QUERY,
                )
            except NotFound:
                continue
            found.extend(item for item in result or [] if isinstance(item, dict))
        return found

    async def query(self, seller_tax_id: str, order_ids: Sequence[str]) -> list[InvoiceStatus]:
        self._check_seller(seller_tax_id)
        wanted = set(order_ids)
        items = await self._query_items("orderNos", order_ids)
        return [
            mapping.status_from_result(item, seller_tax_id)
            for item in items
            if str(item.get("orderNo")) in wanted
        ]

    def _check_seller(self, seller_tax_id: str | None, *, field: str = "seller_tax_id") -> None:
        """Every call acts for the profile's merchant (``userTax``), and only for it."""
        if seller_tax_id != self.settings.user_tax:
            raise InvalidRequest(
                f"seller {seller_tax_id} is not this profile's userTax",
                message_zh="销方税号与本配置的授权税号（userTax）不一致",
                provider=self.name,
                field=field,
            )

    # -- documents and delivery -----------------------------------------------------------------
    async def fetch_document(self, status: InvoiceStatus, fmt: DocumentFormat) -> Document:
        url = next((d.url for d in status.documents if d.format is fmt and d.url), None)
        number = status.invoice_number
        if url is None or number is None:
            fresh = await self.query(status.seller_tax_id, [status.order_id])
            if not fresh or fresh[0].state is not InvoiceState.ISSUED:
                raise NotFound(
                    f"order {status.order_id} has no issued invoice to download",
                    message_zh=f"订单 {status.order_id} 尚无已开具的发票",
                    provider=self.name,
                )
            number = fresh[0].invoice_number
            url = next((d.url for d in fresh[0].documents if d.format is fmt and d.url), None)
        if url is None or number is None:
            raise NotFound(
                f"no {fmt.value} file for invoice {number}",
                message_zh=f"发票 {number} 没有 {fmt.value} 文件",
                provider=self.name,
            )
        response = await self.http.get(
            url,
            idempotent=OPERATIONS[Operation.DOCUMENTS].idempotent,
            operation=f"download {fmt.value}",
        )
        if response.status_code != 200:
            raise NotFound(
                f"{fmt.value} of {number}: HTTP {response.status_code}",
                message_zh=f"下载 {number} 的 {fmt.value} 文件失败（HTTP {response.status_code}）",
                provider=self.name,
                raw_code=str(response.status_code),
            )
        return verified_document(fmt, number, response.content, url=url)

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        self._check_seller(delivery.seller_tax_id)
        payload = {
            "taxnum": delivery.seller_tax_id,
            "invoiceCode": "",
            "invoiceNum": delivery.invoice_number,
            "phone": delivery.address if delivery.channel is DeliveryChannel.SMS else "",
            "mail": delivery.address if delivery.channel is DeliveryChannel.EMAIL else "",
        }
        result = await self.client.call(Method.DELIVER, payload, operation=Operation.DELIVER)
        ref = (
            str(result.get("deliveryId"))
            if isinstance(result, dict) and result.get("deliveryId")
            else None
        )
        return DeliveryResult(
            accepted=True,
            channel=delivery.channel,
            invoice_number=delivery.invoice_number,
            provider_ref=ref,
        )

    async def quota(self, seller_tax_id: str) -> Quota:
        self._check_seller(seller_tax_id)
        payload: dict[str, Any] = {"queryType": "1"}
        if self.settings.extension_number:
            payload["extensionNumber"] = self.settings.extension_number
        result = await self.client.call(Method.CREDIT_LINE, payload, operation=Operation.QUOTA)
        return mapping.quota_from_credit_line(result or {}, seller_tax_id)

    # -- red reversal ----------------------------------------------------------------------
    async def red_apply(self, request: RedReversalRequest) -> RedConfirmation:
        self._check_seller(request.seller_tax_id)
        if not request.original_order_id:
            raise InvalidRequest(
                "original_order_id is required: the platform finds the blue invoice by order",
                message_zh="须提供原蓝票订单号（original_order_id）",
                provider=self.name,
                field="original_order_id",
            )
        items = await self._query_items("orderNos", [request.original_order_id], detail=True)
        blue_items = [i for i in items if str(i.get("status")) == ISSUED]
        if not blue_items:
            raise RedReversalNotAllowed(
                f"no issued blue invoice for order {request.original_order_id}",
                message_zh=f"未找到订单 {request.original_order_id} 的已开具蓝字发票",
                provider=self.name,
                field="original_order_id",
            )
        item = blue_items[0]
        if str(item.get("allElectronicInvoiceNumber")) != request.original_invoice_number:
            raise RedReversalNotAllowed(
                f"order {request.original_order_id} is invoice {item.get('allElectronicInvoiceNumber')}, "
                f"not {request.original_invoice_number}",
                message_zh="原蓝票号码与原订单号不对应",
                provider=self.name,
                field="original_invoice_number",
            )
        blue = mapping.blue_invoice_from_result(item, request.seller_tax_id)
        ensure_red_reversal(blue, request, provider=self.name)
        payload = mapping.red_form_payload(
            request,
            blue,
            None if request.is_full else red_lines(blue, request),
            extension_number=self.settings.extension_number,
            callback_url=self.settings.callback_url,
        )
        # A duplicate billId was accepted before (an earlier unknown outcome): read it back.
        with contextlib.suppress(DuplicateOrder):
            await self.client.call(Method.RED_SAVE, payload, operation=Operation.RED_APPLY)
        return await self.red_query(request.seller_tax_id, payload["billId"])

    async def red_query(self, seller_tax_id: str, confirmation_id: str) -> RedConfirmation:
        self._check_seller(seller_tax_id)
        for identity in (SELLER, BUYER):
            result = await self.client.call(
                Method.RED_QUERY,
                {"identity": identity, "billId": confirmation_id},
                operation=Operation.RED_QUERY,
            )
            forms = (result or {}).get("list") or []
            if forms:
                return mapping.confirmation_from_form(forms[0], seller_tax_id)
        raise NotFound(
            f"red confirmation form {confirmation_id} not found",
            message_zh=f"未找到红字确认单 {confirmation_id}",
            provider=self.name,
        )

    async def red_confirm(
        self, seller_tax_id: str, confirmation_id: str, *, accept: bool = True
    ) -> RedConfirmation:
        self._check_seller(seller_tax_id)
        payload = {
            "billId": confirmation_id,
            "identity": SELLER,
            "confirmAgreement": "1" if accept else "0",
        }
        await self.client.call(Method.RED_CONFIRM, payload, operation=Operation.RED_CONFIRM)
        return await self.red_query(seller_tax_id, confirmation_id)

    async def red_issue(self, confirmation: RedConfirmation) -> IssueResult:
        self._check_seller(confirmation.seller_tax_id)
        current = await self.red_query(confirmation.seller_tax_id, confirmation.confirmation_id)
        if current.state not in {RedConfirmationState.CONFIRMED, RedConfirmationState.RED_ISSUED}:
            raise RedReversalNotAllowed(
                f"red confirmation {current.confirmation_id} is {current.state.value}",
                message_zh=f"红字确认单 {current.confirmation_id} 当前状态（{current.raw_status}）不能开具红票",
                provider=self.name,
                raw_code=current.raw_status,
            )
        existing = await self.query(confirmation.seller_tax_id, [current.order_id])
        if not existing:
            payload: dict[str, Any] = {
                "orderNo": current.order_id,
                "taxNum": current.seller_tax_id,
                "elecInvoiceNumber": current.original_invoice_number,
                "billNo": current.confirmation_number or "",
                "billId": current.confirmation_id,
            }
            if self.settings.callback_url:
                payload["callBackUrl"] = self.settings.callback_url
            # Issued automatically meanwhile: the query below finds it.
            with contextlib.suppress(DuplicateOrder):
                await self.client.call(Method.RED_FAST, payload, operation=Operation.RED_ISSUE)
            existing = await self.query(confirmation.seller_tax_id, [current.order_id])
        base = existing[0] if existing else None
        return IssueResult(
            provider=self.name,
            seller_tax_id=current.seller_tax_id,
            order_id=current.order_id,
            state=base.state if base else InvoiceState.ISSUING,
            serial_number=base.serial_number if base else None,
            invoice_number=base.invoice_number if base else None,
            issued_at=base.issued_at if base else None,
            total_amount=current.amount,
            total_tax=current.tax,
            total_with_tax=current.amount + current.tax,
            documents=base.documents if base else (),
            is_red=True,
            original_invoice_number=current.original_invoice_number,
        )

    # -- callbacks ------------------------------------------------------------------------
    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str] | None = None
    ) -> CallbackResult:
        """Verify the signature, freshness and uniqueness of a callback, then normalise it.

        Signed like a request (sign-string path ``/open/v1/callback``) with ``senid``,
        ``nonce``, ``timestamp`` and ``appkey`` in the query; a senid seen before is a replay.
        """
        params = {k.lower(): v for k, v in (query or {}).items()}
        lowered = {k.lower(): v for k, v in headers.items()}
        senid, nonce, timestamp = (params.get(k, "") for k in ("senid", "nonce", "timestamp"))
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise self._rejected("body is not UTF-8", "回调内容不是 UTF-8") from None
        if params.get("appkey") != self.settings.app_key:
            raise self._rejected("appkey missing or not ours", "回调 appkey 缺失或不符")
        if not verify(
            lowered.get("x-nuonuo-sign"),
            self._secret,
            self.settings.app_key,
            senid,
            nonce,
            timestamp,
            text,
            path=CALLBACK_PATH,
        ):
            raise self._rejected("signature does not verify", "回调签名校验失败")
        try:
            age = abs(time.time() - int(timestamp))
        except ValueError:
            raise self._rejected("timestamp is not a number", "回调时间戳格式错误") from None
        if age > self.settings.callback_max_age_seconds:
            raise self._rejected(f"signed {int(age)} s ago", f"回调签名已过期（{int(age)} 秒前）")
        if not self._seen_callbacks.first_time(senid):
            raise self._rejected(f"replayed senid {senid}", "回调重放（senid 已处理）")
        fields = dict(parse_qsl(text, keep_blank_values=True))
        try:
            statuses = self._callback_statuses(fields)
        except CallbackRejected:
            raise
        except (ValueError, TypeError, AttributeError, ArithmeticError, RecursionError) as exc:
            # signed but unreadable (a provider bug, or a leaked key): the protocol's refusal
            detail = f"{type(exc).__name__}: {str(exc)[:120]}"
            raise self._rejected(
                f"content unreadable ({detail})", "回调 content 无法解析"
            ) from None
        return CallbackResult(
            statuses=statuses,
            # the engine claims the senid in its ledger: a replay is refused by every process
            replay_id=senid,
            replay_window_seconds=2 * self.settings.callback_max_age_seconds,
            response_status=200,
            response_body=b'{"status":"0000","message":"\xe5\x90\x8c\xe6\xad\xa5\xe6\x88\x90\xe5\x8a\x9f"}',
        )

    def _callback_statuses(self, fields: Mapping[str, str]) -> tuple[InvoiceStatus, ...]:
        """The statuses a verified callback's form fields carry (``content`` is JSON)."""
        operater = fields.get("operater", "")
        try:
            content = json.loads(fields.get("content") or "{}")
        except ValueError:
            raise self._rejected("content is not JSON", "回调 content 不是 JSON") from None
        if not isinstance(content, dict):
            raise self._rejected("content is not a JSON object", "回调 content 不是 JSON 对象")
        statuses: tuple[InvoiceStatus, ...] = ()
        if operater == "callback":
            status = mapping.status_from_callback(content, self.settings.user_tax)
            if not status.order_id:
                status = status.model_copy(update={"order_id": fields.get("orderno", "")})
            statuses = (status,)
        elif operater == "redConfirmCallback":
            form = mapping.confirmation_from_form(content, self.settings.user_tax)
            if form.state in {RedConfirmationState.CONFIRMED} and form.order_id:
                statuses = (
                    InvoiceStatus(
                        provider=self.name,
                        seller_tax_id=form.seller_tax_id,
                        order_id=form.order_id,
                        state=InvoiceState.RED_CONFIRMED,
                        is_red=True,
                        original_invoice_number=form.original_invoice_number,
                        raw_status=form.raw_status,
                    ),
                )
        return statuses

    def _rejected(self, why_en: str, why_zh: str) -> CallbackRejected:
        return CallbackRejected(
            f"Nuonuo callback rejected: {why_en}",
            message_zh=f"诺诺回调被拒：{why_zh}",
            provider=self.name,
        )

    # -- scrubbing ------------------------------------------------------------------------
    def scrub(self, transcript: str) -> str:
        """Also masks the platform's own secret-bearing names (``accessToken`` header,
        ``X-Nuonuo-Sign``) before the generic scrubber runs."""
        return super().scrub(_SECRET_HEADERS.sub(lambda m: m.group(1) + "***", transcript))

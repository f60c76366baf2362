"""The Baiwang provider: the canonical contract spoken in Baiwang's protocol.

What differs from a callback-style vendor is absorbed here, not in business code: issuance
is synchronous (the number is in the answer), status is by polling only (no callback is
declared, so the base class refuses ``verify_callback``), documents come back inline as
base64, a red invoice is issued against its confirmed 红字确认单, and the platform's own
limits (lines, query batch, order-id length, call rate) are declared as capabilities.

What is declared is enforced by ``ProviderBase`` before any method here runs (undeclared
operations, invoice kinds, special businesses, line count, order-id length); this class
keeps only Baiwang's own checks. Whether a call may be repeated comes from the operations
table, through ``BaiwangClient.call(..., operation=...)``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, ClassVar

from fapiao.sdk import (
    Capabilities,
    Delivery,
    DeliveryChannel,
    DeliveryResult,
    Document,
    DocumentFormat,
    DocumentInvalid,
    DuplicateOrder,
    HttpClientFactory,
    InvalidRequest,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    IssueResult,
    NotFound,
    Operation,
    ProviderBase,
    ProviderError,
    ProviderInfo,
    Quota,
    RedConfirmation,
    RedConfirmationState,
    RedReversalNotAllowed,
    RedReversalRequest,
    ensure_red_reversal,
    ensure_valid,
    red_lines,
    verified_document,
)
from fapiao_provider_b.client import BaiwangClient
from fapiao_provider_b.errors_map import to_canonical
from fapiao_provider_b.mapping import (
    blue_invoice_from_record,
    confirmation_from_form,
    issue_data,
    quota_from_credit,
    red_add_body,
    red_issue_data,
    status_from_record,
)
from fapiao_provider_b.protocol import FILE_TYPE, Method
from fapiao_provider_b.settings import BaiwangSettings
from fapiao_provider_b.signing import digest_password

__all__ = ["CAPABILITIES", "BaiwangProvider"]

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
        }
    ),
    invoice_kinds=frozenset(InvoiceKind),
    document_formats=frozenset(DocumentFormat),
    delivery_channels=frozenset({DeliveryChannel.EMAIL}),
    issuance="sync",
    status_updates="polling",
    red_partial=True,
    documents_inline=True,
    max_lines_per_invoice=200,
    max_query_batch=20,
    max_order_id_length=50,
    rate_limit_per_second=20.0,
    order_visibility_seconds=10.0,
)
"""Limits are the platform's (see README; several are inferred from its documentation style)."""

_FINAL_FORM_STATES = frozenset(
    {
        RedConfirmationState.REJECTED,
        RedConfirmationState.LAPSED,
        RedConfirmationState.REVOKED,
        RedConfirmationState.RED_ISSUED,
    }
)


class BaiwangProvider(ProviderBase[BaiwangSettings]):
    name: ClassVar[str] = "baiwang"
    info: ClassVar[ProviderInfo] = ProviderInfo(
        display_name="Baiwang Cloud",
        display_name_zh="百望云",
        homepage="https://www.baiwang.com",
        docs_url="https://open.baiwang.com",
        protocol_notes="Method-routed POST /router/rest, MD5 signature over the secret-wrapped "
        "sorted parameters and body, OAuth password/refresh-token grants; synchronous "
        "issuance, polling only, documents inline (base64).",
    )
    settings_model: ClassVar[type[BaiwangSettings]] = BaiwangSettings
    default_capabilities: ClassVar[Capabilities] = CAPABILITIES

    def __init__(self, settings: BaiwangSettings, *, http: HttpClientFactory | None = None) -> None:
        super().__init__(settings, http=http)
        # The password digest authenticates as well as the password: scrub it too.
        self.scrubber.add(
            [
                digest_password(
                    settings.password.get_secret_value(),
                    settings.user_salt.get_secret_value() if settings.user_salt else None,
                    settings.password_digest,
                )
            ]
        )
        self.client = BaiwangClient(
            self.http,
            settings,
            provider=self.name,
            on_secret=lambda secret: self.scrubber.add([secret]),
        )

    @staticmethod
    def _extra(invoice: Invoice) -> dict[str, Any] | None:
        extra = invoice.provider_extra.get("baiwang")
        return dict(extra) if isinstance(extra, dict) else None

    # --- issuance ---------------------------------------------------------------------

    async def issue(self, invoice: Invoice) -> IssueResult:
        totals = ensure_valid(invoice)
        body: dict[str, Any] = {"taxNo": invoice.seller.tax_id}
        if self.settings.invoice_terminal_code:
            body["invoiceTerminalCode"] = self.settings.invoice_terminal_code
        if self.settings.documents_on_issue:
            body["formatGenerate"] = True
            body["formatFileTypes"] = sorted(
                FILE_TYPE[fmt] for fmt in self.settings.documents_on_issue
            )
        body["data"] = issue_data(invoice, totals, extra=self._extra(invoice))
        answer = await self.client.call(Method.ISSUE, body, operation=Operation.ISSUE)
        return self._issue_result(answer, invoice.seller.tax_id or "")

    def _issue_result(self, answer: Any, seller_tax_id: str) -> IssueResult:
        answer = answer if isinstance(answer, dict) else {}
        for failed in answer.get("fail") or []:
            raise to_canonical(
                failed.get("errorCode"), failed.get("errorMessage"), provider=self.name
            )
        issued = answer.get("success") or []
        if not issued:
            raise ProviderError(
                "issue answer carries neither success nor fail",
                message_zh="开票应答既无成功也无失败记录",
                provider=self.name,
            )
        record = issued[0]
        result = status_from_record(record, provider=self.name, seller_tax_id=seller_tax_id)
        documents = tuple(
            self._document(fmt, result.invoice_number or "", item.get("content"))
            for item in record.get("formatFileList") or []
            for fmt in DocumentFormat
            if FILE_TYPE[fmt] == item.get("fileType")
        )
        if documents:
            result = result.model_copy(update={"documents": documents})
        return result

    async def query(self, seller_tax_id: str, order_ids: Sequence[str]) -> list[InvoiceStatus]:
        found: list[InvoiceStatus] = []
        for chunk in self.capabilities.query_batches(order_ids):
            answer = await self.client.call(
                Method.QUERY,
                {"taxNo": seller_tax_id, "data": {"serialNos": chunk}},
                operation=Operation.QUERY,
            )
            for record in (answer or {}).get("list") or []:
                found.append(
                    status_from_record(record, provider=self.name, seller_tax_id=seller_tax_id)
                )
        return found

    async def _blue_record(self, seller_tax_id: str, invoice_number: str) -> dict[str, Any]:
        answer = await self.client.call(
            Method.QUERY,
            {"taxNo": seller_tax_id, "data": {"invoiceNo": invoice_number}},
            operation=Operation.QUERY,
        )
        for record in (answer or {}).get("list") or []:
            if record.get("invoiceNo") == invoice_number and str(record.get("invoiceType")) == "0":
                return dict(record)
        raise NotFound(
            f"blue invoice {invoice_number} not found at Baiwang",
            message_zh=f"百望云未找到蓝字发票 {invoice_number}",
            provider=self.name,
            field="original_invoice_number",
        )

    # --- red reversal -----------------------------------------------------------------

    async def red_apply(self, request: RedReversalRequest) -> RedConfirmation:
        record = await self._blue_record(request.seller_tax_id, request.original_invoice_number)
        blue = blue_invoice_from_record(record, request.seller_tax_id)
        ensure_red_reversal(blue, request, provider=self.name)
        lines = red_lines(blue, request)
        body = {"taxNo": request.seller_tax_id}
        body.update(red_add_body(request, record, lines, record.get("invoiceDetailsList") or []))
        try:
            answer = await self.client.call(Method.RED_ADD, body, operation=Operation.RED_APPLY)
        except DuplicateOrder:
            # Sent before (an unknown outcome resolved by resending): read the form back.
            existing = await self._form_by_serial(request)
            if existing is None:
                raise
            return existing
        form = dict(answer[0] if isinstance(answer, list) and answer else answer or {})
        merged = {**body, **form}
        return confirmation_from_form(
            merged, provider=self.name, seller_tax_id=request.seller_tax_id
        )

    async def _form_by_serial(self, request: RedReversalRequest) -> RedConfirmation | None:
        answer = await self.client.call(
            Method.RED_LIST,
            {
                "taxNo": request.seller_tax_id,
                "sellerTaxNo": request.seller_tax_id,
                "buySelSelector": "0",
                "redConfirmSerialNo": request.order_id,
                "pageNo": 1,
                "pageSize": 50,
            },
            operation=Operation.RED_QUERY,
        )
        for form in (answer or {}).get("list") or []:
            if form.get("originalInvoiceNo") == request.original_invoice_number:
                return confirmation_from_form(
                    form, provider=self.name, seller_tax_id=request.seller_tax_id
                )
        return None

    async def red_confirm(
        self, seller_tax_id: str, confirmation_id: str, *, accept: bool = True
    ) -> RedConfirmation:
        answer = await self.client.call(
            Method.RED_OPERATE,
            {
                "taxNo": seller_tax_id,
                "sellerTaxNo": seller_tax_id,
                "redConfirmUuid": confirmation_id,
                "confirmType": "01" if accept else "02",
            },
            operation=Operation.RED_CONFIRM,
        )
        return confirmation_from_form(answer or {}, provider=self.name, seller_tax_id=seller_tax_id)

    async def red_query(self, seller_tax_id: str, confirmation_id: str) -> RedConfirmation:
        answer = await self.client.call(
            Method.RED_INFO,
            {
                "taxNo": seller_tax_id,
                "sellerTaxNo": seller_tax_id,
                "redConfirmUuid": confirmation_id,
            },
            operation=Operation.RED_QUERY,
        )
        return confirmation_from_form(answer or {}, provider=self.name, seller_tax_id=seller_tax_id)

    async def red_issue(self, confirmation: RedConfirmation) -> IssueResult:
        if confirmation.state in _FINAL_FORM_STATES:
            raise RedReversalNotAllowed(
                f"red form {confirmation.confirmation_id} is {confirmation.state.value}; "
                "no red invoice can be issued against it",
                message_zh=f"红字确认单状态为 {confirmation.state.value}，不能开具红字发票",
                provider=self.name,
            )
        answer = await self.client.call(
            Method.ISSUE,
            {"taxNo": confirmation.seller_tax_id, "data": red_issue_data(confirmation)},
            operation=Operation.RED_ISSUE,
        )
        return self._issue_result(answer, confirmation.seller_tax_id)

    # --- documents, delivery, quota ----------------------------------------------------

    def _document(self, fmt: DocumentFormat, invoice_number: str, content: Any) -> Document:
        try:
            data = base64.b64decode(str(content or ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DocumentInvalid(
                f"{fmt.value} of {invoice_number}: content is not valid base64",
                message_zh=f"{invoice_number} 的 {fmt.value} 文件内容不是合法的 base64",
                provider=self.name,
            ) from exc
        return verified_document(fmt, invoice_number, data)

    async def fetch_document(self, status: InvoiceStatus, fmt: DocumentFormat) -> Document:
        for document in status.documents:
            if document.format is fmt and document.content is not None:
                return document
        if not status.invoice_number:
            raise InvalidRequest(
                "documents exist only for an issued invoice (no invoice number yet)",
                message_zh="发票尚未开具（无发票号码），没有版式文件",
                provider=self.name,
                field="invoice_number",
            )
        answer = await self.client.call(
            Method.FORMAT_QUERY,
            {
                "taxNo": status.seller_tax_id,
                "data": {
                    "invoiceNo": status.invoice_number,
                    "fileType": FILE_TYPE[fmt],
                    "returnType": "1",
                },
            },
            operation=Operation.DOCUMENTS,
        )
        return self._document(fmt, status.invoice_number, (answer or {}).get("content"))

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        if "@" not in delivery.address.strip("@"):
            raise InvalidRequest(
                f"not an e-mail address: {delivery.address!r}",
                message_zh="邮箱地址格式有误",
                provider=self.name,
                field="address",
            )
        answer = await self.client.call(
            Method.DELIVER,
            {
                "taxNo": delivery.seller_tax_id,
                "data": {
                    "invoiceNo": delivery.invoice_number,
                    "pushType": "EMAIL",
                    "email": delivery.address,
                },
            },
            operation=Operation.DELIVER,
        )
        return DeliveryResult(
            accepted=True,
            channel=delivery.channel,
            invoice_number=delivery.invoice_number,
            provider_ref=(answer or {}).get("pushId"),
        )

    async def quota(self, seller_tax_id: str) -> Quota:
        answer = await self.client.call(
            Method.QUOTA, {"taxNo": seller_tax_id, "data": {}}, operation=Operation.QUOTA
        )
        return quota_from_credit(answer or {}, seller_tax_id)

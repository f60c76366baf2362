"""The Nuonuo open-platform wire vocabulary, shared by the plugin and its sandbox.

One place for paths, method names, code tables and the spelling of values (amounts, rates,
times), so the client and the server can never disagree on one. Codes the public material
does not show are inferred in the platform's style (see the README).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from fapiao.sdk import (
    CENT,
    RED_FORM_STATUS_CODES,
    InvoiceKind,
    InvoiceState,
    RedConfirmationState,
    RedReason,
    TaxTreatment,
)

__all__ = [
    "BUYER",
    "CALLBACK_PATH",
    "CHINA",
    "CONFIRMATION_WINDOW",
    "FORM_STATE",
    "INVOICE_LINE",
    "ISSUED",
    "KIND_OF_LINE",
    "NEEDS_CONFIRMATION",
    "REASON_OF",
    "RED_REASON",
    "SELLER",
    "SERVICES_PATH",
    "STATE_OF_STATUS",
    "TOKEN_PATH",
    "TREATMENT_FLAGS",
    "Method",
    "from_millis",
    "millis",
    "money",
    "number_text",
    "rate_text",
    "treatment_of",
    "zero_rate_flag",
]

SERVICES_PATH: Final = "/open/v1/services"
"""Every business call is a signed POST here; the ``method`` header selects the operation."""
CALLBACK_PATH: Final = "/open/v1/callback"
"""Sign-string path of callbacks (a=callback&l=v1&p=open), inferred in the platform's style."""
TOKEN_PATH: Final = "/accessToken"
"""The token endpoint's path (a plain form POST, not a signed service call)."""


class Method:
    """``method`` header values (the gateway dispatches on them)."""

    ISSUE = "nuonuo.OpeMplatform.requestBillingNew"
    QUERY = "nuonuo.OpeMplatform.queryInvoiceResult"
    QUERY_LEGACY = "nuonuo.ElectronInvoice.queryInvoiceResult"  # same query, older namespace
    RED_SAVE = "nuonuo.OpeMplatform.saveInvoiceRedConfirm"  # 红字确认单 申请
    RED_QUERY = "nuonuo.OpeMplatform.queryInvoiceRedConfirm"
    RED_CONFIRM = "nuonuo.OpeMplatform.confirm"  # 确认 / 拒绝
    RED_FAST = "nuonuo.OpeMplatform.fastInvoiceRed"  # the red invoice of a confirmed form
    DELIVER = "nuonuo.ElectronInvoice.deliveryInvoice"
    CREDIT_LINE = "nuonuo.OpeMplatform.getCreditLine"  # 授信额度
    CANCEL = "nuonuo.electronInvoice.invoiceCancellation"  # refused for 数电 (E9601)


SELLER, BUYER = "0", "1"
"""``identity`` / ``applySource`` of a red form: who acts."""

CHINA: Final = ZoneInfo("Asia/Shanghai")

INVOICE_LINE: Final[dict[InvoiceKind, str]] = {InvoiceKind.SPECIAL: "bs", InvoiceKind.NORMAL: "pc"}
"""invoiceLine: bs 电子发票(增值税专用发票), pc 电子发票(普通发票)."""
KIND_OF_LINE: Final = {v: k for k, v in INVOICE_LINE.items()}

RED_REASON: Final[dict[RedReason, str]] = {
    RedReason.SALES_RETURN: "1",
    RedReason.INVOICING_ERROR: "2",
    RedReason.SERVICE_SUSPENSION: "3",
    RedReason.SALES_ALLOWANCE: "4",
}
REASON_OF: Final = {v: k for k, v in RED_REASON.items()}

TREATMENT_FLAGS: Final[dict[TaxTreatment, tuple[str, str]]] = {
    TaxTreatment.TAXABLE: ("", "0"),
    TaxTreatment.EXEMPT: ("1", "03"),
    TaxTreatment.NOT_TAXABLE: ("2", "04"),
    TaxTreatment.ZERO_RATE: ("3", "0"),
}
"""``zeroRateFlag`` and ``favouredPolicyFlag`` of a line, per tax treatment."""
_TREATMENT_OF_FLAG = {zero: t for t, (zero, _) in TREATMENT_FLAGS.items() if zero}

ISSUED: Final = "2"
"""queryInvoiceResult ``status`` of a finished invoice (开票完成)."""
STATE_OF_STATUS: Final[dict[str, InvoiceState]] = {
    ISSUED: InvoiceState.ISSUED,
    "20": InvoiceState.ISSUING,  # 开票中
    "21": InvoiceState.ISSUING,  # 开票成功签章中
    "22": InvoiceState.FAILED,  # 开票失败
    "24": InvoiceState.FAILED,  # 签章失败
    "3": InvoiceState.CANCELLED,  # 已作废
    "31": InvoiceState.CANCELLED,  # 作废中
}

FORM_STATE: Final[Mapping[str, RedConfirmationState]] = {
    **RED_FORM_STATUS_CODES,  # the tax bureau's 01–10
    "15": RedConfirmationState.PENDING,  # 申请中
    "16": RedConfirmationState.REJECTED,  # 申请失败
}
"""``billStatus`` of a 红字确认单: the tax bureau's codes, plus Nuonuo's 15/16."""
NEEDS_CONFIRMATION: Final = frozenset({"02", "03", "04"})
CONFIRMATION_WINDOW: Final = timedelta(hours=72)


def money(value: Decimal) -> str:
    """Amounts travel as strings with two decimals (the platform types them ``String``)."""
    return format(value.quantize(CENT), "f")


def rate_text(rate: Decimal) -> str:
    """0.13 → "0.13", 0 → "0": the platform's spelling of a rate."""
    text = format(rate.normalize(), "f")
    return text if text != "-0" else "0"


def number_text(value: Decimal) -> str:
    """Plain notation, at most 8 decimals, no trailing zeros (quantities, unit prices)."""
    return format(value.quantize(Decimal("0.00000001")).normalize(), "f")


def millis(moment: datetime | None) -> int | None:
    """The platform's timestamps are epoch milliseconds (``invoiceTime``, ``c_kprq``…)."""
    return None if moment is None else int(moment.timestamp() * 1000)


def from_millis(value: Any) -> datetime | None:
    """The moment an epoch-milliseconds field stands for (None when absent)."""
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def zero_rate_flag(treatment: TaxTreatment) -> str:
    """``zeroRateFlag`` of a line: "" when taxed, else 1 免税, 2 不征税, 3 零税率."""
    return TREATMENT_FLAGS[treatment][0]


def treatment_of(zero_flag: Any) -> TaxTreatment:
    """The tax treatment a line's ``zeroRateFlag`` stands for (taxed when absent)."""
    return _TREATMENT_OF_FLAG.get(str(zero_flag or ""), TaxTreatment.TAXABLE)

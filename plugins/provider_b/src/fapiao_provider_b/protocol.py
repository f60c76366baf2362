"""The Baiwang open-platform wire vocabulary, shared by the plugin and its sandbox.

One place for method names, API versions, public parameters and code tables, so the client
and the server can never disagree on a spelling. Names marked *inferred* are not in the public
material we could read; they follow the platform's naming style (see the README).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

import msgspec

from fapiao.sdk import (
    RED_FORM_STATUS_CODES,
    DocumentFormat,
    InvoiceKind,
    RedApplicant,
    RedConfirmationState,
    RedReason,
)

__all__ = [
    "API_PATH",
    "CHINA_TZ",
    "CONFIRM_STATE",
    "DATE_FORMAT",
    "ENTRY_IDENTITY",
    "FILE_TYPE",
    "INVOICE_TYPE_CODE",
    "METHOD_VERSION",
    "RED_LABEL",
    "SPEC_DATE_FORMAT",
    "Method",
    "dumps",
    "format_date",
    "loads",
    "parse_date",
]

API_PATH: Final = "/router/rest"
"""Every call, token included, is a POST to this one route; ``method`` selects the operation."""


class Method:
    """``method`` values (the router dispatches on them)."""

    TOKEN = "baiwang.oauth.token"
    ISSUE = "baiwang.output.invoice.issue"  # blue and red (invoiceType 0/1)
    QUERY = "baiwang.output.invoice.query"
    FORMAT_QUERY = "baiwang.output.format.query"  # 版式文件 (PDF/OFD/XML), base64 inline
    RED_ADD = "baiwang.output.redinvoice.add"  # 红字确认单录入
    RED_OPERATE = "baiwang.output.redinvoice.operate"  # 确认 / 否认 / 撤销
    RED_INFO = "baiwang.output.redinvoice.redforminfo"  # 红字确认单详情
    RED_LIST = "baiwang.output.redinvoice.formlist"  # 红字确认单列表 (filters, ≤ 50 a page)
    DELIVER = "baiwang.output.invoice.deliver"  # inferred: e-mail push of an issued invoice
    QUOTA = "baiwang.output.invoice.creditquery"  # inferred: 授信额度 query


METHOD_VERSION: Final[dict[str, str]] = {
    Method.TOKEN: "7.0",
    Method.ISSUE: "6.0",
    Method.QUERY: "6.0",
    Method.FORMAT_QUERY: "6.0",
    Method.RED_ADD: "7.0",
    Method.RED_OPERATE: "7.0",
    Method.RED_INFO: "6.0",
    Method.RED_LIST: "7.0",
    Method.DELIVER: "6.0",
    Method.QUOTA: "6.0",
}
"""v7.0 methods carry ``signType``/``encryptType``/``encryptScope`` and a flat body; v6.0
business methods wrap their content in ``data`` (except ``redforminfo``, flat)."""

INVOICE_TYPE_CODE: Final[dict[InvoiceKind, str]] = {
    InvoiceKind.SPECIAL: "01",  # 数电票（增值税专用发票）
    InvoiceKind.NORMAL: "02",  # 数电票（普通发票）
}

RED_LABEL: Final[dict[RedReason, str]] = {
    RedReason.INVOICING_ERROR: "01",  # 开票有误
    RedReason.SALES_RETURN: "02",  # 销货退回
    RedReason.SERVICE_SUSPENSION: "03",  # 服务中止
    RedReason.SALES_ALLOWANCE: "04",  # 销售折让
}

ENTRY_IDENTITY: Final[dict[RedApplicant, str]] = {
    RedApplicant.SELLER: "01",
    RedApplicant.BUYER: "02",
}

CONFIRM_STATE: Final[Mapping[str, RedConfirmationState]] = RED_FORM_STATUS_CODES
"""The tax bureau's 红字确认单状态 codes as Baiwang reports them in ``confirmState``."""

FILE_TYPE: Final[dict[DocumentFormat, str]] = {
    DocumentFormat.PDF: "PDF",
    DocumentFormat.OFD: "OFD",
    DocumentFormat.XML: "XML",
}

CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")
DATE_FORMAT: Final = "%Y%m%d%H%M%S"  # invoiceDate in responses
SPEC_DATE_FORMAT: Final = "%Y-%m-%d %H:%M:%S"  # originInvoiceDate in red forms

_encoder = msgspec.json.Encoder(decimal_format="number")
_decoder = msgspec.json.Decoder(float_hook=Decimal)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON with ``Decimal`` written as exact JSON numbers.

    The signature covers the body bytes exactly, and the platform parses amounts as numbers:
    a float on the way would round them, and spaces would break the signature.
    """
    return _encoder.encode(value)


def loads(data: bytes | str) -> Any:
    """Parse JSON keeping every non-integer number as an exact ``Decimal``."""
    return _decoder.decode(data)


def format_date(moment: datetime, fmt: str = DATE_FORMAT) -> str:
    return moment.astimezone(CHINA_TZ).strftime(fmt)


def parse_date(text: str | None) -> datetime | None:
    """``yyyyMMddHHmmss`` or ``yyyy-MM-dd HH:mm:ss``, China time; None when neither.

    Sliced by hand: ``strptime`` costs more than the rest of reading an issue answer."""
    if not text:
        return None
    digits = text.replace("-", "").replace(":", "").replace(" ", "")
    if len(digits) != 14 or not digits.isdigit():
        return None
    try:
        return datetime(
            int(digits[:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            int(digits[12:14]),
            tzinfo=CHINA_TZ,
        )
    except ValueError:
        return None

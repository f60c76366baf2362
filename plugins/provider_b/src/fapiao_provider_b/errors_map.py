"""Baiwang error codes and what they mean canonically.

The platform answers ``success: false`` with ``errorResponse {code, message, subCode,
subMessage}``. ``code`` is a platform code (token, signature, rate…); for business failures it
is ``100006`` (远程服务错误) and the business reason is in ``subCode``. Per-invoice failures of
an issue call come back in the ``fail`` list with ``errorCode``/``errorMessage``. Both kinds are
looked up in one table (rows are ``fapiao.sdk.VendorCode``); the sandbox answers from the
same table, so the two cannot drift.
Unknown codes become ``PROVIDER_ERROR`` with the raw code and message kept, never a crash.
"""

from __future__ import annotations

from typing import Final

from fapiao.sdk import FapiaoError, VendorCode, error_for_code

__all__ = ["ERRORS", "TOKEN_REJECTED", "BaiwangError", "to_canonical"]


class BaiwangError:
    """Raw codes, as constants, so the sandbox and tests name them instead of repeating digits."""

    TOKEN_INVALID = "100001"
    TOKEN_EXPIRED = "100002"
    MISSING_PARAM = "100003"
    APP_KEY_INVALID = "100004"
    TIMESTAMP_INVALID = "100005"
    REMOTE_ERROR = "100006"
    SIGN_INVALID = "100007"
    RATE_LIMITED = "100008"
    METHOD_UNKNOWN = "100009"
    LOGIN_FAILED = "100010"
    REFRESH_TOKEN_INVALID = "100011"
    TOKEN_QUOTA = "100012"
    SERVICE_BUSY = "100013"
    REQUIRED_EMPTY = "70169"
    INVOICE_TYPE_INVALID = "20019"
    RED_FORM_STATE = "70035"
    BUYER_TAX_NO = "70101"
    SELLER_NOT_AUTHORISED = "70102"
    SERIAL_DUPLICATE = "70110"
    CREDIT_EXHAUSTED = "70120"
    TOO_MANY_LINES = "70130"
    AMOUNT_CHECK = "70140"
    ZERO_AMOUNT = "70141"
    INVOICE_NOT_FOUND = "70150"
    RED_OVER_LIMIT = "70160"
    RED_FORM_NOT_FOUND = "70161"
    ALREADY_REVERSED = "70162"
    RED_FULL_ONLY = "70163"
    QUERY_TOO_MANY = "70170"
    FORMAT_UNSUPPORTED = "70180"
    DELIVERY_REFUSED = "70190"
    SYSTEM_ERROR = "9999"


_E = BaiwangError
_TABLE: Final[tuple[VendorCode, ...]] = (
    VendorCode(_E.TOKEN_INVALID, "令牌无效", "AUTH_FAILED", "token invalid", True),
    VendorCode(_E.TOKEN_EXPIRED, "令牌已过期", "AUTH_FAILED", "token expired", True),
    VendorCode(
        _E.MISSING_PARAM, "缺少必要的公共参数", "INVALID_REQUEST", "missing public parameter"
    ),
    VendorCode(_E.APP_KEY_INVALID, "appKey 无效", "AUTH_FAILED", "unknown appKey"),
    VendorCode(
        _E.TIMESTAMP_INVALID, "时间戳超出允许范围", "AUTH_FAILED", "timestamp outside the window"
    ),
    VendorCode(_E.REMOTE_ERROR, "远程服务错误", "PROVIDER_ERROR", "remote service error", True),
    VendorCode(_E.SIGN_INVALID, "签名错误", "AUTH_FAILED", "signature mismatch", True),
    VendorCode(_E.RATE_LIMITED, "调用频率超过限制", "RATE_LIMITED", "call rate limit exceeded"),
    VendorCode(_E.METHOD_UNKNOWN, "方法不存在", "UNSUPPORTED", "no such method"),
    VendorCode(_E.LOGIN_FAILED, "用户名或密码错误", "AUTH_FAILED", "wrong username or password"),
    VendorCode(
        _E.REFRESH_TOKEN_INVALID, "刷新令牌无效", "AUTH_FAILED", "refresh token invalid or expired"
    ),
    VendorCode(_E.TOKEN_QUOTA, "获取令牌过于频繁", "RATE_LIMITED", "too many token requests"),
    VendorCode(_E.SERVICE_BUSY, "服务繁忙，请稍后重试", "PROVIDER_UNAVAILABLE", "service busy"),
    VendorCode(_E.REQUIRED_EMPTY, "必填参数为空", "INVALID_REQUEST", "required field empty", True),
    VendorCode(
        _E.INVOICE_TYPE_INVALID,
        "发票种类代码有误",
        "INVALID_REQUEST",
        "invalid invoiceTypeCode",
        True,
    ),
    VendorCode(
        _E.RED_FORM_STATE,
        "红字确认单当前状态不允许该操作",
        "RED_NOT_ALLOWED",
        "the red form's state does not allow this operation",
        True,
    ),
    VendorCode(
        _E.BUYER_TAX_NO,
        "购买方纳税人识别号有误或未在税务系统登记",
        "INVALID_TAX_ID",
        "buyer taxpayer ID unknown to the tax system",
        field="buyer.tax_id",
    ),
    VendorCode(
        _E.SELLER_NOT_AUTHORISED,
        "销售方税号未授权给当前应用",
        "AUTH_FAILED",
        "seller tax number not authorised for this app",
    ),
    VendorCode(
        _E.SERIAL_DUPLICATE,
        "开票流水号重复",
        "DUPLICATE_ORDER",
        "duplicate serialNo",
        field="order_id",
    ),
    VendorCode(_E.CREDIT_EXHAUSTED, "授信额度不足", "QUOTA_EXCEEDED", "credit line exhausted"),
    VendorCode(
        _E.TOO_MANY_LINES,
        "发票明细行数超过上限",
        "INVALID_REQUEST",
        "too many invoice lines",
        field="lines",
    ),
    VendorCode(
        _E.AMOUNT_CHECK, "金额税额校验不通过", "INVALID_INVOICE", "amount or tax check failed"
    ),
    VendorCode(_E.ZERO_AMOUNT, "开票金额不能为零", "INVALID_INVOICE", "zero invoice amount"),
    VendorCode(_E.INVOICE_NOT_FOUND, "发票不存在", "NOT_FOUND", "invoice not found"),
    VendorCode(
        _E.RED_OVER_LIMIT, "红冲金额超过可冲销金额", "RED_NOT_ALLOWED", "red amount over remaining"
    ),
    VendorCode(_E.RED_FORM_NOT_FOUND, "红字确认单不存在", "NOT_FOUND", "red form not found"),
    VendorCode(
        _E.ALREADY_REVERSED, "蓝字发票已全额红冲", "RED_NOT_ALLOWED", "invoice already reversed"
    ),
    VendorCode(
        _E.RED_FULL_ONLY,
        "开票有误须全额红冲",
        "RED_NOT_ALLOWED",
        "开票有误 allows full reversal only",
    ),
    VendorCode(_E.QUERY_TOO_MANY, "查询数量超过上限", "INVALID_REQUEST", "too many in one query"),
    VendorCode(_E.FORMAT_UNSUPPORTED, "不支持的版式类型", "UNSUPPORTED", "unsupported file type"),
    VendorCode(_E.DELIVERY_REFUSED, "交付地址无效", "INVALID_REQUEST", "invalid delivery address"),
)

ERRORS: Final[dict[str, VendorCode]] = {entry.code: entry for entry in _TABLE}

TOKEN_REJECTED: Final = frozenset({_E.TOKEN_INVALID, _E.TOKEN_EXPIRED})
"""Gateway refusals of the token itself: the call never ran, so renew once and resend."""


def to_canonical(
    code: str | int | None,
    message: str | None,
    *,
    sub_code: str | int | None = None,
    sub_message: str | None = None,
    provider: str = "baiwang",
) -> FapiaoError:
    """The canonical exception for a Baiwang error answer, keeping what the platform said."""
    raw_code = str(code) if code is not None else None
    raw_message = message
    if sub_code not in (None, "") and (raw_code in (None, _E.REMOTE_ERROR)):
        raw_code, raw_message = str(sub_code), sub_message or message
    entry = ERRORS.get(raw_code or "")
    if entry is None:
        return error_for_code(
            "PROVIDER_ERROR",
            raw_code=raw_code,
            raw_message=raw_message,
            provider=provider,
            message_en=f"Baiwang error {raw_code}: {raw_message or ''}".strip(),
            message_zh=f"百望云返回错误 {raw_code}：{raw_message or ''}".strip(),
        )
    return entry.error(
        raw_message or entry.message,
        provider=provider,
        message_en=f"{entry.message_en} (Baiwang {raw_code})",
        message_zh=f"{raw_message or entry.message}（百望云 {raw_code}）",
    )

"""The platform's answer codes, what each means canonically, and the exception for it.

Every answer of ``/open/v1/services`` is ``{"code", "describe", "result"}``; ``E0000`` is
success. Gateway codes (``07xxxx``) come before the business runs (a refused signature or
token means nothing was done); business codes (``E9xxx``) come from the invoicing service.
``documented`` says where a code comes from: documented codes appear in public clients and
documents of the platform; the others are inferred in the platform's style (the README
lists both). The sandbox answers with this same table (rows are ``fapiao.sdk.VendorCode``),
so plugin and sandbox can't drift.
"""

from __future__ import annotations

from fapiao.sdk import FapiaoError, ProviderError, VendorCode

__all__ = ["CODES", "SUCCESS", "TOKEN_REJECTED", "error_from_answer"]

PROVIDER = "nuonuo"
SUCCESS = "E0000"

_TABLE = (
    # -- gateway ----------------------------------------------------------------------------
    VendorCode(
        "070101", "获取app密钥失败或appkey无效", "AUTH_FAILED", "unknown or invalid appKey", True
    ),
    VendorCode("070301", "accessToken无效", "AUTH_FAILED", "invalid accessToken"),
    VendorCode("070302", "accessToken已过期", "AUTH_FAILED", "expired accessToken"),
    VendorCode(
        "070304",
        "client_id或client_secret错误",
        "AUTH_FAILED",
        "wrong client_id or client_secret",
        True,
    ),
    VendorCode(
        "070305", "授权码无效或已使用", "AUTH_FAILED", "invalid or used authorisation code", True
    ),
    VendorCode(
        "070306", "获取token次数超过限制", "RATE_LIMITED", "token call quota exhausted", True
    ),
    VendorCode(
        "070307", "应用类型不匹配", "AUTH_FAILED", "wrong application type for this grant", True
    ),
    VendorCode("070601", "签名不匹配", "AUTH_FAILED", "signature (X-Nuonuo-Sign) mismatch", True),
    VendorCode("070602", "请求时间戳已过期", "AUTH_FAILED", "stale request timestamp"),
    VendorCode("070603", "senid重复或格式错误", "INVALID_REQUEST", "senid reused or malformed"),
    VendorCode(
        "070604",
        "公共参数缺失或格式错误",
        "INVALID_REQUEST",
        "missing or malformed common parameter",
    ),
    VendorCode("070605", "method不存在", "INVALID_REQUEST", "unknown API method"),
    VendorCode("070701", "调用频率超过限制", "RATE_LIMITED", "call rate limit exceeded"),
    VendorCode(
        "070801", "userTax未授权该应用", "AUTH_FAILED", "userTax has not authorised this app"
    ),
    # -- invoicing --------------------------------------------------------------------------
    VendorCode(
        "E9101",
        "销方税号不合法",
        "INVALID_TAX_ID",
        "seller tax ID is invalid",
        field="seller.tax_id",
    ),
    VendorCode(
        "E9102", "购方税号不合法", "INVALID_TAX_ID", "buyer tax ID is invalid", field="buyer.tax_id"
    ),
    VendorCode(
        "E9103",
        "开票金额必须大于0",
        "INVALID_INVOICE",
        "the invoice total must be above zero",
        field="lines",
    ),
    VendorCode(
        "E9104",
        "明细金额或税额计算有误",
        "INVALID_INVOICE",
        "line amount or tax is inconsistent",
        field="lines",
    ),
    VendorCode(
        "E9105",
        "折扣行的商品名称必须和被折扣行相同",
        "INVALID_INVOICE",
        "a discount line must match the line it discounts",
        True,
        field="lines",
    ),
    VendorCode(
        "E9106",
        "订单编号或流水号不能重复",
        "DUPLICATE_ORDER",
        "order number already used",
        True,
        field="order_id",
    ),
    VendorCode(
        "E9107",
        "商品编码不存在",
        "INVALID_INVOICE",
        "unknown tax classification code",
        field="lines",
    ),
    VendorCode("E9108", "税率不合法", "INVALID_INVOICE", "tax rate not allowed", field="lines"),
    VendorCode(
        "E9109", "必填参数缺失或格式错误", "INVALID_REQUEST", "required field missing or malformed"
    ),
    VendorCode(
        "E9110",
        "专用发票购方须为企业且税号必填",
        "INVALID_INVOICE",
        "a 专票 buyer must be an entity with a tax ID",
        field="buyer",
    ),
    VendorCode(
        "E9111",
        "销方税号与授权税号不一致",
        "INVALID_REQUEST",
        "seller tax ID differs from userTax",
        field="seller.tax_id",
    ),
    VendorCode(
        "E9201", "授信额度不足", "QUOTA_EXCEEDED", "invoicing credit line (授信额度) exhausted"
    ),
    VendorCode("E9500", "未查询到发票信息", "NOT_FOUND", "no invoice found", True),
    VendorCode(
        "E9601",
        "数电发票不允许作废，请红冲",
        "UNSUPPORTED",
        "数电 invoices cannot be voided; reverse them",
    ),
    VendorCode(
        "E9613",
        "同一流水号(订单号)单日最多重试20次",
        "PROVIDER_ERROR",
        "daily retry limit for this order",
        True,
    ),
    VendorCode(
        "E9701",
        "红冲金额超过蓝票剩余可冲金额",
        "RED_NOT_ALLOWED",
        "red amount exceeds what remains of the blue invoice",
    ),
    VendorCode(
        "E9702",
        "蓝字发票不存在或状态不允许红冲",
        "RED_NOT_ALLOWED",
        "blue invoice unknown or not reversible",
    ),
    VendorCode("E9703", "红字确认单不存在", "NOT_FOUND", "red confirmation form not found"),
    VendorCode(
        "E9704",
        "红字确认单当前状态不允许该操作",
        "INVALID_TRANSITION",
        "the red confirmation form's state forbids this",
    ),
    VendorCode(
        "E9705", "开票有误只能全额冲红", "RED_NOT_ALLOWED", "开票有误 allows full reversal only"
    ),
    VendorCode(
        "E9706", "红字确认单申请号重复", "DUPLICATE_ORDER", "red confirmation billId already used"
    ),
    VendorCode(
        "E9801", "交付手机号或邮箱格式错误", "INVALID_REQUEST", "delivery phone or e-mail malformed"
    ),
    VendorCode("E9999", "系统繁忙，请稍后再试", "PROVIDER_UNAVAILABLE", "platform busy"),
)

CODES: dict[str, VendorCode] = {entry.code: entry for entry in _TABLE}

TOKEN_REJECTED = frozenset({"070301", "070302"})
"""Gateway refusals of the token itself: the call never ran, so refresh once and resend."""


def error_from_answer(code: str, describe: str | None) -> FapiaoError:
    """The canonical exception for a platform answer code, keeping what the platform said."""
    entry = CODES.get(code)
    if entry is None:
        return ProviderError(
            f"Nuonuo answered {code}: {describe or 'no description'}",
            message_zh=f"诺诺返回 {code}：{describe or '无说明'}",
            raw_code=code,
            raw_message=describe,
            provider=PROVIDER,
        )
    return entry.error(describe, provider=PROVIDER)

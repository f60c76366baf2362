"""Stable issue codes and the one helper that builds a bilingual ``ValidationIssue``.

Codes are part of the public contract (stored in the ledger, switched on by callers, mapped
from provider errors), so each lives here once and means the same thing everywhere.
"""

from __future__ import annotations

from fapiao.errors import ValidationIssue

__all__ = [
    "AMOUNT_MISMATCH",
    "AMOUNT_TOO_LARGE",
    "BUYER_TAX_ID_RECOMMENDED",
    "DISCOUNT_MISMATCH",
    "DISCOUNT_NOT_NEGATIVE",
    "DISCOUNT_TOO_LARGE",
    "DISCOUNT_WITHOUT_PARENT",
    "FLOAT_NOT_ALLOWED",
    "HOOK_FAILED",
    "INVALID_FIELD",
    "INVALID_QUANTITY",
    "INVALID_TAX_CODE",
    "INVALID_TAX_ID",
    "LEGACY_TAX_ID",
    "MALFORMED_JSON",
    "MISSING_FIELD",
    "MISSING_TAX_ID",
    "NEGATIVE_AMOUNT",
    "RATE_NOT_ALLOWED",
    "RED_ALREADY_REVERSED",
    "RED_AMOUNT_NOT_POSITIVE",
    "RED_BUYER_MISMATCH",
    "RED_DISCOUNT_LINE",
    "RED_EXCEEDS_LINE_REMAINING",
    "RED_EXCEEDS_REMAINING",
    "RED_FULL_ONLY",
    "RED_LINE_OUT_OF_RANGE",
    "RED_ORDER_MISMATCH",
    "RED_QUANTITY_EXCEEDS",
    "RED_SELLER_MISMATCH",
    "SPECIAL_NEEDS_ENTITY_BUYER",
    "TAX_CODE_IS_SUMMARY",
    "TAX_OUT_OF_TOLERANCE",
    "TOO_MANY_DECIMALS",
    "TOTAL_TAX_OUT_OF_TOLERANCE",
    "TREATMENT_MISMATCH",
    "UNKNOWN_FIELD",
    "UNKNOWN_TAX_CODE",
    "ZERO_AMOUNT",
    "issue",
    "join_path",
]

# Parties
INVALID_TAX_ID = "INVALID_TAX_ID"  # same code as fapiao.errors.InvalidTaxId
LEGACY_TAX_ID = "LEGACY_TAX_ID"  # warning: 15/17/20-character pre-USCC ID
MISSING_TAX_ID = "MISSING_TAX_ID"
BUYER_TAX_ID_RECOMMENDED = "BUYER_TAX_ID_RECOMMENDED"  # warning: entity buyer of a 普票
SPECIAL_NEEDS_ENTITY_BUYER = "SPECIAL_NEEDS_ENTITY_BUYER"

# Lines: code, rate, treatment
INVALID_TAX_CODE = "INVALID_TAX_CODE"  # not 19 digits
UNKNOWN_TAX_CODE = "UNKNOWN_TAX_CODE"  # 19 digits, not in the national table
TAX_CODE_IS_SUMMARY = "TAX_CODE_IS_SUMMARY"  # a 汇总项 (category), not an invoiceable leaf
RATE_NOT_ALLOWED = "RATE_NOT_ALLOWED"
TREATMENT_MISMATCH = "TREATMENT_MISMATCH"  # rate/tax contradict the line's treatment

# Lines: arithmetic
ZERO_AMOUNT = "ZERO_AMOUNT"
NEGATIVE_AMOUNT = "NEGATIVE_AMOUNT"
INVALID_QUANTITY = "INVALID_QUANTITY"
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
AMOUNT_TOO_LARGE = "AMOUNT_TOO_LARGE"  # beyond what an invoice field (and 大写) can hold
TOO_MANY_DECIMALS = "TOO_MANY_DECIMALS"
TAX_OUT_OF_TOLERANCE = "TAX_OUT_OF_TOLERANCE"
TOTAL_TAX_OUT_OF_TOLERANCE = "TOTAL_TAX_OUT_OF_TOLERANCE"

# Discount lines (折扣行)
DISCOUNT_WITHOUT_PARENT = "DISCOUNT_WITHOUT_PARENT"
DISCOUNT_TOO_LARGE = "DISCOUNT_TOO_LARGE"
DISCOUNT_MISMATCH = "DISCOUNT_MISMATCH"
DISCOUNT_NOT_NEGATIVE = "DISCOUNT_NOT_NEGATIVE"

# Red reversal (红冲)
RED_FULL_ONLY = "RED_FULL_ONLY"  # 开票有误 reverses the whole invoice only
RED_ALREADY_REVERSED = "RED_ALREADY_REVERSED"  # full reversal after a partial one
RED_LINE_OUT_OF_RANGE = "RED_LINE_OUT_OF_RANGE"
RED_DISCOUNT_LINE = "RED_DISCOUNT_LINE"  # a 折扣行 is reversed with the line it discounts
RED_AMOUNT_NOT_POSITIVE = "RED_AMOUNT_NOT_POSITIVE"
RED_EXCEEDS_LINE_REMAINING = "RED_EXCEEDS_LINE_REMAINING"
RED_EXCEEDS_REMAINING = "RED_EXCEEDS_REMAINING"
RED_QUANTITY_EXCEEDS = "RED_QUANTITY_EXCEEDS"
RED_SELLER_MISMATCH = "RED_SELLER_MISMATCH"
RED_BUYER_MISMATCH = "RED_BUYER_MISMATCH"
RED_ORDER_MISMATCH = "RED_ORDER_MISMATCH"

# Parsing
MALFORMED_JSON = "MALFORMED_JSON"
MISSING_FIELD = "MISSING_FIELD"
UNKNOWN_FIELD = "UNKNOWN_FIELD"
FLOAT_NOT_ALLOWED = "FLOAT_NOT_ALLOWED"
INVALID_FIELD = "INVALID_FIELD"

# Extension hooks
HOOK_FAILED = "HOOK_FAILED"  # a fapiao_validate_invoice implementation raised


def join_path(prefix: str, path: str) -> str:
    """``("line 3", "lines[0].amount")`` → ``"line 3: lines[0].amount"``."""
    prefix = prefix.rstrip().rstrip(":").rstrip()
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}: {path}"


def issue(
    code: str,
    path: str,
    zh: str,
    en: str,
    *,
    expected: str | None = None,
    warning: bool = False,
) -> ValidationIssue:
    return ValidationIssue(
        code=code, path=path, message_zh=zh, message_en=en, expected=expected, warning=warning
    )

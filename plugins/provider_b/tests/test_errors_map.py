"""The error map: every Baiwang code lands on a canonical error, unknown codes never crash."""

from __future__ import annotations

import pytest

from fapiao.errors import (
    AuthFailed,
    DuplicateOrder,
    FapiaoError,
    InvalidInvoice,
    InvalidTaxId,
    NotFound,
    ProviderError,
    ProviderUnavailable,
    QuotaExceeded,
    RateLimited,
    RedReversalNotAllowed,
    error_class_for,
)
from fapiao_provider_b.errors_map import ERRORS, BaiwangError, to_canonical


def test_every_mapped_code_names_a_real_canonical_error() -> None:
    for entry in ERRORS.values():
        klass = error_class_for(entry.canonical)
        assert klass.code == entry.canonical, entry
        assert entry.message and entry.message_en


def test_raw_code_constants_are_all_in_the_table_and_unique() -> None:
    codes = [v for k, v in vars(BaiwangError).items() if k.isupper()]
    assert len(codes) == len(set(codes))
    missing = [c for c in codes if c not in ERRORS and c != BaiwangError.SYSTEM_ERROR]
    assert not missing


@pytest.mark.parametrize(
    ("code", "sub_code", "expected"),
    [
        (BaiwangError.TOKEN_EXPIRED, None, AuthFailed),
        (BaiwangError.SIGN_INVALID, None, AuthFailed),
        (BaiwangError.RATE_LIMITED, None, RateLimited),
        (BaiwangError.SERVICE_BUSY, None, ProviderUnavailable),
        (BaiwangError.REMOTE_ERROR, BaiwangError.SERIAL_DUPLICATE, DuplicateOrder),
        (BaiwangError.REMOTE_ERROR, BaiwangError.CREDIT_EXHAUSTED, QuotaExceeded),
        (BaiwangError.REMOTE_ERROR, BaiwangError.BUYER_TAX_NO, InvalidTaxId),
        (BaiwangError.REMOTE_ERROR, BaiwangError.ZERO_AMOUNT, InvalidInvoice),
        (BaiwangError.REMOTE_ERROR, BaiwangError.INVOICE_NOT_FOUND, NotFound),
        (BaiwangError.REMOTE_ERROR, BaiwangError.RED_FORM_STATE, RedReversalNotAllowed),
        (BaiwangError.REMOTE_ERROR, BaiwangError.RED_OVER_LIMIT, RedReversalNotAllowed),
        (int(BaiwangError.REMOTE_ERROR), int(BaiwangError.SERIAL_DUPLICATE), DuplicateOrder),
    ],
)
def test_codes_map_to_canonical_classes(
    code: object, sub_code: object, expected: type[FapiaoError]
) -> None:
    error = to_canonical(code, "平台消息", sub_code=sub_code, sub_message="业务消息")  # type: ignore[arg-type]
    assert type(error) is expected
    assert error.raw_code == str(sub_code if sub_code is not None else code)
    assert error.raw_message == ("业务消息" if sub_code is not None else "平台消息")
    assert error.provider == "baiwang"
    assert error.message_zh and error.message_en
    assert error.raw_code in error.message_en


def test_unknown_code_is_a_provider_error_keeping_the_raw_code() -> None:
    error = to_canonical("100006", "远程服务错误", sub_code="9999", sub_message="调用异常")
    assert type(error) is ProviderError
    assert error.code == "PROVIDER_ERROR"
    assert (error.raw_code, error.raw_message) == ("9999", "调用异常")
    assert "9999" in error.message_en and "9999" in error.message_zh


def test_unknown_platform_code_without_sub_code() -> None:
    error = to_canonical("123456", None)
    assert isinstance(error, ProviderError)
    assert error.raw_code == "123456"


def test_missing_code_never_crashes() -> None:
    error = to_canonical(None, None)
    assert isinstance(error, ProviderError)


def test_retryable_follows_the_canonical_class() -> None:
    assert to_canonical(BaiwangError.RATE_LIMITED, "x").retryable
    assert not to_canonical(BaiwangError.SIGN_INVALID, "x").retryable


def test_codes_about_a_field_name_it() -> None:
    assert to_canonical("100006", "x", sub_code=BaiwangError.BUYER_TAX_NO).field == "buyer.tax_id"
    assert to_canonical("100006", "x", sub_code=BaiwangError.SERIAL_DUPLICATE).field == "order_id"
    assert to_canonical(BaiwangError.SIGN_INVALID, "x").field is None

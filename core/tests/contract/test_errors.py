"""The canonical error family: stable codes, both languages, raw provider data kept."""

from __future__ import annotations

import pytest

from fapiao.errors import (
    FapiaoError,
    InvalidInvoice,
    OutcomeUnknown,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    ValidationIssue,
    error_class_for,
    error_for_code,
)


@pytest.mark.parametrize(
    ("code", "klass", "retryable"),
    [
        ("QUOTA_EXCEEDED", QuotaExceeded, False),
        ("RATE_LIMITED", RateLimited, True),
        ("OUTCOME_UNKNOWN", OutcomeUnknown, False),  # never resend blind: query instead
    ],
)
def test_error_for_code_builds_the_right_class(
    code: str, klass: type[FapiaoError], retryable: bool
) -> None:
    err = error_for_code(code, raw_code="E9999", raw_message="额度不足", provider="nuonuo")
    assert type(err) is klass
    assert err.code == code
    assert err.retryable is retryable
    assert err.raw_code == "E9999" and err.raw_message == "额度不足"
    assert err.message_zh and err.message_en and err.message_zh != err.message_en


def test_unknown_code_becomes_provider_error_and_keeps_raw() -> None:
    err = error_for_code("SOMETHING_NEW", raw_code="X1", raw_message="boom", provider="p")
    assert isinstance(err, ProviderError)
    assert err.code == "PROVIDER_ERROR"
    assert "X1" in str(err) and "boom" in str(err)
    assert error_class_for("NOPE") is ProviderError


def test_info_round_trip_keeps_class_and_fields() -> None:
    err = QuotaExceeded(raw_code="E1", raw_message="m", field="lines[0]")
    info = err.to_info()
    back = FapiaoError.from_info(info, provider="p")
    assert type(back) is QuotaExceeded
    assert back.field == "lines[0]" and back.raw_code == "E1"


def test_invalid_invoice_summarises_issues_with_paths() -> None:
    issues = [
        ValidationIssue("UNKNOWN_TAX_CODE", "lines[2].tax_code", "未知编码", "unknown tax code"),
        ValidationIssue("ZERO_AMOUNT", "lines", "金额为零", "zero amount"),
        ValidationIssue("LEGACY_TAX_ID", "buyer.tax_id", "旧号", "legacy", warning=True),
    ]
    err = InvalidInvoice(issues)
    assert err.field == "lines[2].tax_code"
    assert "+1 more" in err.message_en  # the warning is not counted
    assert len(err.issues) == 3
    assert str(issues[0]).startswith("lines[2].tax_code: 未知编码 / unknown tax code")

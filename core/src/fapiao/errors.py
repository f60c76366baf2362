"""One exception family for every vendor, so callers write one ``except`` (the LiteLLM lesson).

Every error has a stable ``code`` (safe to switch on, stored in the ledger), a Chinese and an
English message for people, ``retryable`` for machines, and the provider's raw code and message
so nothing the vendor said is lost. Provider plugins map their raw codes onto these classes
with :func:`error_for_code`; an unmapped code becomes :class:`ProviderError`, never a crash.

Error *categories* live here too, once, as types and class flags, so that no other module keeps
its own list of codes:

- :class:`NotAccepted` (``ProviderUnavailable``, ``RateLimited``, ``AuthFailed``): proof that
  the provider did not accept the request, so sending it again is safe;
- ``retry_now``: worth retrying at once with backoff (unavailable, rate limited; an
  authentication failure needs a person first);
- ``client_fault``: the provider answered correctly about the request's content (invalid,
  duplicate, quota, unsupported…): a healthy answer, not a provider failure, for monitoring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fapiao.models.results import ErrorInfo

__all__ = [
    "AuthFailed",
    "CallbackRejected",
    "ConfigError",
    "DocumentInvalid",
    "DuplicateOrder",
    "FapiaoError",
    "InvalidInvoice",
    "InvalidRequest",
    "InvalidStateTransition",
    "InvalidTaxId",
    "LedgerUnavailable",
    "NotAccepted",
    "NotFound",
    "OutcomeUnknown",
    "ProviderError",
    "ProviderUnavailable",
    "QuotaExceeded",
    "RateLimited",
    "RedReversalNotAllowed",
    "SecretError",
    "UnsupportedOperation",
    "ValidationIssue",
    "error_class_for",
    "error_for_code",
]


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem in one field of a request: where, what was expected, in both languages."""

    code: str
    path: str
    message_zh: str
    message_en: str
    expected: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message_zh} / {self.message_en} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "path": self.path,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "expected": self.expected,
            "warning": self.warning,
        }


class FapiaoError(Exception):
    """Root of every error fapiao raises on purpose."""

    code: ClassVar[str] = "FAPIAO_ERROR"
    default_zh: ClassVar[str] = "发票服务错误"
    default_en: ClassVar[str] = "fapiao error"
    default_retryable: ClassVar[bool] = False
    retry_now: ClassVar[bool] = False
    """Retry at once with backoff: nothing was accepted and the cause is likely to pass."""
    client_fault: ClassVar[bool] = False
    """The provider (or fapiao for it) judged the request itself: a healthy answer."""

    def __init__(
        self,
        message_en: str | None = None,
        *,
        message_zh: str | None = None,
        retryable: bool | None = None,
        raw_code: str | None = None,
        raw_message: str | None = None,
        provider: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message_en = message_en or self.default_en
        self.message_zh = message_zh or self.default_zh
        self.retryable = self.default_retryable if retryable is None else retryable
        self.raw_code = raw_code
        self.raw_message = raw_message
        self.provider = provider
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message_zh} / {self.message_en}"
        if self.field:
            text = f"{self.field}: {text}"
        if self.raw_code or self.raw_message:
            text += f" (provider {self.provider or '?'}: {self.raw_code or ''} {self.raw_message or ''})"
        return text

    def to_info(self) -> ErrorInfo:
        return ErrorInfo(
            code=self.code,
            message_zh=self.message_zh,
            message_en=self.message_en,
            retryable=self.retryable,
            raw_code=self.raw_code,
            raw_message=self.raw_message,
            field=self.field,
        )

    @classmethod
    def from_info(cls, info: ErrorInfo, provider: str | None = None) -> FapiaoError:
        """Rebuild the right subclass from stored data (ledger, JSON)."""
        klass = error_class_for(info.code)
        err = klass(
            info.message_en,
            message_zh=info.message_zh,
            retryable=info.retryable,
            raw_code=info.raw_code,
            raw_message=info.raw_message,
            provider=provider,
            field=info.field,
        )
        if klass is ProviderError or klass is FapiaoError:
            err.code = info.code  # type: ignore[misc]  # keep unknown codes verbatim
        return err


class InvalidInvoice(FapiaoError):
    """The request breaks 数电 rules; ``issues`` lists every problem with its field path."""

    code = "INVALID_INVOICE"
    default_zh = "发票数据不合规"
    default_en = "the invoice is invalid"
    client_fault = True

    def __init__(self, issues: Sequence[ValidationIssue], **kwargs: Any) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if not i.warning]
        first = errors[0] if errors else None
        if first is not None and "message_en" not in kwargs:
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            kwargs.setdefault("field", first.path)
            super().__init__(
                first.message_en + more,
                message_zh=first.message_zh
                + (f"（另有{len(errors) - 1}处）" if len(errors) > 1 else ""),
                **kwargs,
            )
        else:
            super().__init__(**kwargs)


class InvalidTaxId(FapiaoError):
    code = "INVALID_TAX_ID"
    default_zh = "纳税人识别号无效"
    default_en = "invalid taxpayer ID"
    client_fault = True


class InvalidRequest(FapiaoError):
    """The provider refused the request's content (a field it checks that we did not)."""

    code = "INVALID_REQUEST"
    default_zh = "请求参数有误"
    default_en = "the provider rejected the request as invalid"
    client_fault = True


class QuotaExceeded(FapiaoError):
    code = "QUOTA_EXCEEDED"
    default_zh = "开票额度不足"
    default_en = "invoicing quota (授信额度) exceeded"
    client_fault = True


class DuplicateOrder(FapiaoError):
    code = "DUPLICATE_ORDER"
    default_zh = "订单号重复"
    default_en = "an invoice request with this order id already exists"
    client_fault = True


class NotAccepted(FapiaoError):
    """The provider provably did not accept the request: it may be sent again safely.

    Never raised itself; catch it to treat every such refusal alike (the engine leaves the
    record ``submitted`` for ``reconcile``, a batch counts it as pending, not failed).
    """

    code = "NOT_ACCEPTED"
    default_zh = "服务商未受理请求"
    default_en = "the provider did not accept the request"


class AuthFailed(NotAccepted):
    code = "AUTH_FAILED"
    default_zh = "认证失败（密钥、令牌或签名有误）"
    default_en = "authentication failed (key, token or signature)"


class RateLimited(NotAccepted):
    code = "RATE_LIMITED"
    default_zh = "调用过于频繁，已被限流"
    default_en = "rate limited by the provider"
    default_retryable = True
    retry_now = True


class ProviderUnavailable(NotAccepted):
    """The provider could not be reached or failed before accepting the request."""

    code = "PROVIDER_UNAVAILABLE"
    default_zh = "服务商暂不可用"
    default_en = "provider unavailable"
    default_retryable = True
    retry_now = True


class OutcomeUnknown(FapiaoError):
    """The request may or may not have been accepted (timeout or reset after sending).

    Never resend: resolve it by querying the provider by order id.
    """

    code = "OUTCOME_UNKNOWN"
    default_zh = "结果未知：请求可能已被受理，须向服务商查询，不可重发"
    default_en = "outcome unknown: the request may have been accepted; query, do not resend"


class NotFound(FapiaoError):
    code = "NOT_FOUND"
    default_zh = "未找到"
    default_en = "not found"
    client_fault = True


class UnsupportedOperation(FapiaoError):
    """A canonical operation or field this provider cannot honour (the anymail lesson: say so
    instead of silently dropping it)."""

    code = "UNSUPPORTED"
    default_zh = "该服务商不支持此功能"
    default_en = "this provider does not support the requested feature"
    client_fault = True


class RedReversalNotAllowed(FapiaoError):
    code = "RED_NOT_ALLOWED"
    default_zh = "不允许此红冲"
    default_en = "this red reversal is not allowed"
    client_fault = True


class CallbackRejected(FapiaoError):
    """A callback whose signature, freshness or content does not verify."""

    code = "CALLBACK_REJECTED"
    default_zh = "回调验签失败"
    default_en = "callback failed verification"


class DocumentInvalid(FapiaoError):
    code = "DOCUMENT_INVALID"
    default_zh = "版式文件校验失败"
    default_en = "the downloaded document failed its checks"
    default_retryable = True
    client_fault = True


class InvalidStateTransition(FapiaoError):
    code = "INVALID_TRANSITION"
    default_zh = "状态转换不允许"
    default_en = "state transition not allowed"
    client_fault = True


class ConfigError(FapiaoError):
    code = "CONFIG_ERROR"
    default_zh = "配置有误"
    default_en = "configuration error"


class LedgerUnavailable(FapiaoError):
    """The ledger database failed (unreachable, locked, commit error): the change was not
    acknowledged, so nothing that depends on it (such as sending to the provider) may go on."""

    code = "LEDGER_UNAVAILABLE"
    default_zh = "账本数据库不可用，本次变更未确认记录"
    default_en = "the ledger database is unavailable; the change was not acknowledged"
    default_retryable = True


class SecretError(FapiaoError):
    code = "SECRET_ERROR"
    default_zh = "密钥不可用"
    default_en = "secret unavailable"


class ProviderError(FapiaoError):
    """A provider error with no canonical meaning; the raw code and message are kept."""

    code = "PROVIDER_ERROR"
    default_zh = "服务商返回错误"
    default_en = "the provider returned an error"


def _all_subclasses(cls: type[FapiaoError]) -> Iterable[type[FapiaoError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


@dataclass
class _Registry:
    by_code: dict[str, type[FapiaoError]] = field(default_factory=dict)

    def refresh(self) -> None:
        self.by_code = {FapiaoError.code: FapiaoError}
        for sub in _all_subclasses(FapiaoError):
            self.by_code.setdefault(sub.code, sub)


_registry = _Registry()


def error_class_for(code: str) -> type[FapiaoError]:
    """The exception class for a canonical code; unknown codes map to ProviderError."""
    if code not in _registry.by_code:
        _registry.refresh()
    return _registry.by_code.get(code, ProviderError)


def error_for_code(
    code: str,
    *,
    raw_code: str | None = None,
    raw_message: str | None = None,
    provider: str | None = None,
    message_en: str | None = None,
    message_zh: str | None = None,
    retryable: bool | None = None,
    field: str | None = None,
) -> FapiaoError:
    """Build the canonical exception for ``code``, keeping what the provider said."""
    klass = error_class_for(code)
    if klass is InvalidInvoice:
        issue = ValidationIssue(
            code=code,
            path=field or "",
            message_zh=message_zh or klass.default_zh,
            message_en=message_en or klass.default_en,
        )
        return InvalidInvoice(
            [issue], raw_code=raw_code, raw_message=raw_message, provider=provider
        )
    return klass(
        message_en,
        message_zh=message_zh,
        retryable=retryable,
        raw_code=raw_code,
        raw_message=raw_message,
        provider=provider,
        field=field,
    )

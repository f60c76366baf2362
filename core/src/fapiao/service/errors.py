"""Canonical errors as HTTP answers, so callers in any language switch on one stable code.

The status tells an HTTP client what kind of failure it is (its own input, a conflict with
what exists, the provider being down); the JSON body carries the canonical error — code,
zh/en messages, ``retryable``, the provider's raw code — and, for invalid invoices, every
issue with its field path. ``OUTCOME_UNKNOWN`` is a 504 whose body says the request was
recorded: sending the same request again is safe because the engine settles it by query and
never resends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from pydantic_core import InitErrorDetails
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fapiao.errors import FapiaoError, InvalidInvoice, ValidationIssue
from fapiao.models.results import ErrorInfo
from fapiao.rules import format_loc, issues_from_validation_error
from fapiao.rules.issues import INVALID_FIELD, issue

from .access import TokenCheck
from .disclosure import without_server_paths

__all__ = [
    "MAX_ISSUES_SHOWN",
    "STATUS_BY_CODE",
    "ErrorResponse",
    "Refused",
    "error_body",
    "error_response",
    "fapiao_error_handler",
    "gateway_error_response",
    "http_status_for",
    "internal_error_handler",
    "issues_response",
    "refused_handler",
    "request_validation_handler",
    "too_large_response",
    "unauthorized_response",
]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _visible(surrogate: re.Match[str]) -> str:
    return f"\\u{ord(surrogate.group()):04x}"


class ErrorResponse(JSONResponse):
    """A JSON error answer that can always be written and always be read.

    An error may echo what the caller sent, and JSON text may carry a lone surrogate
    (``"\\ud800"``): Python decodes it but cannot encode it as UTF-8, so Starlette's own
    rendering turned that refusal into a 500, and echoed as a JSON escape it would break
    strict parsers. It is shown as the six characters ``\\ud800`` instead."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        # a surrogate can only stand inside a JSON string, where the backslash of its
        # visible form must itself be escaped
        return _SURROGATE.sub(lambda m: "\\" + _visible(m), text).encode("utf-8")


def _error_info(error: FapiaoError) -> ErrorInfo:
    """``error.to_info()``; a message that echoes a lone surrogate (which the model refuses)
    gets it as visible text instead of failing the answer."""
    try:
        return error.to_info()
    except ValidationError:
        return ErrorInfo(
            code=error.code,
            message_zh=_SURROGATE.sub(_visible, error.message_zh),
            message_en=_SURROGATE.sub(_visible, error.message_en),
            retryable=error.retryable,
            raw_code=error.raw_code and _SURROGATE.sub(_visible, error.raw_code),
            raw_message=error.raw_message and _SURROGATE.sub(_visible, error.raw_message),
            field=error.field and _SURROGATE.sub(_visible, error.field),
        )


STATUS_BY_CODE: dict[str, int] = {
    "INVALID_INVOICE": 422,
    "INVALID_TAX_ID": 422,
    "INVALID_REQUEST": 422,
    "UNSUPPORTED": 422,
    "CONFIG_ERROR": 422,  # e.g. a seller tax ID no profile is routed for
    "NOT_FOUND": 404,
    "DUPLICATE_ORDER": 409,
    "INVALID_TRANSITION": 409,
    "RED_NOT_ALLOWED": 409,
    "QUOTA_EXCEEDED": 409,
    "CALLBACK_REJECTED": 401,
    "RATE_LIMITED": 429,
    "PROVIDER_UNAVAILABLE": 503,
    "LEDGER_UNAVAILABLE": 503,
    "OUTCOME_UNKNOWN": 504,
    "AUTH_FAILED": 502,  # the provider refused *our* credentials: not the caller's fault
    "PROVIDER_ERROR": 502,
    "DOCUMENT_INVALID": 502,
    "SECRET_ERROR": 500,
}


def http_status_for(error: FapiaoError) -> int:
    """The status of ``error``'s code, else of the nearest canonical class it derives from
    (a plugin's own subclass of ``RateLimited`` is a 429 too), else 500."""
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    for klass in type(error).__mro__:
        code = getattr(klass, "code", None)
        if isinstance(code, str) and code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return 500


MAX_ISSUES_SHOWN = 1000
"""Issues one answer lists; past them ``issues_omitted`` says how many more there were. A
2,000-line invoice with a mistake per line is listed whole, but an 800 KB body of empty
lines has 800,000 issues: listed, its answer would be 150 MB."""


def _issues(detail: dict[str, Any], issues: Sequence[ValidationIssue]) -> None:
    detail["issues"] = [issue.to_dict() for issue in issues[:MAX_ISSUES_SHOWN]]
    if len(issues) > MAX_ISSUES_SHOWN:
        detail["issues_omitted"] = len(issues) - MAX_ISSUES_SHOWN


def error_body(error: FapiaoError) -> dict[str, Any]:
    """The canonical body of ``error``. A failure on the server's side (not a judgement of
    the request: ``client_fault`` is false) is told without the server's file paths, which
    the engine's messages name for the person running it (``fapiao.service.disclosure``);
    what the provider said (``raw_*``) is kept verbatim."""
    info = _error_info(error)
    if not error.client_fault:
        info = info.model_copy(
            update={
                "message_zh": without_server_paths(info.message_zh, "zh"),
                "message_en": without_server_paths(info.message_en, "en"),
            }
        )
    body: dict[str, Any] = {"error": info.model_dump(mode="json")}
    if isinstance(error, InvalidInvoice):
        _issues(body["error"], error.issues)
    return body


def error_response(error: FapiaoError) -> JSONResponse:
    """``error`` as its HTTP answer; ``Retry-After`` when its category says a retry at once
    is worthwhile (``retry_now``: unavailable, rate limited), so HTTP clients back off by
    the standard header without knowing fapiao's codes."""
    headers = {"Retry-After": "1"} if error.retry_now else None
    return ErrorResponse(error_body(error), status_code=http_status_for(error), headers=headers)


def issues_response(
    issues: list[ValidationIssue], *, code: str = "INVALID_REQUEST"
) -> JSONResponse:
    """A 422 for a body that is not even the right shape (not JSON, unknown fields)."""
    first = next((i for i in issues if not i.warning), issues[0] if issues else None)
    body = {
        "error": {
            "code": code,
            "message_zh": first.message_zh if first else "请求内容有误",
            "message_en": first.message_en if first else "invalid request body",
            "retryable": False,
            "raw_code": None,
            "raw_message": None,
            "field": first.path if first else None,
        }
    }
    _issues(body["error"], issues)
    return ErrorResponse(body, status_code=422)


def gateway_error_response(
    code: str,
    *,
    message_zh: str,
    message_en: str,
    status_code: int,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An answer the gateway gives on its own (no token, a body too large) in the shape of
    every canonical error, so a caller parses one shape whatever refused it."""
    info = ErrorInfo(code=code, message_zh=message_zh, message_en=message_en, retryable=False)
    return ErrorResponse(
        {"error": info.model_dump(mode="json")}, status_code=status_code, headers=headers
    )


_UNAUTHORIZED: dict[TokenCheck, tuple[str, str, str]] = {
    TokenCheck.MISSING: (
        "缺少访问令牌：请发送 Authorization: Bearer <令牌>",
        "missing API token: send Authorization: Bearer <token>",
        "Bearer",
    ),
    TokenCheck.NOT_BEARER: (
        "Authorization 须为 Bearer <令牌>（RFC 6750）",
        "the Authorization header must be Bearer <token> (RFC 6750)",
        "Bearer",
    ),
    TokenCheck.WRONG: ("访问令牌错误", "wrong API token", 'Bearer error="invalid_token"'),
}


def unauthorized_response(outcome: TokenCheck = TokenCheck.MISSING) -> JSONResponse:
    """A 401 for a request without the configured bearer token, with the RFC 6750 challenge
    (``error="invalid_token"`` only when a bearer token was presented and is wrong)."""
    zh, en, challenge = _UNAUTHORIZED.get(outcome, _UNAUTHORIZED[TokenCheck.MISSING])
    return gateway_error_response(
        "UNAUTHORIZED",
        message_zh=zh,
        message_en=en,
        status_code=401,
        headers={"WWW-Authenticate": challenge},
    )


def too_large_response(max_bytes: int) -> JSONResponse:
    """A 413 for a request body above the service's limit (``fapiao.service.body_limit``)."""
    return gateway_error_response(
        "REQUEST_TOO_LARGE",
        message_zh=f"请求体过大：至多 {max_bytes} 字节",
        message_en=f"request body too large: at most {max_bytes} bytes",
        status_code=413,
    )


class Refused(Exception):
    """Answer now with ``response`` (a body that is not even the right shape, no token)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def fapiao_error_handler(_request: Request, exc: FapiaoError) -> Response:
    """Exception handler: a canonical error raised anywhere in a route, as its HTTP answer."""
    return error_response(exc)


async def refused_handler(_request: Request, exc: Refused) -> Response:
    """Exception handler: the answer a :class:`Refused` carries."""
    return exc.response


async def request_validation_handler(_request: Request, exc: RequestValidationError) -> Response:
    """Exception handler: FastAPI's own check of a path or query parameter (a seller tax ID
    too short, ``refresh=maybe``) as the canonical 422, translated like every body issue,
    instead of FastAPI's ``{"detail": [...]}``, which no other answer of the gateway uses."""
    return issues_response(parameter_issues(exc.errors()))


def parameter_issues(errors: Sequence[Any]) -> list[ValidationIssue]:
    """FastAPI's validation errors as bilingual issues, each named by its parameter."""
    details: list[InitErrorDetails] = []
    for error in errors:
        detail: InitErrorDetails = {
            "type": error["type"],
            "loc": tuple(error["loc"][1:]) or tuple(error["loc"]),  # without "path"/"query"
            "input": error.get("input"),
        }
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        details.append(detail)
    try:
        return issues_from_validation_error(ValidationError.from_exception_data("request", details))
    except (KeyError, TypeError, ValueError):  # an error type pydantic cannot rebuild
        return [
            issue(INVALID_FIELD, format_loc(d["loc"]), "取值无效", str(e.get("msg", "invalid")))
            for d, e in zip(details, errors, strict=True)
        ]


async def internal_error_handler(_request: Request, _exc: Exception) -> Response:
    """Exception handler of last resort: an unexpected failure is still answered in the
    canonical shape the OpenAPI document promises, saying nothing of its cause (Starlette
    raises it on afterwards, so the server's scrubbed log has the traceback)."""
    return gateway_error_response(
        "INTERNAL_ERROR",
        message_zh="服务内部错误：请求未完成，详情见服务端日志；可先查询再重试",
        message_en="internal error: the request did not complete; the server's log has the "
        "details; query the request before sending it again",
        status_code=500,
    )

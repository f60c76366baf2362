"""Turning untrusted JSON into a canonical ``Invoice``, with bilingual, path-named errors.

pydantic's own messages are English, nested and type-centric; a batch author needs
"lines[0].amount: 金额不能用浮点数 / money must not be a float" instead. Every pydantic
error is translated into a ``ValidationIssue`` with a stable code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from fapiao.errors import InvalidInvoice, ValidationIssue
from fapiao.models import Invoice
from fapiao.models.limits import (
    MAX_INTEGER_DIGITS,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    MAX_LINES,
    nesting_depth,
)
from fapiao.rules.issues import (
    FLOAT_NOT_ALLOWED,
    INVALID_FIELD,
    MALFORMED_JSON,
    MISSING_FIELD,
    UNKNOWN_FIELD,
    issue,
    join_path,
)

__all__ = ["format_loc", "issues_from_validation_error", "load_json", "parse_invoice"]

_TYPE_ZH = {
    "string_type": "须为字符串",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "bool_type": "须为布尔值（true/false）",
    "bool_parsing": "须为布尔值（true/false）",
    "dict_type": "须为 JSON 对象",
    "model_type": "须为 JSON 对象",
    "model_attributes_type": "须为 JSON 对象",
    "list_type": "须为 JSON 数组",
    "tuple_type": "须为 JSON 数组",
    "decimal_type": "须为十进制数（字符串或整数）",
    "decimal_parsing": "须为十进制数（字符串或整数）",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "too_short": "元素太少",
    "too_long": "元素太多",
    "enum": "取值无效",
    "literal_error": "取值无效",
    "greater_than_equal": "数值太小",
    "greater_than": "数值太小",
    "less_than_equal": "数值太大",
    "date_type": "须为日期（YYYY-MM-DD）",
    "date_parsing": "须为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
    "datetime_parsing": "须为日期时间（ISO 8601）",
    "datetime_type": "须为日期时间（ISO 8601）",
    "string_pattern_mismatch": "格式不符",
}


def format_loc(loc: Sequence[int | str]) -> str:
    """``("lines", 2, "tax_code")`` → ``"lines[2].tax_code"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _translate(error: ErrorDetails, prefix: str) -> ValidationIssue:
    kind = error["type"]
    loc = error["loc"]
    path = join_path(prefix, format_loc(loc))
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return issue(MISSING_FIELD, path, "缺少必填字段", "required field is missing")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        return issue(
            UNKNOWN_FIELD,
            path,
            f"未知字段“{name}”（拼写错误？）",
            f"unknown field {name!r} (misspelt?)",
            expected="a field of the canonical model (see `fapiao schema`)",
        )
    if isinstance(value, float) and not isinstance(value, bool):
        return issue(
            FLOAT_NOT_ALLOWED,
            path,
            f'金额、数量与税率不能用浮点数，请写成字符串："{value!r}"',
            f'money, quantities and rates must not be JSON floats; write a string: "{value!r}"',
            expected=f'"{value!r}"',
        )
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        zh, sep, en = message.partition(" / ")
        if not sep:
            zh, en = "取值无效：" + message, message
        return issue(INVALID_FIELD, path, zh, en)
    expected = None
    if kind == "enum":
        expected = str(ctx.get("expected", ""))
    elif kind in ("string_too_short", "too_short"):
        expected = f"at least {ctx.get('min_length')}"
    elif kind in ("string_too_long", "too_long"):
        expected = f"at most {ctx.get('max_length')}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal"):
        expected = error["msg"].removeprefix("Input should be ")
    zh = _TYPE_ZH.get(kind, "取值无效")
    detail_zh = f"{zh}（实为 {_shown(value)}）" if "input" in error else zh
    if expected and kind == "enum":
        detail_zh += f"，可选：{expected}"
    return issue(
        INVALID_FIELD,
        path,
        detail_zh,
        f"{error['msg']} (got {_shown(value)})" if "input" in error else error["msg"],
        expected=expected,
    )


def issues_from_validation_error(
    exc: ValidationError, path_prefix: str = ""
) -> list[ValidationIssue]:
    """Every pydantic error of ``exc`` as a bilingual issue (with ``path_prefix`` joined in).

    A container's "too short after validation" error caused by its own failed items is
    dropped: the items' errors already say what is wrong.
    """
    errors = exc.errors()
    locs = [tuple(e["loc"]) for e in errors]

    def echoes_an_item(error: ErrorDetails) -> bool:
        loc = tuple(error["loc"])
        return error["type"] == "too_short" and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in locs
        )

    return [_translate(error, path_prefix) for error in errors if not echoes_an_item(error)]


class _TooBig(Exception):
    """A bound of ``fapiao.models.limits`` broken while decoding (carried out of json)."""

    def __init__(self, zh: str, en: str, expected: str) -> None:
        super().__init__(en)
        self.zh, self.en, self.expected = zh, en, expected


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _TooBig(
            f"整数位数过多：{len(text.lstrip('-'))} 位，上限 {MAX_INTEGER_DIGITS}",
            f"integer with too many digits: {len(text.lstrip('-'))}, at most {MAX_INTEGER_DIGITS}",
            f"at most {MAX_INTEGER_DIGITS} digits",
        )
    return int(text)


def _no_constant(text: str) -> Any:
    raise _TooBig(
        f"JSON 不允许 {text}",
        f"{text} is not JSON (write numbers as decimal strings)",
        "a decimal string",
    )


def _too_deep(limit: int) -> _TooBig:
    return _TooBig(
        f"JSON 嵌套过深：至多 {limit} 层",
        f"JSON nested too deep: at most {limit} levels",
        f"at most {limit} levels",
    )


def _malformed(path_prefix: str, zh: str, en: str, expected: str) -> InvalidInvoice:
    return InvalidInvoice(
        [issue(MALFORMED_JSON, join_path(path_prefix, ""), zh, en, expected=expected)]
    )


def load_json(
    data: str | bytes,
    *,
    path_prefix: str = "",
    max_bytes: int | None = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """``json.loads`` whose failure is an :class:`InvalidInvoice` naming line and column.

    Bounded (``fapiao.models.limits``): the text's size, the nesting depth and the digits of
    an integer are checked while decoding, ``NaN``/``Infinity`` are refused, so hostile input
    gets the same canonical refusal as a typo instead of an interpreter error. ``max_bytes``
    and ``max_depth`` are one invoice's bounds; a local file holding an array of invoices
    (``fapiao validate``) lifts the size and allows the array's level."""
    if max_bytes is not None and len(data) > max_bytes:
        raise _malformed(
            path_prefix,
            f"JSON 过大：{len(data)} 字节，上限 {max_bytes}",
            f"JSON too large: {len(data)} bytes, at most {max_bytes}",
            f"at most {max_bytes} bytes",
        )
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise _malformed(
            path_prefix,
            f"不是 UTF-8 文本（第 {exc.start} 字节）",
            f"not UTF-8 text (byte {exc.start})",
            "UTF-8 JSON",
        ) from None
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
        if nesting_depth(value, stop_at=max_depth + 1) > max_depth:
            raise _too_deep(max_depth)
    except RecursionError:
        deep = _too_deep(max_depth)
        raise _malformed(path_prefix, deep.zh, deep.en, deep.expected) from None
    except _TooBig as exc:
        raise _malformed(path_prefix, exc.zh, exc.en, exc.expected) from None
    except json.JSONDecodeError as exc:
        raise _malformed(
            path_prefix,
            f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}",
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            "one JSON object",
        ) from None
    return value


def parse_invoice(data: str | bytes | dict[str, Any], *, path_prefix: str = "") -> Invoice:
    """An ``Invoice`` from JSON text/bytes or an already-decoded object.

    Raises :class:`InvalidInvoice` whose issues name each bad field (``path_prefix`` such as
    ``"line 3"`` is joined in front: ``"line 3: lines[0].amount"``). Floats are refused for
    money: JSON numbers with a fraction are read as floats, and a float has already lost the
    exact amount, so the author is asked to write a string.
    """
    obj: Any = data if isinstance(data, dict) else load_json(data, path_prefix=path_prefix)
    if not isinstance(obj, dict):
        raise InvalidInvoice(
            [
                issue(
                    INVALID_FIELD,
                    join_path(path_prefix, ""),
                    f"发票须为 JSON 对象，实为 {type(obj).__name__}",
                    f"an invoice must be a JSON object, got {type(obj).__name__}",
                    expected="a JSON object",
                )
            ]
        )
    lines = obj.get("lines")
    if isinstance(lines, list) and len(lines) > MAX_LINES:
        # refused before validation: 200,000 bad lines would otherwise build 800,000 errors
        raise InvalidInvoice(
            [
                issue(
                    INVALID_FIELD,
                    join_path(path_prefix, "lines"),
                    f"明细行过多：{len(lines)} 行，上限 {MAX_LINES}",
                    f"too many lines: {len(lines)}, at most {MAX_LINES}",
                    expected=f"at most {MAX_LINES}",
                )
            ]
        )
    try:
        return Invoice.model_validate(obj)
    except ValidationError as exc:
        raise InvalidInvoice(issues_from_validation_error(exc, path_prefix)) from None

"""Turning what callers hand the ledger into JSON that is exact and holds no secret.

The stored payload is the canonical request, kept so that a record can be re-sent, audited or
reconciled years later: amounts must come back digit for digit (``Decimal`` → string, a float
is refused with the field's path), and a value under a secret-looking key (``token``,
``app_secret``...) must never reach the database, whatever a vendor-specific extra carried.
Event details and error texts also pass through the scrubber (known secrets, tax IDs, phones).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from fapiao.errors import InvalidInvoice, ValidationIssue
from fapiao.masking import MASK, SECRET_KEY_PATTERN, Scrubber

__all__ = ["canonical_payload", "json_detail"]

_SECRET_KEY = re.compile(SECRET_KEY_PATTERN, re.IGNORECASE)


def _float_refused(path: str, value: float) -> InvalidInvoice:
    return InvalidInvoice(
        [
            ValidationIssue(
                code="FLOAT_NOT_ALLOWED",
                path=path,
                message_zh=f"金额、数量与税率不能是浮点数（{value!r}），请用字符串或 Decimal",
                message_en=f"amounts, quantities and rates cannot be floats ({value!r}); "
                "use strings or Decimal",
                expected='a decimal string such as "12.30"',
            )
        ]
    )


def _to_json(value: Any, path: str, *, allow_float: bool, scrubber: Scrubber | None) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return scrubber.scrub(value) if scrubber is not None else value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _float_refused(path, float(value))
        return format(value, "f")
    if isinstance(value, float):
        if allow_float:
            return value
        raise _float_refused(path, value)
    if isinstance(value, Enum):
        return _to_json(value.value, path, allow_float=allow_float, scrubber=scrubber)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            child = f"{path}.{name}" if path else name
            if isinstance(item, str | int | float | Decimal) and _SECRET_KEY.fullmatch(name):
                out[name] = MASK
            else:
                out[name] = _to_json(item, child, allow_float=allow_float, scrubber=scrubber)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [
            _to_json(item, f"{path}[{i}]", allow_float=allow_float, scrubber=scrubber)
            for i, item in enumerate(value)
        ]
    raise TypeError(f"{path or 'value'}: {type(value).__name__} cannot be stored as JSON")


@lru_cache(maxsize=4096)
def _is_secret_key(name: str) -> bool:
    return _SECRET_KEY.fullmatch(name) is not None


class _Slow(Exception):
    """The fast walk met something to refuse or explain: redo it with field paths."""


_SCALARS = (str, int, float, Decimal)


def _fast_json(value: Any) -> Any:
    """``_to_json`` for the common case (floats refused, nothing scrubbed) without building a
    field path per node — the payload of every issued invoice goes through here, twice."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {
            name: MASK if isinstance(item, _SCALARS) and _is_secret_key(name) else _fast_json(item)
            for name, item in value.items()
            if type(name) is str or _raise_slow()
        }
    if kind is list or kind is tuple:
        return [_fast_json(item) for item in value]
    if kind is Decimal and value.is_finite():
        return format(value, "f")
    raise _Slow


def _raise_slow() -> bool:
    raise _Slow


def canonical_payload(payload: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    """The request as exact JSON: Decimals as strings, floats refused, secret values masked.

    Tax IDs and phone numbers are kept: the payload is what the provider will be sent again.
    """
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    if type(data) is dict:
        try:
            return dict(_fast_json(data))
        except _Slow:
            pass  # the full walk below names the field and the reason
    result = _to_json(payload, "", allow_float=False, scrubber=None)
    if not isinstance(result, dict):
        raise TypeError("the payload must be a mapping or a pydantic model")
    return result


def json_detail(detail: Mapping[str, Any] | None, scrubber: Scrubber) -> dict[str, Any] | None:
    """An event's detail as JSON, scrubbed like a log line (it is read like one)."""
    if detail is None:
        return None
    result = _to_json(detail, "detail", allow_float=True, scrubber=scrubber)
    assert isinstance(result, dict)
    return result

"""What every sandbox business handler shares: the authenticated call and the refusals.

A handler takes a :class:`Call` (app, ``taxNo``, body) and returns the ``response`` of a
successful answer or raises :class:`~fapiao_provider_b.sandbox.state.ApiError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fapiao_provider_b.errors_map import ERRORS, BaiwangError
from fapiao_provider_b.sandbox.config import SandboxApp
from fapiao_provider_b.sandbox.state import ApiError, SandboxState

__all__ = ["Call", "business", "fail"]

_E = BaiwangError


class Call:
    """One authenticated business call."""

    def __init__(self, state: SandboxState, app: SandboxApp, body: Mapping[str, Any]) -> None:
        self.state = state
        self.app = app
        self.body = body
        tax_no = str(body.get("taxNo") or "")
        if not tax_no:
            raise business(_E.REQUIRED_EMPTY, "taxNo")
        if tax_no not in app.tax_nos or tax_no not in state.sellers:
            raise business(_E.SELLER_NOT_AUTHORISED, tax_no)
        self.tax_no = tax_no

    @property
    def data(self) -> Mapping[str, Any]:
        data = self.body.get("data")
        if not isinstance(data, Mapping):
            raise business(_E.REQUIRED_EMPTY, "data")
        return data


def business(code: str, detail: str | None = None) -> ApiError:
    """A business refusal: ``100006`` 远程服务错误 with the reason in ``subCode``."""
    message = ERRORS[code].message
    return ApiError(
        _E.REMOTE_ERROR,
        ERRORS[_E.REMOTE_ERROR].message,
        sub_code=code,
        sub_message=f"{message}：{detail}" if detail else message,
    )


def fail(serial_no: str, code: str, detail: str | None = None) -> dict[str, Any]:
    message = ERRORS[code].message
    return {
        "serialNo": serial_no,
        "errorCode": code,
        "errorMessage": f"{message}：{detail}" if detail else message,
    }

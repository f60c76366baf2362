"""The platform's business methods, by ``method`` header (the gateway's dispatch table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fapiao_provider_a.protocol import Method
from fapiao_provider_a.sandbox.calls import Call
from fapiao_provider_a.sandbox.invoices import cancel, credit_line, deliver, issue, query
from fapiao_provider_a.sandbox.red_forms import red_confirm, red_fast, red_query, red_save

__all__ = ["HANDLERS"]

HANDLERS: dict[str, Callable[[Call], Any]] = {
    Method.ISSUE: issue,
    Method.QUERY: query,
    Method.QUERY_LEGACY: query,
    Method.RED_SAVE: red_save,
    Method.RED_QUERY: red_query,
    Method.RED_CONFIRM: red_confirm,
    Method.RED_FAST: red_fast,
    Method.DELIVER: deliver,
    Method.CREDIT_LINE: credit_line,
    Method.CANCEL: cancel,
}

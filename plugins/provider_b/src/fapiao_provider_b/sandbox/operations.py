"""The platform's business methods, by ``method`` name (the gateway's dispatch table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fapiao_provider_b.protocol import Method
from fapiao_provider_b.sandbox.calls import Call
from fapiao_provider_b.sandbox.invoices import deliver, format_query, issue, query, quota
from fapiao_provider_b.sandbox.red_forms import red_add, red_info, red_list, red_operate

__all__ = ["HANDLERS"]

HANDLERS: dict[str, Callable[[Call], Any]] = {
    Method.ISSUE: issue,
    Method.QUERY: query,
    Method.FORMAT_QUERY: format_query,
    Method.RED_ADD: red_add,
    Method.RED_OPERATE: red_operate,
    Method.RED_INFO: red_info,
    Method.RED_LIST: red_list,
    Method.DELIVER: deliver,
    Method.QUOTA: quota,
}

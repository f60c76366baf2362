"""Builders for invoices used across the rules tests (valid unless a test changes them)."""

from __future__ import annotations

from typing import Any

import pytest

from fapiao.models import Invoice
from fapiao.rules import uscc_check_char


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


SELLER_ID = uscc("91310115MA1K4B2C5")
BUYER_ID = uscc("91110108MA01R5XK3")
PAPER = "1060102010000000000"  # 未涂布印刷书写用纸, 13 %
RICE = "1030102010100000000"  # 大米, 9 %
SOFTWARE = "3040201010000000000"  # 软件开发服务, 6 %


def line(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "打印纸 A4",
        "tax_code": PAPER,
        "amount": "840.00",
        "tax_rate": "0.13",
    }
    data.update(over)
    return data


def invoice_data(*lines: dict[str, Any], **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": "T-1",
        "kind": "normal",
        "seller": {"name": "上海示例信息科技有限公司", "tax_id": SELLER_ID},
        "buyer": {"name": "北京示例制造股份有限公司", "tax_id": BUYER_ID},
        "lines": list(lines) or [line()],
    }
    data.update(over)
    return data


def make(*lines: dict[str, Any], **over: Any) -> Invoice:
    return Invoice.model_validate(invoice_data(*lines, **over))


@pytest.fixture
def codes_of():
    def _codes(issues):
        return {(i.code, i.path) for i in issues}

    return _codes

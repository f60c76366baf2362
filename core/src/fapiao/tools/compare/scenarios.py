"""The scenario set every compared profile runs, in this order, and what each expects.

The set is what a procurement team should see before choosing a vendor: everyday invoices
(专票 and 普票, five rates, a discount line, a natural-person buyer, a long invoice), bad
inputs (the vendor must refuse them with a meaningful canonical error), queries, documents
in each format, delivery by each channel, callbacks, red reversal full and partial and an
over-reversal, the quota, and a burst for throughput. Operations a vendor does not declare
are still called (they are refused offline with ``UNSUPPORTED``) so the side-by-side table
shows the gap instead of hiding it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MANY_LINES", "SCENARIOS", "Scenario", "scenario"]

MANY_LINES = 250
"""Lines of the long invoice: more than some vendors accept (their declared limit shows)."""


@dataclass(frozen=True)
class Scenario:
    id: str
    group: str
    title_zh: str
    title_en: str
    expect: Literal["ok", "error"] = "ok"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("quota", "quota", "查询授信额度", "quota (授信额度)"),
    Scenario(
        "issue.special_multi_rate", "issue", "专票：13%/9%/6% 三个税率", "专票 at 13, 9 and 6 %"
    ),
    Scenario(
        "issue.normal_natural_person",
        "issue",
        "普票：自然人购方，含税价",
        "普票 to a natural person, tax-inclusive",
    ),
    Scenario("issue.normal_discount", "issue", "普票：带折扣行", "普票 with a discount line"),
    Scenario(
        "issue.normal_simplified_rates",
        "issue",
        "普票：征收率 3% 与 1%",
        "普票 at 3 % and 1 % (征收率)",
    ),
    Scenario(
        "issue.many_lines",
        "issue",
        f"专票：{MANY_LINES} 行明细",
        f"专票 with {MANY_LINES} lines",
    ),
    Scenario(
        "query.batch", "query", "批量查询（含未知订单）", "batch query (with an unknown order)"
    ),
    Scenario(
        "duplicate.same_order",
        "issue",
        "同一订单号再次开票",
        "same order id issued again",
        "error",
    ),
    Scenario(
        "bad.bad_buyer_tax_id",
        "bad_input",
        "购方税号校验位错误",
        "buyer tax ID check character wrong",
        "error",
    ),
    Scenario(
        "bad.special_to_natural_person",
        "bad_input",
        "专票开给自然人",
        "专票 to a natural person",
        "error",
    ),
    Scenario(
        "bad.wrong_rate", "bad_input", "税率与编码不符", "rate not allowed for the code", "error"
    ),
    Scenario("bad.zero_amount", "bad_input", "零金额发票", "zero-amount invoice", "error"),
    Scenario("bad.over_quota", "bad_input", "超出授信额度", "beyond the credit line", "error"),
    Scenario("documents.pdf", "documents", "下载 PDF", "download PDF"),
    Scenario("documents.ofd", "documents", "下载 OFD", "download OFD"),
    Scenario("documents.xml", "documents", "下载 XML", "download XML"),
    Scenario("deliver.email", "deliver", "邮件交付", "deliver by e-mail"),
    Scenario("deliver.sms", "deliver", "短信交付", "deliver by SMS"),
    Scenario("callback.issued", "callback", "开票结果回调（验签）", "signed issuance callback"),
    Scenario("red.full", "red", "全额红冲（开票有误）", "full red reversal (开票有误)"),
    Scenario("red.partial", "red", "部分红冲（销货退回）", "partial red reversal (销货退回)"),
    Scenario("red.over_reversal", "red", "超额红冲应被拒", "over-reversal refused", "error"),
)


def scenario(scenario_id: str) -> Scenario:
    for item in SCENARIOS:
        if item.id == scenario_id:
            return item
    raise KeyError(scenario_id)

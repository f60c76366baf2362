"""The invoices the tools send: a realistic mix, a large one and the bad inputs.

Realistic means what a seller's day looks like: a 专票 to a company with goods at 13 %,
printed matter at 9 % and a service at 6 %; a 普票 to a natural person with tax-inclusive
prices; a 普票 with a discount line; a small-scale seller's 3 % and 1 % 征收率. Every valid
invoice here passes ``fapiao.rules`` (a unit test checks it), so a refusal is the
provider's. Order ids are fresh on every call: a tool may run many times against one
environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fapiao.models import Invoice, InvoiceKind, InvoiceLine, LineKind, Party
from fapiao.testing.samples import code_for, new_order_id

__all__ = [
    "BAD_BUYER_TAX_ID",
    "BadInput",
    "bad_inputs",
    "invoice_mix",
    "many_lines_invoice",
    "natural_person",
    "with_new_order_id",
]

COMPUTER = "1090509010000000000"  # 电子计算机整机, 13 %
BOOKS = "1060201019900000000"  # 其他有刊号图书、报纸、期刊类印刷品, 9 %
SOFTWARE = "3040201010000000000"  # 软件开发服务, 6 %
CATERING = "3070401000000000000"  # 餐饮服务, 6 %
LODGING = "3070402000000000000"  # 住宿服务, 6 %
CONSULTING = "3040603010000000000"  # 一般税务咨询 (征收率 3 % / 1 % for a small-scale seller)

BAD_BUYER_TAX_ID = "91310000MA1FL8XQ38"
"""The default buyer's USCC with a wrong check character (…37 is right)."""


def _line(
    name: str,
    preferred_code: str,
    rate: str,
    quantity: str,
    unit_price: str,
    *,
    unit: str | None = None,
    spec: str | None = None,
) -> InvoiceLine:
    code, checked_rate = code_for(rate, preferred_code)
    if Decimal(rate) in {Decimal("0.03"), Decimal("0.01")}:
        checked_rate = Decimal(rate)  # 征收率 apply to any taxable code
    qty, price = Decimal(quantity), Decimal(unit_price)
    return InvoiceLine(
        name=name,
        tax_code=code,
        spec=spec,
        unit=unit,
        quantity=qty,
        unit_price=price,
        amount=(qty * price).quantize(Decimal("0.01")),
        tax_rate=checked_rate,
    )


def natural_person() -> Party:
    return Party(name="王小明", natural_person=True, mobile="13812345678", email="wxm@example.com")


def invoice_mix(seller: Party, buyer: Party) -> dict[str, Invoice]:
    """Four everyday invoices, by a stable name."""
    special = Invoice(
        order_id=new_order_id("MIX"),
        kind=InvoiceKind.SPECIAL,
        seller=seller,
        buyer=buyer,
        lines=(
            _line("笔记本电脑", COMPUTER, "0.13", "2", "5999.00", unit="台", spec="X1-2026"),
            _line("技术手册", BOOKS, "0.09", "10", "45.50", unit="册"),
            _line("软件开发服务", SOFTWARE, "0.06", "1", "20000.00", unit="项"),
        ),
        remarks="合同号 HT-2026-017",
        issuer="张三",
        payee="李四",
        reviewer="王五",
    )
    person = Invoice(
        order_id=new_order_id("MIX"),
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=natural_person(),
        lines=(
            _line("餐饮服务", CATERING, "0.06", "1", "388.00", unit="次"),
            _line("住宿服务", LODGING, "0.06", "2", "459.00", unit="晚"),
        ),
        prices_include_tax=True,
        issuer="张三",
    )
    discount_base = _line("台式计算机", COMPUTER, "0.13", "1", "6999.00", unit="台")
    discounted = Invoice(
        order_id=new_order_id("MIX"),
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=buyer,
        lines=(
            discount_base,
            InvoiceLine(
                name=discount_base.name,
                tax_code=discount_base.tax_code,
                amount=Decimal("-700.00"),
                tax_rate=discount_base.tax_rate,
                kind=LineKind.DISCOUNT,
            ),
        ),
        issuer="张三",
    )
    simplified = Invoice(
        order_id=new_order_id("MIX"),
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=buyer,
        lines=(
            _line("税务咨询服务", CONSULTING, "0.03", "1", "1000.00", unit="项"),
            _line("税务咨询服务（减按1%）", CONSULTING, "0.01", "1", "500.00", unit="项"),
        ),
        remarks="小规模纳税人征收率",
        issuer="张三",
    )
    return {
        "special_multi_rate": special,
        "normal_natural_person": person,
        "normal_discount": discounted,
        "normal_simplified_rates": simplified,
    }


def many_lines_invoice(seller: Party, buyer: Party, lines: int) -> Invoice:
    """A 专票 with ``lines`` service lines (providers cap lines per invoice differently)."""
    return Invoice(
        order_id=new_order_id("MANY"),
        kind=InvoiceKind.SPECIAL,
        seller=seller,
        buyer=buyer,
        lines=tuple(
            _line(f"软件维护服务第{i + 1}期", SOFTWARE, "0.06", "1", "10.00", unit="期")
            for i in range(lines)
        ),
        issuer="张三",
    )


def with_new_order_id(invoice: Invoice, prefix: str = "MIX") -> Invoice:
    return invoice.model_copy(update={"order_id": new_order_id(prefix)})


@dataclass(frozen=True)
class BadInput:
    """An invoice that must be refused, and the canonical codes that count as the right
    refusal (an ``INVALID_INVOICE`` carrying the rule's issue code counts as that code)."""

    invoice: Invoice
    expected: frozenset[str]
    title_zh: str
    title_en: str


def bad_inputs(seller: Party, buyer: Party) -> dict[str, BadInput]:
    mix = invoice_mix(seller, buyer)
    special = mix["special_multi_rate"]
    first = special.lines[0]
    return {
        "bad_buyer_tax_id": BadInput(
            special.model_copy(
                update={
                    "order_id": new_order_id("BAD"),
                    "buyer": buyer.model_copy(update={"tax_id": BAD_BUYER_TAX_ID}),
                }
            ),
            frozenset({"INVALID_TAX_ID"}),
            "购方税号校验位错误",
            "buyer tax ID with a wrong check character",
        ),
        "special_to_natural_person": BadInput(
            special.model_copy(update={"order_id": new_order_id("BAD"), "buyer": natural_person()}),
            frozenset({"SPECIAL_NEEDS_ENTITY_BUYER", "INVALID_TAX_ID"}),
            "专票开给自然人",
            "专票 to a natural person",
        ),
        "wrong_rate": BadInput(
            special.model_copy(
                update={
                    "order_id": new_order_id("BAD"),
                    "lines": (first.model_copy(update={"tax_rate": Decimal("0.06")}),),
                }
            ),
            frozenset({"INVALID_INVOICE", "RATE_NOT_ALLOWED"}),
            "税率与编码不符（计算机 6%）",
            "rate not allowed for the code (computer at 6 %)",
        ),
        "zero_amount": BadInput(
            special.model_copy(
                update={
                    "order_id": new_order_id("BAD"),
                    "lines": (
                        first.model_copy(
                            update={"amount": Decimal("0"), "unit_price": Decimal("0")}
                        ),
                    ),
                }
            ),
            frozenset({"INVALID_INVOICE", "ZERO_AMOUNT"}),
            "零金额发票",
            "zero-amount invoice",
        ),
        "over_quota": BadInput(
            special.model_copy(
                update={
                    "order_id": new_order_id("BAD"),
                    "lines": (
                        _line("服务器集群", COMPUTER, "0.13", "1", "20000000.00", unit="套"),
                    ),
                }
            ),
            frozenset({"QUOTA_EXCEEDED"}),
            "超出授信额度",
            "beyond the credit line (授信额度)",
        ),
    }

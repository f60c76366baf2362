"""Realistic canonical invoices for plugin and engine tests, built for any sandbox seller.

Order ids are unique per call (a sandbox may live for a whole test session), amounts are
exact ``Decimal`` strings and every tax ID carries a correct GB 32100 check character, so
the invoices pass ``fapiao.rules`` and a faithful sandbox accepts them.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import lru_cache

from fapiao.models import Invoice, InvoiceKind, InvoiceLine, LineKind, Party

__all__ = [
    "DEFAULT_BUYER",
    "GOODS_CODE",
    "SERVICE_CODE",
    "new_order_id",
    "sample_invoices",
    "service_invoice",
]

SERVICE_CODE = "3040201000000000000"  # 信息技术服务 › 软件服务, 6 %
GOODS_CODE = "1090511030000000000"  # 机械设备类货物, 13 %


@lru_cache(maxsize=8)
def code_for(rate: str, preferred: str) -> tuple[str, Decimal]:
    """A leaf tax code of the packaged table that allows ``rate`` (``preferred`` when it is
    there), and the rate to use with it: samples stay valid whatever table is installed."""
    from fapiao.rules import tax_code_table

    wanted = Decimal(rate)
    table = tax_code_table()
    entry = table.lookup(preferred)
    if entry is not None and not entry.summary and (entry.rates is None or wanted in entry.rates):
        return preferred, wanted
    leaves = [e for e in table if not e.summary]
    for candidate in leaves:
        if candidate.rates is not None and wanted in candidate.rates:
            return candidate.code, wanted
    for candidate in leaves:
        if candidate.rates:
            return candidate.code, max(candidate.rates)
    return preferred, wanted


DEFAULT_BUYER = Party(
    name="上海示例信息技术有限公司",
    tax_id="91310000MA1FL8XQ37",
    address="上海市浦东新区示例路1号",
    phone="021-12345678",
    bank="示例银行上海分行",
    account="31001234567890",
    email="buyer@example.com",
)


def new_order_id(prefix: str = "CONF") -> str:
    """A fresh external order id (≤ 32 characters, letters and digits only)."""
    return f"{prefix}{uuid.uuid4().hex[:20].upper()}"


def service_invoice(
    seller: Party,
    buyer: Party | None = None,
    *,
    kind: InvoiceKind = InvoiceKind.SPECIAL,
    amount: str = "1000.00",
    order_id: str | None = None,
) -> Invoice:
    """One 6 % service line: the smallest realistic 专票."""
    code, rate = code_for("0.06", SERVICE_CODE)
    return Invoice(
        order_id=order_id or new_order_id(),
        kind=kind,
        seller=seller,
        buyer=buyer or DEFAULT_BUYER,
        lines=(
            InvoiceLine(
                name="软件开发服务",
                tax_code=code,
                unit="项",
                quantity=Decimal("1"),
                unit_price=Decimal(amount),
                amount=Decimal(amount),
                tax_rate=rate,
            ),
        ),
        remarks="合同号 HT-2026-001",
        issuer="张三",
    )


def sample_invoices(seller: Party, buyer: Party | None = None) -> list[Invoice]:
    """A 专票 with two lines, a 普票 to a natural person with tax-inclusive prices, and a
    普票 with a discount line."""
    entity = buyer or DEFAULT_BUYER
    service, service_rate = code_for("0.06", SERVICE_CODE)
    goods, goods_rate = code_for("0.13", GOODS_CODE)
    special = Invoice(
        order_id=new_order_id(),
        kind=InvoiceKind.SPECIAL,
        seller=seller,
        buyer=entity,
        lines=(
            InvoiceLine(
                name="软件开发服务",
                tax_code=service,
                unit="项",
                quantity=Decimal("2"),
                unit_price=Decimal("1500.00"),
                amount=Decimal("3000.00"),
                tax_rate=service_rate,
            ),
            InvoiceLine(
                name="数控机床配件",
                tax_code=goods,
                spec="JX-200",
                unit="台",
                quantity=Decimal("3"),
                unit_price=Decimal("333.33"),
                amount=Decimal("999.99"),
                tax_rate=goods_rate,
            ),
        ),
        remarks="项目验收款",
        issuer="张三",
        payee="李四",
        reviewer="王五",
    )
    natural_person = Invoice(
        order_id=new_order_id(),
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=Party(name="王小明", natural_person=True, mobile="13812345678"),
        lines=(
            InvoiceLine(
                name="数控机床配件",
                tax_code=goods,
                unit="台",
                quantity=Decimal("1"),
                unit_price=Decimal("113.00"),
                amount=Decimal("113.00"),
                tax_rate=goods_rate,
            ),
        ),
        prices_include_tax=True,
        issuer="张三",
    )
    discounted = Invoice(
        order_id=new_order_id(),
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=entity,
        lines=(
            InvoiceLine(
                name="软件开发服务",
                tax_code=service,
                unit="项",
                quantity=Decimal("1"),
                unit_price=Decimal("600.00"),
                amount=Decimal("600.00"),
                tax_rate=service_rate,
            ),
            InvoiceLine(
                name="软件开发服务",
                tax_code=service,
                amount=Decimal("-60.00"),
                tax_rate=service_rate,
                kind=LineKind.DISCOUNT,
            ),
        ),
        issuer="张三",
    )
    return [special, natural_person, discounted]

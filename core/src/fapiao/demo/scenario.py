"""The demo's business: realistic invoices of two subsidiaries, as an ERP would hand them over.

Five shapes recur so every rule the engine enforces shows up in a short run: a two-line 专票
at two rates (6 % service + 13 % goods), a 普票 to a natural person (no tax ID) priced
tax-inclusive, a 普票 with a discount line (折扣行), a 专票 at three rates (6 %, 9 %, 13 %)
and a one-line service 普票. Codes are leaves of the packaged national table; amounts vary
with the index and are exact decimals. Order ids carry the run id, so every run's
invoices are new to the providers and re-running the demo never meets its own history.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fapiao.models import Invoice, InvoiceKind, InvoiceLine, LineKind, Party
from fapiao.rules import uscc_check_char

__all__ = ["CATALOG", "Item", "build_invoices", "demo_buyers", "special_two_rate"]


@dataclass(frozen=True)
class Item:
    name: str
    tax_code: str
    rate: Decimal
    unit: str
    unit_price: Decimal
    spec: str | None = None


CATALOG = {
    "software": Item(
        "软件开发服务", "3040201010000000000", Decimal("0.06"), "项", Decimal("12000.00")
    ),
    "maintenance": Item(
        "软件维护服务", "3040201030000000000", Decimal("0.06"), "月", Decimal("3500.00")
    ),
    "meeting": Item("会议服务", "3040304010000000000", Decimal("0.06"), "场", Decimal("8800.00")),
    "computer": Item(
        "电子计算机整机",
        "1090509010000000000",
        Decimal("0.13"),
        "台",
        Decimal("6499.00"),
        "ThinkStation P3",
    ),
    "accessory": Item(
        "其他电子计算机配套产品及耗材",
        "1090512990000000000",
        Decimal("0.13"),
        "件",
        Decimal("129.00"),
        "USB-C 扩展坞",
    ),
    "stationery": Item(
        "纸制文具及用品", "1060105020000000000", Decimal("0.13"), "盒", Decimal("45.50")
    ),
    "books": Item(
        "其他有刊号图书、报纸、期刊类印刷品",
        "1060201019900000000",
        Decimal("0.09"),
        "本",
        Decimal("88.00"),
        "精装",
    ),
}


def _uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def demo_buyers() -> tuple[list[Party], list[Party]]:
    """(entity buyers, natural-person buyers): valid tax IDs, fictitious people."""
    entities = [
        Party(
            name="上海示例信息技术有限公司",
            tax_id="91310000MA1FL8XQ37",
            address="上海市浦东新区示例路1号",
            phone="021-12345678",
            bank="示例银行上海分行",
            account="31001234567890",
            email="ap@example.com",
        ),
        Party(
            name="广州示例贸易有限公司",
            tax_id=_uscc("91440101MA5CXY12A"),
            address="广州市天河区示例大道18号",
            phone="020-87654321",
            bank="示例银行广州分行",
            account="44001234567890",
            email="finance@example.net",
        ),
        Party(
            name="成都示例餐饮管理有限公司",
            tax_id=_uscc("91510100MA6DEM07B"),
            address="成都市锦江区示例街6号",
            phone="028-66668888",
            email="invoice@example.org",
        ),
    ]
    people = [
        Party(name="王小明", natural_person=True, mobile="13812345678"),
        Party(name="李华", natural_person=True, mobile="15900001111", email="lihua@example.com"),
    ]
    return entities, people


def _line(item: Item, quantity: int | Decimal) -> InvoiceLine:
    qty = Decimal(quantity)
    amount = (item.unit_price * qty).quantize(Decimal("0.01"))
    return InvoiceLine(
        name=item.name,
        tax_code=item.tax_code,
        spec=item.spec,
        unit=item.unit,
        quantity=qty,
        unit_price=item.unit_price,
        amount=amount,
        tax_rate=item.rate,
    )


def special_two_rate(order_id: str, seller: Party, buyer: Party, i: int) -> Invoice:
    """专票: a service at 6 % and computers at 13 % (the one the demo partly reverses)."""
    return Invoice(
        order_id=order_id,
        kind=InvoiceKind.SPECIAL,
        seller=seller,
        buyer=buyer,
        lines=(_line(CATALOG["software"], 1 + i % 3), _line(CATALOG["computer"], 2 + i % 4)),
        remarks=f"合同号 HT-2026-{100 + i:04d}",
        issuer="张三",
        payee="李四",
        reviewer="王五",
    )


def _natural_person(order_id: str, seller: Party, buyer: Party, i: int) -> Invoice:
    item = CATALOG["accessory"]
    gross = (item.unit_price * (1 + i % 5)).quantize(Decimal("0.01"))
    return Invoice(
        order_id=order_id,
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=buyer,
        prices_include_tax=True,
        lines=(
            InvoiceLine(
                name=item.name,
                tax_code=item.tax_code,
                spec=item.spec,
                unit=item.unit,
                quantity=Decimal(1 + i % 5),
                unit_price=item.unit_price,
                amount=gross,
                tax_rate=item.rate,
            ),
        ),
        remarks="电商订单，含税价",
        issuer="张三",
    )


def _discounted(order_id: str, seller: Party, buyer: Party, i: int) -> Invoice:
    books = _line(CATALOG["books"], 10 + i % 20)
    discount = (books.amount * Decimal("0.10")).quantize(Decimal("0.01"))
    return Invoice(
        order_id=order_id,
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=buyer,
        lines=(
            books,
            InvoiceLine(
                name=books.name,
                tax_code=books.tax_code,
                amount=-discount,
                tax_rate=books.tax_rate,
                kind=LineKind.DISCOUNT,
            ),
        ),
        remarks="团购九折",
        issuer="张三",
    )


def _three_rates(order_id: str, seller: Party, buyer: Party, i: int) -> Invoice:
    return Invoice(
        order_id=order_id,
        kind=InvoiceKind.SPECIAL,
        seller=seller,
        buyer=buyer,
        lines=(
            _line(CATALOG["meeting"], 1),
            _line(CATALOG["books"], 5 + i % 10),
            _line(CATALOG["stationery"], 20 + i % 30),
        ),
        remarks="年度技术大会",
        issuer="张三",
        payee="李四",
    )


def _service(order_id: str, seller: Party, buyer: Party, i: int) -> Invoice:
    return Invoice(
        order_id=order_id,
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=buyer,
        lines=(_line(CATALOG["maintenance"], 1 + i % 12),),
        issuer="张三",
    )


def build_invoices(run_id: str, sellers: list[Party], n: int) -> list[Invoice]:
    """``n`` invoices spread over ``sellers`` in turn (each seller gets every shape once
    before any repeats, given at least five per seller)."""
    entities, people = demo_buyers()
    invoices = []
    for i in range(n):
        seller = sellers[i % len(sellers)]
        shape = (i // len(sellers)) % 5
        order_id = f"DEMO-{run_id}-{i + 1:05d}"
        entity = entities[i % len(entities)]
        if shape == 0:
            invoices.append(special_two_rate(order_id, seller, entity, i))
        elif shape == 1:
            invoices.append(_natural_person(order_id, seller, people[i % len(people)], i))
        elif shape == 2:
            invoices.append(_discounted(order_id, seller, entity, i))
        elif shape == 3:
            invoices.append(_three_rates(order_id, seller, entity, i))
        else:
            invoices.append(_service(order_id, seller, entity, i))
    return invoices

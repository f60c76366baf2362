"""Realistic YonBIP sales invoices and sales orders for the simulator.

Shapes follow the 销售发票详情查询 / 销售订单 API examples (field names, codes such as
``TI…``/``UO-…``, ``pubts`` as ``yyyy-MM-dd HH:mm:ss``, amounts as JSON numbers with 含税
``oriSum`` exact to the cent and 无税 ``oriMoney`` to up to 8 decimals as YonBIP computes it).
The set deliberately includes the bad inputs a sync must report and skip: a USD invoice, an
unmapped product, a 专票 whose buyer has no tax number, an unaudited and an already-invoiced
document, and one invoiced before fapiao (a red invoice against an issued blue one is made on demand
by ``red_invoice_for``, as YonBIP does once the blue carries its tax number).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "BUYERS",
    "PRODUCTS",
    "PRODUCT_TAX_CODES",
    "SELLER_ORGS",
    "Product",
    "red_invoice_for",
    "sample_invoices",
    "sample_orders",
]

EIGHT = Decimal("0.00000001")
CENT = Decimal("0.01")

SELLER_ORGS: dict[str, dict[str, str]] = {
    "1001": {
        "name": "上海云杉商贸有限公司",
        "tax_id": "91310115MA1K4A2B3A",
        "address": "上海市浦东新区张江路 188 号",
        "phone": "021-50801234",
        "bank": "中国工商银行上海张江支行",
        "account": "1001244309000123456",
    },
    "1002": {
        "name": "北京青松科技有限公司",
        "tax_id": "91110108MA01C3D4EQ",
        "address": "北京市海淀区中关村大街 27 号",
        "phone": "010-62512345",
        "bank": "招商银行北京中关村支行",
        "account": "110906543210801",
    },
}

BUYERS: dict[str, dict[str, Any]] = {
    "hz": {
        "agentId": 2667631127433984,
        "invAgentName": "杭州西湖数码有限公司",
        "invAgentTaxNo": "91330106MA2J9K1L2D",
        "invAgentAdress": "浙江省杭州市西湖区文三路 90 号",
        "invAgentTel": "0571-88886666",
        "invAgentBank": "招商银行",
        "invAgentSubBank": "招商银行杭州高新支行",
        "invAgentBankNo": "571908765410201",
        "receievInvoiceEmail": "finance@xihu-digital.example.cn",
    },
    "sz": {
        "agentId": 2667631127433985,
        "invAgentName": "深圳南山电子有限公司",
        "invAgentTaxNo": "91440300MA5F6G7H8B",
        "invAgentAdress": "广东省深圳市南山区科技园南区 8 栋",
        "invAgentTel": "0755-26001234",
        "invAgentBank": "中国银行",
        "invAgentSubBank": "中国银行深圳南山支行",
        "invAgentBankNo": "745773421234",
    },
    "su": {
        "agentId": 2667631127433986,
        "invAgentName": "苏州工业园区精工机械有限公司",
        "invAgentTaxNo": "91320594MA1M2N3P42",
        "invAgentAdress": "江苏省苏州市工业园区星湖街 328 号",
        "invAgentTel": "0512-62881234",
    },
    "person": {
        "agentId": 2667631127433987,
        "invAgentName": "张伟",
        "invoiceTitleType": 1,
        "retailInvestors": True,
        "retailAgentName": "张伟",
        "receievInvoiceMobile": "13812345678",
    },
    "no_tax_no": {
        "agentId": 2667631127433988,
        "invAgentName": "成都锦江餐饮管理有限公司",
        "invAgentTaxNo": "",
    },
}


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    spec: str
    unit: str
    tax_rate: int  # percent, as YonBIP carries it
    tax_items: str


PRODUCTS: dict[str, Product] = {
    p.code: p
    for p in (
        Product("0101001", "笔记本电脑", "ThinkBook 14 G6", "台", 13, "13%"),
        Product("0101002", "液晶显示器", "27 英寸 4K", "台", 13, "13%"),
        Product("0203001", "大米", "5kg/袋", "袋", 9, "9%"),
        Product("0305001", "软件维护服务", "年度", "项", 6, "6%"),
        Product("0401001", "有机白菜", "自产", "千克", 0, "免税"),
        Product("0909999", "样品配件", "", "件", 13, "13%"),  # deliberately unmapped
    )
}

# productCode -> 19-digit 税收分类编码 (what a tenant supplies as its mapping table), all leaf codes
# of the national table: 电子计算机整机, 终端显示设备, 大米, 信息系统服务, 白菜类蔬菜 (自产农产品,
# 免税); 0909999 is left out on purpose.
PRODUCT_TAX_CODES: dict[str, str] = {
    "0101001": "1090509010000000000",
    "0101002": "1090511010000000000",
    "0203001": "1030102010100000000",
    "0305001": "3040203000000000000",
    "0401001": "1010112040000000000",
}


def _line(product: Product, qty: int, gross_price: str, lineno: int, mainid: int) -> dict[str, Any]:
    price = Decimal(gross_price)
    quantity = Decimal(qty)
    gross = (price * quantity).quantize(CENT, ROUND_HALF_UP)
    rate = Decimal(product.tax_rate) / 100
    net = (gross / (1 + rate)).quantize(EIGHT, ROUND_HALF_UP)
    return {
        "id": mainid * 10 + lineno // 10,
        "mainid": mainid,
        "lineno": lineno,
        "productCode": product.code,
        "productName": product.name,
        "skuCode": product.code,
        "skuName": product.name,
        "speciDes": product.spec,
        "specDescription": product.spec,
        "unitName": product.unit,
        "productUnitName": product.unit,
        "chargeUnitName": product.unit,
        "qty": quantity,
        "priceQty": quantity,
        "oriTaxUnitPrice": price,
        "oriUnitPrice": (price / (1 + rate)).quantize(EIGHT, ROUND_HALF_UP),
        "oriSum": gross,
        "oriMoney": net,
        "oriTax": gross - net,
        "natSum": gross,
        "natMoney": net,
        "natTax": gross - net,
        "taxRate": Decimal(product.tax_rate),
        "taxItems": product.tax_items,
        "taxCode": f"VAT{product.tax_rate}" if product.tax_rate else "VAT0",
        "invProductType": "SALE",
    }


def _totals(lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    keys = ("oriSum", "oriMoney", "oriTax")
    totals = {k: sum((line[k] for line in lines), Decimal(0)) for k in keys}
    return {**totals, "natSum": totals["oriSum"], "natMoney": totals["oriMoney"], "natTax": totals["oriTax"]}


def _pubts(base: datetime, minutes: int) -> str:
    return (base + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")


def sample_invoices(base: datetime) -> list[dict[str, Any]]:
    """Sales invoices (销售发票详情 shape), oldest ``pubts`` first."""
    p = PRODUCTS
    specs: list[dict[str, Any]] = [
        # code suffix, org, buyer, invoiceType, lines, extra
        {"n": 1, "org": "1001", "buyer": "hz", "type": 11, "lines": [(p["0101001"], 2, "5999.00"), (p["0101002"], 2, "1899.00")]},
        {"n": 2, "org": "1001", "buyer": "sz", "type": 10, "lines": [(p["0101001"], 5, "5899.00"), (p["0203001"], 20, "45.90")]},
        {"n": 3, "org": "1002", "buyer": "su", "type": 10, "lines": [(p["0305001"], 1, "36000.00")]},
        {"n": 4, "org": "1001", "buyer": "person", "type": 11, "lines": [(p["0101002"], 1, "1999.00")]},
        {"n": 5, "org": "1001", "buyer": "hz", "type": 11, "lines": [(p["0101001"], 1, "899.00")], "currency": "USD"},
        {"n": 6, "org": "1001", "buyer": "sz", "type": 11, "lines": [(p["0909999"], 3, "120.00")]},
        {"n": 7, "org": "1002", "buyer": "no_tax_no", "type": 10, "lines": [(p["0305001"], 1, "8800.00")]},
        {"n": 8, "org": "1002", "buyer": "hz", "type": 11, "lines": [(p["0401001"], 10, "68.00"), (p["0305001"], 1, "1200.00")]},
        {"n": 9, "org": "1001", "buyer": "su", "type": 11, "lines": [(p["0203001"], 40, "45.90")], "status": 0},
        {"n": 10, "org": "1001", "buyer": "hz", "type": 10, "lines": [(p["0101001"], 3, "5999.00"), (p["0101002"], 3, "1899.00")], "issued": "24312000000000000101"},
        {"n": 11, "org": "1002", "buyer": "su", "type": 10, "lines": [(p["0305001"], 2, "9800.00")]},
        {"n": 12, "org": "1001", "buyer": "sz", "type": 11, "lines": [(p["0203001"], 100, "44.50")]},
    ]
    return [_invoice(base, index * 7, spec) for index, spec in enumerate(specs)]


def _invoice(base: datetime, minutes: int, spec: dict[str, Any]) -> dict[str, Any]:
    doc_id = 2731292453179900 + spec["n"] * 16
    org = SELLER_ORGS[spec["org"]]
    lines = [
        _line(product, qty, price, (i + 1) * 10, doc_id)
        for i, (product, qty, price) in enumerate(spec["lines"])
    ]
    vouchdate = (base + timedelta(minutes=minutes)).strftime("%Y-%m-%d 00:00:00")
    currency = spec.get("currency", "CNY")
    issued = spec.get("issued")
    doc: dict[str, Any] = {
        "id": doc_id,
        "code": f"TI{spec['org']}{base:%y%m%d}{spec['n']:06d}",
        "vouchdate": vouchdate,
        "pubts": _pubts(base, minutes),
        "createTime": _pubts(base, minutes - 1),
        "orgId": spec["org"],
        "orgName": org["name"],
        "transactionTypeId": "2364609089278215",
        "transactionTypeId_name": "销售发票",
        "status": spec.get("status", 1),
        "verifystate": 2 if spec.get("status", 1) == 1 else 0,
        "invDirection": 2,
        "invoiceType": spec["type"],
        "invoiceTitleType": 0,
        "currency_code": currency,
        "currency_name": "人民币" if currency == "CNY" else "美元",
        "natCurrency_code": "CNY",
        "exchRate": Decimal(1) if currency == "CNY" else Decimal("7.1234"),
        "taxBillingStatus": 2 if issued else 1,
        "businessState": 2 if issued else 1,
        "einvoiceHm": issued or "",
        "blueEinvoiceKprq": _pubts(base, minutes + 3) if issued else "",
        "isIssueRedInvoice": False,
        "memo": f"合同号 HT-{base:%Y}-{spec['n']:04d}",
        "creator": "王芳",
        "saleInvoiceDetails": lines,
        **BUYERS[spec["buyer"]],
        **_totals(lines),
    }
    doc.setdefault("agentName", doc["invAgentName"])
    return doc


def red_invoice_for(blue: dict[str, Any], pubts: str, *, serial: int = 99) -> dict[str, Any]:
    """A red sales invoice (销货退回) of one unit of an issued blue invoice's first line, as
    YonBIP creates it once the blue one carries its tax invoice number (``einvoiceHm``)."""
    doc_id = 2731292453179900 + serial * 16
    blue_line = blue["saleInvoiceDetails"][0]
    product = PRODUCTS[blue_line["productCode"]]
    line = _line(product, 1, str(blue_line["oriTaxUnitPrice"]), 10, doc_id)
    for key in ("qty", "priceQty", "oriSum", "oriMoney", "oriTax", "natSum", "natMoney", "natTax"):
        line[key] = -line[key]
    line["blueInvlineno"] = str(blue_line["lineno"])
    red = {
        key: value
        for key, value in blue.items()
        if key not in {"saleInvoiceDetails", "einvoiceHm", "blueEinvoiceKprq"}
    }
    red.update(
        {
            "id": doc_id,
            "code": f"{blue['code'][:-6]}{serial:06d}",
            "pubts": pubts,
            "invDirection": 1,
            "redType": "2",
            "blueInvId": blue["id"],
            "blueInvNo": blue["code"],
            "blueEinvoiceHm": blue["einvoiceHm"],
            "taxBillingStatus": 1,
            "businessState": 1,
            "einvoiceHm": "",
            "memo": f"退货，原发票 {blue['einvoiceHm']}",
            "saleInvoiceDetails": [line],
            **_totals([line]),
        }
    )
    return red


def sample_orders(base: datetime) -> list[dict[str, Any]]:
    """Sales orders (销售订单详情 shape, invoice title in ``orderInvoice``), oldest first."""
    p = PRODUCTS
    specs = [
        (1, "1001", "hz", 11, [(p["0101002"], 4, "1899.00")]),
        (2, "1002", "su", 10, [(p["0305001"], 1, "12000.00"), (p["0401001"], 5, "88.00")]),
        (3, "1001", "person", 11, [(p["0203001"], 2, "45.90")]),
    ]
    orders: list[dict[str, Any]] = []
    for index, (n, org_id, buyer_key, invoice_type, items) in enumerate(specs):
        order_id = 2731291792790272 + n * 16
        buyer = BUYERS[buyer_key]
        lines = [
            _line(product, qty, price, (i + 1) * 10, order_id)
            for i, (product, qty, price) in enumerate(items)
        ]
        minutes = index * 11 + 3
        orders.append(
            {
                "id": order_id,
                "code": f"UO-{org_id}{base:%Y%m%d}{n:06d}",
                "vouchdate": (base + timedelta(minutes=minutes)).strftime("%Y-%m-%d 00:00:00"),
                "pubts": _pubts(base, minutes),
                "salesOrgId": org_id,
                "salesOrgId_name": SELLER_ORGS[org_id]["name"],
                "settlementOrgId": org_id,
                "agentId": buyer["agentId"],
                "agentId_name": buyer["invAgentName"],
                "status": 1,
                "nextStatus": "ENDORDER",
                "taxBillingStatus": 1,
                "einvoiceHm": "",
                "receievInvoiceMobile": buyer.get("receievInvoiceMobile", ""),
                "receievInvoiceEmail": buyer.get("receievInvoiceEmail", ""),
                "orderPrices": {"originalCode": "CNY", "originalName": "人民币", "domesticCode": "CNY", "exchRate": Decimal(1)},
                "orderInvoice": {
                    "invoiceTitle": buyer["invAgentName"],
                    "invoiceTitleType": buyer.get("invoiceTitleType", 0),
                    "invoiceType": invoice_type,
                    "taxNum": buyer.get("invAgentTaxNo", ""),
                    "address": buyer.get("invAgentAdress", ""),
                    "telephone": buyer.get("invAgentTel", ""),
                    "bankName": buyer.get("invAgentSubBank", ""),
                    "bankAccount": buyer.get("invAgentBankNo", ""),
                },
                "memo": f"电商订单 {n}",
                "orderDetails": lines,
                "totalMoney": sum((line["oriSum"] for line in lines), Decimal(0)),
            }
        )
    return orders

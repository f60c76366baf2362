"""Build ``shop.db``: a small SQLite web-shop database for the ``custom`` connector example.

Prices are kept the way many shops keep them: integer fen (分), tax-inclusive. The mapping
(``shop_mapping.toml``) turns them into 含税 yuan with an expression. A few orders are wrong on
purpose — a product without a tax classification code, a 专票 for a customer without a tax
ID — so ``fapiao sync`` shows how bad rows are reported and skipped.

    python examples/shop/build_shop_db.py [path]      # default: examples/shop/shop.db
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    tax_id TEXT,
    is_company INTEGER NOT NULL DEFAULT 1,
    address TEXT, phone TEXT, bank TEXT, account TEXT,
    email TEXT, mobile TEXT
);
CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    spec TEXT,
    unit TEXT,
    tax_code TEXT,              -- 19-digit 税收分类编码 (NULL: not classified yet)
    tax_rate_pct INTEGER NOT NULL
);
CREATE TABLE orders (
    id TEXT PRIMARY KEY,        -- the shop's order number: the invoice idempotency key
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    invoice_kind TEXT NOT NULL, -- normal (普票) | special (专票)
    status TEXT NOT NULL,       -- paid | cancelled
    remark TEXT,
    updated_at TEXT NOT NULL,
    invoice_status TEXT,        -- written back by fapiao: issued | failed
    invoice_number TEXT,
    invoice_issued_at TEXT,
    invoice_pdf_url TEXT,
    invoice_error TEXT
);
CREATE TABLE order_items (
    order_id TEXT NOT NULL REFERENCES orders(id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL REFERENCES products(sku),
    qty INTEGER NOT NULL,
    price_fen INTEGER NOT NULL, -- tax-inclusive unit price in fen
    PRIMARY KEY (order_id, line_no)
);
"""

CUSTOMERS = [
    (1, "杭州西湖数码有限公司", "91330106MA2J9K1L2D", 1, "浙江省杭州市西湖区文三路 90 号", "0571-88886666",
     "招商银行杭州高新支行", "571908765410201", "finance@xihu-digital.example.cn", None),
    (2, "苏州工业园区精工机械有限公司", "91320594MA1M2N3P42", 1, "江苏省苏州市工业园区星湖街 328 号",
     "0512-62881234", None, None, None, None),
    (3, "李雷", None, 0, None, None, None, None, "lilei@example.cn", "13912345678"),
    (4, "成都锦江餐饮管理有限公司", None, 1, None, None, None, None, None, None),
]

PRODUCTS = [
    ("NB-14", "笔记本电脑", "14 英寸 16G/512G", "台", "1090509010000000000", 13),
    ("MON-27", "液晶显示器", "27 英寸 4K", "台", "1090511010000000000", 13),
    ("RICE-5", "东北大米", "5kg/袋", "袋", "1030102010100000000", 9),
    ("TEA-250", "西湖龙井", "250g/罐", "罐", "1030308010000000000", 13),
    ("GIFT-01", "定制礼盒", "", "个", None, 13),  # not classified yet: its orders are skipped
]

ORDERS = [
    ("SO-20250303-0001", 1, "normal", "paid", "网店订单", "2025-03-03 10:00:00", [("NB-14", 1, 599900), ("MON-27", 2, 189900)]),
    ("SO-20250303-0002", 2, "special", "paid", None, "2025-03-03 10:05:00", [("NB-14", 3, 579900)]),
    ("SO-20250303-0003", 3, "normal", "paid", "个人消费者", "2025-03-03 10:07:00", [("RICE-5", 4, 4590), ("TEA-250", 1, 36800)]),
    ("SO-20250303-0004", 1, "normal", "paid", None, "2025-03-03 10:09:00", [("GIFT-01", 10, 8800)]),
    ("SO-20250303-0005", 4, "special", "paid", None, "2025-03-03 10:12:00", [("TEA-250", 5, 36800)]),
    ("SO-20250303-0006", 2, "normal", "cancelled", None, "2025-03-03 10:15:00", [("MON-27", 1, 189900)]),
    ("SO-20250303-0007", 3, "normal", "paid", None, "2025-03-03 10:20:00", [("MON-27", 1, 199900)]),
]


def build(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?)", CUSTOMERS)
        db.executemany("INSERT INTO products VALUES (?,?,?,?,?,?)", PRODUCTS)
        for order_id, customer, kind, status, remark, updated, items in ORDERS:
            db.execute(
                "INSERT INTO orders (id, customer_id, invoice_kind, status, remark, updated_at)"
                " VALUES (?,?,?,?,?,?)",
                (order_id, customer, kind, status, remark, updated),
            )
            db.executemany(
                "INSERT INTO order_items VALUES (?,?,?,?,?)",
                [(order_id, n + 1, sku, qty, fen) for n, (sku, qty, fen) in enumerate(items)],
            )
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("shop.db")
    print(build(target))

"""The custom connector over CSV, JSON Lines and SQL sources, with its write-back targets."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from fapiao.connectors.custom import CustomConnector, CustomSettings, load_mapping
from fapiao.contract import Connector, WriteBack
from fapiao.errors import ConfigError, InvalidInvoice
from fapiao.models import InvoiceKind, InvoiceState

SELLER = """
[seller]
name = { const = "上海云杉商贸有限公司" }
tax_id = { const = "91310115MA1K4A2B3A" }
"""

CSV_MAPPING = """
[source]
kind = "csv"
path = "orders.csv"
id = "order_no"
changed_at = "paid_at"
pending = "status == 'paid'"

[invoice]
order_id = "order_no"
kind = "'special' if upper(fapiao_type) == '专票' else 'normal'"
prices_include_tax = true
""" + SELLER + """
[buyer]
name = "buyer"
tax_id = "buyer_tax_id"
natural_person = "empty(buyer_tax_id)"

[lines]
name = "item"
tax_code = "tax_code"
quantity = "qty"
unit_price = "price"
amount = "qty * price"
tax_rate = "percent(rate)"

[writeback]
kind = "jsonl"
path = "results.jsonl"

[writeback.columns]
status = "state"
number = "invoice_number"
pdf = "document_urls.pdf"
"""

CSV_ROWS = """order_no,paid_at,status,fapiao_type,buyer,buyer_tax_id,item,tax_code,qty,price,rate
A-1,2025-03-01 10:00,paid,普票,李雷,,大米,1030102010100000000,2,45.90,9
A-2,2025-03-01 11:00,paid,专票,杭州西湖数码有限公司,91330106MA2J9K1L2D,显示器,1090511010000000000,1,1899.00,13
A-2,2025-03-01 11:00,paid,专票,杭州西湖数码有限公司,91330106MA2J9K1L2D,电脑,1090509010000000000,1,5999.00,13
A-3,2025-03-01 12:00,cancelled,普票,韩梅梅,,大米,1030102010100000000,1,45.90,9
A-4,2025-03-01 13:00,paid,普票,韩梅梅,,礼盒,,1,88.00,13
"""


def _write(tmp_path: Path, mapping: str, data_name: str | None = None, data: str = "") -> Path:
    if data_name:
        (tmp_path / data_name).write_text(data, encoding="utf-8")
    path = tmp_path / "mapping.toml"
    path.write_text(mapping, encoding="utf-8")
    return path


async def _docs(conn: CustomConnector, cursor: str | None = None) -> list:
    return [d async for d in conn.pending(cursor)]


async def test_csv_rows_grouped_into_documents_and_mapped(tmp_path: Path) -> None:
    conn = CustomConnector(CustomSettings(mapping=_write(tmp_path, CSV_MAPPING, "orders.csv", CSV_ROWS)))
    assert isinstance(conn, Connector)
    docs = await _docs(conn)
    assert [d.id for d in docs] == ["A-1", "A-2", "A-4"]  # A-3 is not pending
    two = conn.map(docs[1]).invoice
    assert two is not None
    assert two.kind is InvoiceKind.SPECIAL and len(two.lines) == 2
    assert two.lines[1].amount == Decimal("5999.00")
    one = conn.map(docs[0]).invoice
    assert one is not None and one.buyer.natural_person and one.lines[0].amount == Decimal("91.80")
    with pytest.raises(InvalidInvoice) as info:
        conn.map(docs[2])
    issue = info.value.issues[0]
    assert issue.path == "document A-4 / lines[0].tax_code ← tax_code"
    assert issue.code == "MISSING_FIELD"
    assert [d.id for d in await _docs(conn, docs[0].cursor)] == ["A-2", "A-4"]


async def test_file_write_back_is_idempotent(tmp_path: Path) -> None:
    conn = CustomConnector(CustomSettings(mapping=_write(tmp_path, CSV_MAPPING, "orders.csv", CSV_ROWS)))
    outcome = WriteBack(
        source_id="A-1",
        order_id="A-1",
        state=InvoiceState.ISSUED,
        invoice_number="25312000000000000001",
        document_urls={"pdf": "https://example.cn/a.pdf"},
    )
    await conn.write_back(outcome)
    await conn.write_back(outcome)
    fresh = CustomConnector(CustomSettings(mapping=tmp_path / "mapping.toml"))
    await fresh.write_back(outcome)  # a new process: it reads what is there first
    lines = (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == [
        {"source_id": "A-1", "status": "issued", "number": "25312000000000000001", "pdf": "https://example.cn/a.pdf"}
    ]


async def test_jsonl_documents_with_nested_lines(tmp_path: Path) -> None:
    mapping = CSV_MAPPING.replace('kind = "csv"\npath = "orders.csv"', 'kind = "jsonl"\npath = "orders.jsonl"\nlines = "items"')
    mapping = mapping.replace('item"', 'name"').replace('pending = "status == \'paid\'"\n', "")
    rows = [
        {"order_no": "J-1", "paid_at": "2025-03-02", "fapiao_type": "普票", "buyer": "李雷", "buyer_tax_id": None,
         "items": [{"name": "大米", "tax_code": "1030102010100000000", "qty": 2, "price": "45.90", "rate": 9}]},
    ]
    conn = CustomConnector(
        CustomSettings(mapping=_write(tmp_path, mapping, "orders.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)))
    )
    docs = await _docs(conn)
    invoice = conn.map(docs[0]).invoice
    assert invoice is not None and invoice.lines[0].name == "大米" and invoice.lines[0].amount == Decimal("91.80")


SQL_MAPPING = """
[source]
kind = "sql"
url = "sqlite:///shop.db"
table = "sales"
id = "doc"
changed_at = "changed"
line_order = "line"

[invoice]
order_id = "doc"
kind = { const = "normal" }
""" + SELLER + """
[buyer]
name = "buyer"
natural_person = true

[lines]
name = { const = "大米" }
tax_code = { const = "1030102010100000000" }
amount = "gross_fen / 100"
tax_rate = "0.09"

[writeback]
kind = "table"
table = "sales"
key = "doc"

[writeback.columns]
invoice_number = "invoice_number"
invoice_state = "state"
"""


def _sales_db(path: Path, documents: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE sales (doc INTEGER, line INTEGER, changed TEXT, buyer TEXT, gross_fen INTEGER,"
            " invoice_number TEXT, invoice_state TEXT)"
        )
        for n in range(1, documents + 1):
            for line in (1, 2):
                db.execute(
                    "INSERT INTO sales VALUES (?,?,?,?,?,NULL,NULL)",
                    (n, line, f"2025-03-01 10:{n // 3:02d}", f"客户{n}", 1000 * n + line),
                )


async def test_sql_keyset_pages_survive_write_back_during_iteration(tmp_path: Path) -> None:
    _sales_db(tmp_path / "shop.db", 7)
    mapping = SQL_MAPPING.replace('table = "sales"\nid', 'query = "SELECT * FROM sales WHERE invoice_state IS NULL"\nid')
    conn = CustomConnector(CustomSettings(mapping=_write(tmp_path, mapping), page_size=2))
    seen = []
    async for doc in conn.pending(None):
        seen.append(doc.id)
        invoice = conn.map(doc).invoice
        assert invoice is not None and len(invoice.lines) == 2
        # writing back removes the row from the source query while we iterate
        await conn.write_back(
            WriteBack(source_id=doc.id, order_id=doc.id, state=InvoiceState.ISSUED, invoice_number=f"2531{int(doc.id):016d}")
        )
    assert seen == [str(n) for n in range(1, 8)]
    with sqlite3.connect(tmp_path / "shop.db") as db:
        states = db.execute("SELECT DISTINCT invoice_state FROM sales").fetchall()
        number = db.execute("SELECT invoice_number FROM sales WHERE doc = 3").fetchone()[0]
    assert states == [("issued",)]
    assert number == "25310000000000000003"
    await conn.aclose()


async def test_sql_cursor_resumes_with_integer_ids(tmp_path: Path) -> None:
    _sales_db(tmp_path / "shop.db", 5)
    conn = CustomConnector(CustomSettings(mapping=_write(tmp_path, SQL_MAPPING), page_size=2))
    docs = [d async for d in conn.pending(None)]
    assert [d.id for d in docs] == ["1", "2", "3", "4", "5"]
    assert [d.id async for d in conn.pending(docs[2].cursor)] == ["4", "5"]
    with pytest.raises(Exception, match="matched no row"):
        await conn.write_back(WriteBack(source_id="99", order_id="99", state=InvoiceState.ISSUED))
    await conn.aclose()


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda m: m.replace('amount = "gross_fen / 100"', 'amount = "gross_fen.__class__"'), "lines.amount"),
        (lambda m: m.replace('tax_rate = "0.09"', "tax_rate = 0.09"), "lines.tax_rate"),
        (lambda m: m.replace('order_id = "doc"', ""), "invoice.order_id"),
        (lambda m: m.replace('key = "doc"', ""), "writeback"),
        (lambda m: m + "\n[extra]\nx = 1\n", "extra"),
        (lambda m: m.replace('kind = "sql"', 'kind = "excel"'), "source.kind"),
    ],
)
def test_mapping_problems_name_the_file_and_key(tmp_path: Path, edit, needle: str) -> None:
    path = _write(tmp_path, edit(SQL_MAPPING))
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)

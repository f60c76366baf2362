"""Rendered invoice files: each format passes verification, carries the invoice's content,
is reproducible, and handles red invoices, long invoices and hostile text."""

from __future__ import annotations

import contextlib
import io
import re
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib
from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from fapiao.documents import verify_document
from fapiao.models import DocumentFormat, InvoiceKind, Party, TaxTreatment
from fapiao.rules.arithmetic import compute_totals
from fapiao.sandboxkit import (
    DocumentLine,
    DocumentParty,
    InvoiceDocumentData,
    document_data_from_invoice,
    rate_label,
    render,
    render_ofd,
    render_pdf,
    render_xml,
)
from fapiao.testing.samples import sample_invoices

OFD = "{http://www.ofdspec.org/2016}"
NUMBER = "26310000000000012345"
SELLER = Party(name="北京示例科技有限公司", tax_id="91110108MA01AB2C3X")


def data(n_lines: int = 2, *, red: bool = False, **changes: object) -> InvoiceDocumentData:
    sign = Decimal(-1) if red else Decimal(1)
    rows = tuple(
        DocumentLine(
            name=f"*信息技术服务*软件维护服务费{i}",
            tax_code="3040201000000000000",
            spec="V1",
            unit="项",
            quantity=Decimal("2") * sign,
            unit_price=Decimal("500"),
            amount=Decimal("1000.00") * sign,
            tax_rate=Decimal("0.06"),
            rate_label="6%",
            tax=Decimal("60.00") * sign,
        )
        for i in range(n_lines)
    )
    values: dict[str, object] = {
        "invoice_number": NUMBER,
        "issued_at": datetime(2026, 5, 6, 10, 11, 12),
        "kind": InvoiceKind.SPECIAL,
        "is_red": red,
        "original_invoice_number": "26310000000000012000" if red else None,
        "red_confirmation_number": "3100002605060000001" if red else None,
        "seller": DocumentParty(name="上海示例科技有限公司", tax_id="91310000MA1FL8XQ30"),
        "buyer": DocumentParty(name="北京某某贸易有限公司", tax_id="911101087109234567"),
        "lines": rows,
        "total_amount": Decimal("1000.00") * n_lines * sign,
        "total_tax": Decimal("60.00") * n_lines * sign,
        "total_with_tax": Decimal("1060.00") * n_lines * sign,
        "amount_in_words": ("（负数）" if red else "") + "贰仟壹佰贰拾圆整",
        "remarks": "合同号 HT-2026-001",
        "issuer": "张三",
    }
    values.update(changes)
    return InvoiceDocumentData.model_validate(values)


def ofd_texts(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        pages = sorted(n for n in archive.namelist() if n.endswith("Content.xml"))
        return [
            "".join(t.text or "" for t in ET.fromstring(archive.read(p)).iter(f"{OFD}TextCode"))
            for p in pages
        ]


def pdf_page_count(content: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", content))


@pytest.mark.parametrize("fmt", list(DocumentFormat))
@pytest.mark.parametrize("red", [False, True])
def test_every_format_verifies_and_is_reproducible(fmt: DocumentFormat, red: bool) -> None:
    d = data(red=red)
    content = render(d, fmt)
    verify_document(fmt, content, invoice_number=NUMBER)
    assert render(d, fmt.value) == content  # same invoice, same bytes, same sha256


def test_pdf_uses_the_cjk_font_and_paginates_long_invoices() -> None:
    one = render_pdf(data(3))
    assert one.startswith(b"%PDF-1.")
    assert b"/STSong-Light" in one and b"/UniGB-UCS2-H" in one
    assert pdf_page_count(one) == 1
    assert pdf_page_count(render_pdf(data(17))) == 3  # 8 lines per page


def _pdf_strings(content: bytes) -> list[bytes]:
    """The string operands of every Tj in the (FlateDecode) page streams, unescaped."""
    streams = b""
    for match in re.finditer(rb"stream\r?\n", content):
        with contextlib.suppress(zlib.error):
            streams += zlib.decompressobj().decompress(content[match.end() :])
    strings = []
    for raw in re.findall(rb"\(((?:[^\\)]|\\.)*)\) Tj", streams, re.S):
        unescaped = re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit() else m.group(1),
            raw,
        )
        strings.append(unescaped)
    return strings


def test_pdf_draws_the_numbers_and_chinese_labels() -> None:
    strings = _pdf_strings(render_pdf(data(1)))
    assert NUMBER.encode() in strings  # Helvetica text: plain bytes
    # CJK text is drawn as UCS-2 big-endian code units (UniGB-UCS2-H encoding)
    assert "价税合计（大写）".encode("utf-16-be") in strings
    assert "北京某某贸易有限公司".encode("utf-16-be") in strings
    assert "¥1060.00".encode("cp1252") in strings


def test_ofd_package_structure_and_content() -> None:
    content = render_ofd(data(2))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = set(archive.namelist())
        assert {
            "OFD.xml",
            "Doc_0/Document.xml",
            "Doc_0/PublicRes.xml",
            "Doc_0/Pages/Page_0/Content.xml",
            "Doc_0/Attachs/original_invoice.xml",
        } <= names
        entry = ET.fromstring(archive.read("OFD.xml"))
        assert entry.findtext(f"{OFD}DocBody/{OFD}DocRoot") == "Doc_0/Document.xml"
        customs = {c.get("Name"): c.text for c in entry.iter(f"{OFD}CustomData")}
        assert customs["发票号码"] == NUMBER and customs["价税合计"] == "2120.00"
        document = ET.fromstring(archive.read("Doc_0/Document.xml"))
        box = document.findtext(f"{OFD}CommonData/{OFD}PageArea/{OFD}PhysicalBox")
        assert box == "0 0 240 140"
        ids = [
            int(e.get("ID", "0"))
            for e in ET.fromstring(archive.read("Doc_0/Pages/Page_0/Content.xml")).iter()
            if e.get("ID")
        ]
        assert len(ids) == len(set(ids))
        assert int(document.findtext(f"{OFD}CommonData/{OFD}MaxUnitID") or 0) >= max(ids)
        fonts = ET.fromstring(archive.read("Doc_0/PublicRes.xml")).iter(f"{OFD}Font")
        assert {f.get("FontName") for f in fonts} == {"宋体", "Arial"}
        verify_document("xml", archive.read("Doc_0/Attachs/original_invoice.xml"))
    text = ofd_texts(content)[0]
    for expected in (
        "电子发票（增值税专用发票）",
        NUMBER,
        "北京某某贸易有限公司",
        "¥2120.00",
        "贰仟壹佰贰拾圆整",
        "*信息技术服务*软件维护服务费1",
        "6%",
        "张三",
    ):
        assert expected in text


def test_red_invoice_shows_negative_amounts_and_red_marks() -> None:
    text = ofd_texts(render_ofd(data(1, red=True)))[0]
    assert "红字" in text
    assert "-1000.00" in text and "¥-1060.00" in text
    assert "（负数）贰仟壹佰贰拾圆整" in text
    assert "被红冲蓝字数电发票号码：26310000000000012000" in text
    root = ET.fromstring(render_xml(data(1, red=True)))
    assert root.findtext("Header/InherentLabel/RedInvoiceLabel/LabelCode") == "Y"
    assert root.findtext("EInvoiceData/AdditionalInformation/OriginalInvoiceNumber") == (
        "26310000000000012000"
    )


def test_red_invoice_needs_its_original_number() -> None:
    with pytest.raises(ValidationError, match="original_invoice_number"):
        data(red=True, original_invoice_number=None)


def test_invoice_number_must_be_20_digits() -> None:
    with pytest.raises(ValidationError, match="invoice_number"):
        data(invoice_number="12345")


def test_xml_uses_the_einvoice_vocabulary() -> None:
    root = ET.fromstring(render_xml(data(2)))
    assert root.tag == "EInvoice"
    assert root.findtext("Header/EIid") == NUMBER
    assert root.findtext("Header/InherentLabel/GeneralOrSpecialVAT/LabelCode") == "01"
    basic = root.find("EInvoiceData/BasicInformation")
    assert basic is not None
    assert basic.findtext("TotalAmWithoutTax") == "2000.00"
    assert basic.findtext("TotalTaxAm") == "120.00"
    assert basic.findtext("TotalTax-includedAmount") == "2120.00"
    assert basic.findtext("TotalTax-includedAmountInChinese") == "贰仟壹佰贰拾圆整"
    items = root.findall("EInvoiceData/IssuItemInformation")
    assert len(items) == 2
    assert items[0].findtext("TaxRate") == "0.06"
    assert items[0].findtext("ComTaxAm") == "60.00"
    assert items[0].findtext("TaxClassificationCode") == "3040201000000000000"
    assert root.findtext("EInvoiceData/SellerInformation/SellerIdNum") == "91310000MA1FL8XQ30"
    assert root.findtext("TaxSupervisionInfo/InvoiceNumber") == NUMBER
    assert root.findtext("TaxSupervisionInfo/IssueTime") == "2026-05-06 10:11:12"


def test_exempt_line_prints_stars_for_tax() -> None:
    line = DocumentLine(
        name="*农产品*大米",
        amount=Decimal("100.00"),
        tax_rate=Decimal("0"),
        rate_label=rate_label(Decimal("0"), TaxTreatment.EXEMPT),
        tax=Decimal("0.00"),
        treatment=TaxTreatment.EXEMPT,
    )
    d = data(
        1,
        lines=(line,),
        total_amount=Decimal("100.00"),
        total_tax=Decimal("0.00"),
        total_with_tax=Decimal("100.00"),
        amount_in_words="壹佰圆整",
    )
    item = ET.fromstring(render_xml(d)).find("EInvoiceData/IssuItemInformation")
    assert item is not None
    assert item.findtext("TaxRate") == "免税" and item.findtext("ComTaxAm") == "***"
    text = ofd_texts(render_ofd(d))[0]
    assert "免税" in text and "***" in text


def test_rate_labels() -> None:
    assert rate_label(Decimal("0.13")) == "13%"
    assert rate_label(Decimal("0.015")) == "1.5%"
    assert rate_label(Decimal("0")) == "0%"
    assert rate_label(Decimal("0"), TaxTreatment.NOT_TAXABLE) == "不征税"


def test_hostile_text_is_escaped_and_control_characters_dropped() -> None:
    nasty = 'A&B <公司> "x" \x01\x0b'
    d = data(
        1, buyer=DocumentParty(name=nasty, tax_id="911101087109234567"), remarks="]]> <!-- & -->"
    )
    for fmt in DocumentFormat:
        verify_document(fmt, render(d, fmt), invoice_number=NUMBER)
    root = ET.fromstring(render_xml(d))
    assert root.findtext("EInvoiceData/BuyerInformation/BuyerName") == 'A&B <公司> "x" '
    assert 'A&B <公司> "x"' in ofd_texts(render_ofd(d))[0]


def test_overlong_names_are_fitted_not_overflowing() -> None:
    long_name = "*信息技术服务*" + "超长项目名称" * 20
    d = data(1, lines=(data(1).lines[0].model_copy(update={"name": long_name}),))
    text = ofd_texts(render_ofd(d))[0]
    assert "…" in text and long_name not in text


def test_document_data_from_a_canonical_invoice_uses_the_rules() -> None:
    invoice = sample_invoices(SELLER)[0]
    totals = compute_totals(invoice)
    d = document_data_from_invoice(
        invoice, invoice_number=NUMBER, issued_at=datetime(2026, 1, 2, 3, 4, 5)
    )
    assert d.total_with_tax == totals.total_with_tax
    assert d.amount_in_words == totals.amount_in_words
    assert [line.name for line in d.lines] == [t.display_name for t in totals.lines]
    assert d.seller.tax_id == SELLER.tax_id
    red = document_data_from_invoice(
        invoice,
        totals,
        invoice_number=NUMBER,
        issued_at=datetime(2026, 1, 3),
        is_red=True,
        original_invoice_number="26310000000000012000",
    )
    assert red.total_with_tax == -totals.total_with_tax
    assert red.amount_in_words.startswith("（负数）")
    assert all(line.amount < 0 for line in red.lines)
    for fmt in DocumentFormat:
        verify_document(fmt, render(red, fmt), invoice_number=NUMBER)


def test_rendering_is_fast_enough_for_batch_demos() -> None:
    """Aim: < 20 ms per PDF on this class of machine; asserted loosely (shared CPUs)."""
    samples = [data(3, invoice_number=f"2631000000{i:010d}") for i in range(20)]
    started = time.perf_counter()
    for d in samples:
        render_pdf(d)
    per_pdf = (time.perf_counter() - started) / len(samples)
    assert per_pdf < 0.1, f"{per_pdf * 1000:.1f} ms per PDF"


def test_pdf_qr_code_image_carries_the_qr_matrix() -> None:
    from fapiao.sandboxkit.layout import qr_modules, qr_payload

    d = data(1)
    content = render_pdf(d)
    streams = b""
    for match in re.finditer(rb"stream\r?\n", content):
        with contextlib.suppress(zlib.error):
            streams += zlib.decompressobj().decompress(content[match.end() :])
    found = re.search(rb"BI /W (\d+) /H (\d+) /BPC 1 /CS /G /F /AHx ID ([0-9a-f]+)> EI", streams)
    assert found is not None
    width = int(found.group(1))
    raw = bytes.fromhex(found.group(3).decode())
    row_bytes = (width + 7) // 8
    modules = qr_modules(qr_payload(d))
    assert width == int(found.group(2)) == len(modules)
    for r, cells in enumerate(modules):
        row = raw[r * row_bytes : (r + 1) * row_bytes]
        bits = "".join(f"{b:08b}" for b in row)[:width]
        assert bits == "".join("0" if dark else "1" for dark in cells)
    assert qr_payload(d) == f"01,31,,{NUMBER},1000.00,20260506,,12345"

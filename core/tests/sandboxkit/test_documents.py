"""fapiao.documents: type sniffing and structural checks of downloaded invoice files.

Good files come from the sandbox renderer; bad ones are realistic failures: an HTML error
page served as the PDF, a truncated download, a package missing a part, a DTD bomb."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime
from decimal import Decimal

import pytest

from fapiao.documents import sniff_format, verified_document, verify_document
from fapiao.errors import DocumentInvalid
from fapiao.models import DocumentFormat
from fapiao.sandboxkit import DocumentLine, DocumentParty, InvoiceDocumentData, render

NUMBER = "26310000000000054321"


@pytest.fixture(scope="module")
def files() -> dict[DocumentFormat, bytes]:
    data = InvoiceDocumentData(
        invoice_number=NUMBER,
        issued_at=datetime(2026, 2, 3, 4, 5, 6),
        seller=DocumentParty(name="销方", tax_id="91310000MA1FL8XQ30"),
        buyer=DocumentParty(name="购方"),
        lines=(
            DocumentLine(
                name="*软件*服务",
                amount=Decimal("100.00"),
                tax_rate=Decimal("0.06"),
                rate_label="6%",
                tax=Decimal("6.00"),
            ),
        ),
        total_amount=Decimal("100.00"),
        total_tax=Decimal("6.00"),
        total_with_tax=Decimal("106.00"),
        amount_in_words="壹佰零陆圆整",
    )
    return {fmt: render(data, fmt) for fmt in DocumentFormat}


def rezip(content: bytes, *, drop: str = "", replace: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename == drop:
                continue
            body = (replace or {}).get(info.filename, src.read(info))
            dst.writestr(info.filename, body)
    return out.getvalue()


def invalid(fmt: DocumentFormat | str, content: bytes, **kwargs: str) -> DocumentInvalid:
    with pytest.raises(DocumentInvalid) as caught:
        verify_document(fmt, content, **kwargs)
    return caught.value


def test_sniffing(files: dict[DocumentFormat, bytes]) -> None:
    for fmt, content in files.items():
        assert sniff_format(content) is fmt
    assert sniff_format(b"\xef\xbb\xbf  <EInvoice/>") is DocumentFormat.XML
    assert sniff_format(b"<!DOCTYPE html><html><body>502</body></html>") is None
    assert sniff_format(b'{"code": "E9999"}') is None
    assert sniff_format(rezip(files[DocumentFormat.OFD], drop="OFD.xml")) is None


def test_good_files_pass_with_their_number(files: dict[DocumentFormat, bytes]) -> None:
    for fmt, content in files.items():
        verify_document(fmt, content, invoice_number=NUMBER)


def test_error_is_canonical_bilingual_and_names_the_field() -> None:
    err = invalid("pdf", b"<html><body>Service Unavailable</body></html>")
    assert err.code == "DOCUMENT_INVALID" and err.retryable
    assert err.field == "document.pdf"
    assert "PDF" in err.message_en and "版式文件" in err.message_zh


def test_wrong_type_is_named(files: dict[DocumentFormat, bytes]) -> None:
    err = invalid("pdf", files[DocumentFormat.XML])
    assert "expected PDF, got XML" in err.message_en
    assert "期望 PDF，实际为 XML" in err.message_zh
    assert "expected OFD, got PDF" in invalid("ofd", files[DocumentFormat.PDF]).message_en


def test_empty_file() -> None:
    assert "empty" in invalid("xml", b"").message_en


def test_truncated_pdf(files: dict[DocumentFormat, bytes]) -> None:
    pdf = files[DocumentFormat.PDF]
    assert "%%EOF" in invalid("pdf", pdf[: len(pdf) // 2]).message_en


def test_pdf_with_a_broken_cross_reference(files: dict[DocumentFormat, bytes]) -> None:
    pdf = files[DocumentFormat.PDF]
    start = pdf.rindex(b"startxref")
    wrong_offset = pdf[:start] + b"startxref\n17\n%%EOF\n"
    assert "cross-reference" in invalid("pdf", wrong_offset).message_en
    past_end = pdf[:start] + b"startxref\n99999999\n%%EOF\n"
    assert "past the end" in invalid("pdf", past_end).message_en
    no_startxref = pdf[:start] + b"%%EOF\n"
    assert "startxref" in invalid("pdf", no_startxref).message_en
    assert "header" in invalid("pdf", b"%PDF-x.y\n" + pdf[9:]).message_en


def test_pdf_with_an_xref_stream_is_accepted() -> None:
    body = b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    offset = len(body)
    body += b"2 0 obj\n<< /Type /XRef /Root 1 0 R /Size 3 >>\nstream\n\nendstream\nendobj\n"
    body += b"startxref\n" + str(offset).encode() + b"\n%%EOF\n"
    verify_document("pdf", body)


def test_ofd_missing_parts(files: dict[DocumentFormat, bytes]) -> None:
    ofd = files[DocumentFormat.OFD]
    assert (
        "Document.xml missing" in invalid("ofd", rezip(ofd, drop="Doc_0/Document.xml")).message_en
    )
    page = "Doc_0/Pages/Page_0/Content.xml"
    assert "page content missing" in invalid("ofd", rezip(ofd, drop=page)).message_en
    assert "PublicRes missing" in invalid("ofd", rezip(ofd, drop="Doc_0/PublicRes.xml")).message_en
    assert "not an OFD package" in invalid("ofd", rezip(ofd, drop="OFD.xml")).message_en


def test_ofd_wrong_namespace_or_broken_xml(files: dict[DocumentFormat, bytes]) -> None:
    ofd = files[DocumentFormat.OFD]
    with zipfile.ZipFile(io.BytesIO(ofd)) as archive:
        entry = archive.read("OFD.xml")
    other_ns = entry.replace(b"http://www.ofdspec.org/2016", b"urn:not-ofd")
    assert "namespace" in invalid("ofd", rezip(ofd, replace={"OFD.xml": other_ns})).message_en
    broken = rezip(ofd, replace={"Doc_0/Pages/Page_0/Content.xml": b"<ofd:Page"})
    assert "not well-formed" in invalid("ofd", broken).message_en
    no_pages = rezip(
        ofd,
        replace={
            "Doc_0/Document.xml": b'<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016">'
            b"<ofd:CommonData><ofd:PageArea/></ofd:CommonData><ofd:Pages/></ofd:Document>"
        },
    )
    assert "no page" in invalid("ofd", no_pages).message_en


def test_ofd_must_show_the_invoice_number(files: dict[DocumentFormat, bytes]) -> None:
    err = invalid("ofd", files[DocumentFormat.OFD], invoice_number="26310000000000099999")
    assert "26310000000000099999" in err.message_en


def test_not_a_zip_as_ofd() -> None:
    assert "not an OFD package" in invalid("ofd", b"PK\x03\x04garbage").message_en


def test_xml_entity_bomb_is_refused_before_parsing() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><EInvoice>&lol2;</EInvoice>'
    )
    assert "DTD" in invalid("xml", bomb).message_en
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><EInvoice/>'.encode("utf-16")
    assert "DTD" in invalid("xml", utf16).message_en


def test_xml_root_and_number(files: dict[DocumentFormat, bytes]) -> None:
    assert "root element must be EInvoice" in invalid("xml", b"<Invoice/>").message_en
    assert "EInvoiceData" in invalid("xml", b"<EInvoice><Header/></EInvoice>").message_en
    no_number = b"<EInvoice><EInvoiceData/></EInvoice>"
    assert "no invoice number" in invalid("xml", no_number).message_en
    err = invalid("xml", files[DocumentFormat.XML], invoice_number="26310000000000099999")
    assert f"expected 26310000000000099999, file has {NUMBER}" in err.message_en
    assert "not well-formed" in invalid("xml", b"<EInvoice><a></EInvoice>").message_en


def test_verified_document_checks_hash_and_wraps(files: dict[DocumentFormat, bytes]) -> None:
    pdf = files[DocumentFormat.PDF]
    digest = hashlib.sha256(pdf).hexdigest()
    document = verified_document("pdf", NUMBER, pdf, url="https://x/y.pdf", expected_sha256=digest)
    assert document.sha256 == digest and document.size == len(pdf)
    assert document.filename == f"{NUMBER}.pdf"
    with pytest.raises(DocumentInvalid, match="sha256 mismatch"):
        verified_document("pdf", NUMBER, pdf, expected_sha256="0" * 64)

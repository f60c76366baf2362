"""Render an issued invoice as the files a provider hands out: PDF, OFD and XML.

Sandboxes call :func:`render` with an :class:`InvoiceDocumentData`; every output passes
:func:`fapiao.documents.verify_document`, and the same data always gives the same bytes
(so a document's sha256 is stable across downloads, as with a real provider).
"""

from __future__ import annotations

from fapiao.models import DocumentFormat
from fapiao.sandboxkit.document_data import (
    DocumentLine,
    DocumentParty,
    InvoiceDocumentData,
    document_data_from_invoice,
    rate_label,
)
from fapiao.sandboxkit.einvoice_xml import render_xml
from fapiao.sandboxkit.layout import layout_invoice
from fapiao.sandboxkit.ofd import pages_to_ofd
from fapiao.sandboxkit.pdf import pages_to_pdf

__all__ = [
    "DocumentLine",
    "DocumentParty",
    "InvoiceDocumentData",
    "document_data_from_invoice",
    "rate_label",
    "render",
    "render_ofd",
    "render_pdf",
    "render_xml",
]


def _subject(data: InvoiceDocumentData) -> str:
    return f"{data.title} {data.invoice_number}" + (" 红字" if data.is_red else "")


def render_pdf(data: InvoiceDocumentData) -> bytes:
    return pages_to_pdf(
        layout_invoice(data),
        title=f"{data.title} {data.invoice_number}",
        author=data.seller.name,
        subject=_subject(data),
    )


def render_ofd(data: InvoiceDocumentData) -> bytes:
    custom = [
        ("发票号码", data.invoice_number),
        ("开票日期", f"{data.issued_at:%Y年%m月%d日}"),
        ("合计金额", f"{data.total_amount:.2f}"),
        ("合计税额", f"{data.total_tax:.2f}"),
        ("价税合计", f"{data.total_with_tax:.2f}"),
        ("销售方纳税人识别号", data.seller.tax_id or ""),
        ("购买方纳税人识别号", data.buyer.tax_id or ""),
    ]
    return pages_to_ofd(
        layout_invoice(data),
        title=f"{data.title} {data.invoice_number}",
        author=data.seller.name,
        created=data.issued_at,
        custom_data=custom,
        attachment=("original_invoice.xml", render_xml(data)),
    )


_RENDERERS = {
    DocumentFormat.PDF: render_pdf,
    DocumentFormat.OFD: render_ofd,
    DocumentFormat.XML: render_xml,
}


def render(data: InvoiceDocumentData, fmt: DocumentFormat | str) -> bytes:
    """The invoice in ``fmt`` (``pdf``, ``ofd`` or ``xml``)."""
    return _RENDERERS[DocumentFormat(fmt)](data)

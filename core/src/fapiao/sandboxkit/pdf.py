"""Draw laid-out invoice pages into a PDF with reportlab's canvas (no platypus: a fixed form
needs no flowing text, and the canvas is several times faster)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from fapiao.sandboxkit.fonts import ensure_fonts, pdf_font_name
from fapiao.sandboxkit.layout import Line, Page, Polyline, QrCode, Rect, Text

__all__ = ["pages_to_pdf"]

_MM = 72 / 25.4


def _qr_image(qr: QrCode, height: float) -> str:
    """The QR code as one 1-bit inline image (a few hundred bytes of operators), instead of
    hundreds of ``re`` operations each formatted by reportlab."""
    rows = []
    for cells in qr.modules:
        bits = "".join("0" if dark else "1" for dark in cells)  # DeviceGray: 0 is black
        bits += "1" * (-len(bits) % 8)
        rows.append(int(bits, 2).to_bytes(len(bits) // 8, "big").hex())
    count = len(qr.modules)
    size = qr.size * _MM
    return (
        f"q {size:.3f} 0 0 {size:.3f} {qr.x * _MM:.3f} {(height - qr.y - qr.size) * _MM:.3f} cm "
        f"BI /W {count} /H {count} /BPC 1 /CS /G /F /AHx ID {''.join(rows)}> EI Q"
    )


def pages_to_pdf(
    pages: Sequence[Page], *, title: str = "", author: str = "", subject: str = ""
) -> bytes:
    """One PDF page per laid-out page. Output is byte-for-byte reproducible (``invariant``):
    the same invoice always has the same sha256."""
    from reportlab.pdfgen.canvas import Canvas

    ensure_fonts()
    buffer = io.BytesIO()
    first = pages[0]
    canvas = Canvas(
        buffer,
        pagesize=(first.width * _MM, first.height * _MM),
        invariant=1,
        pageCompression=1,
    )
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject(subject)
    canvas.setCreator("fapiao sandbox")
    for page in pages:
        canvas.setPageSize((page.width * _MM, page.height * _MM))
        height = page.height
        font: tuple[str, float] | None = None
        fill: tuple[int, int, int] | None = None
        stroke: tuple[int, int, int] | None = None
        for item in page.items:
            if isinstance(item, Text):
                wanted = (pdf_font_name(item.font), item.size)
                if wanted != font:
                    canvas.setFont(*wanted)
                    font = wanted
                if item.color != fill:
                    canvas.setFillColorRGB(*(c / 255 for c in item.color))
                    fill = item.color
                canvas.drawString(item.x * _MM, (height - item.y) * _MM, item.text)
                continue
            if isinstance(item, QrCode):
                canvas.addLiteral(_qr_image(item, height))
                continue
            if item.color != stroke:
                canvas.setStrokeColorRGB(*(c / 255 for c in item.color))
                stroke = item.color
            if isinstance(item, Line):
                canvas.setLineWidth(item.width * _MM)
                canvas.line(
                    item.x1 * _MM, (height - item.y1) * _MM, item.x2 * _MM, (height - item.y2) * _MM
                )
            elif isinstance(item, Rect):
                if item.fill and item.color != fill:
                    canvas.setFillColorRGB(*(c / 255 for c in item.color))
                    fill = item.color
                canvas.setLineWidth(item.width * _MM)
                canvas.rect(
                    item.x * _MM,
                    (height - item.y - item.h) * _MM,
                    item.w * _MM,
                    item.h * _MM,
                    stroke=0 if item.fill else 1,
                    fill=1 if item.fill else 0,
                )
            elif isinstance(item, Polyline):
                canvas.setLineWidth(item.width * _MM)
                path = canvas.beginPath()
                x0, y0 = item.points[0]
                path.moveTo(x0 * _MM, (height - y0) * _MM)
                for x, y in item.points[1:]:
                    path.lineTo(x * _MM, (height - y) * _MM)
                if item.closed:
                    path.close()
                canvas.drawPath(path, stroke=1, fill=0)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()

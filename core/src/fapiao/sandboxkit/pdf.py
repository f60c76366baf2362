"""Draw laid-out invoice pages into a PDF with reportlab's canvas (no platypus: a fixed form
needs no flowing text, and the canvas is several times faster)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from fapiao.sandboxkit.fonts import ensure_fonts, pdf_font_name
from fapiao.sandboxkit.layout import Line, Page, Polyline, Rect, Text

__all__ = ["pages_to_pdf"]

_MM = 72 / 25.4


def _filled_rects(rects: Sequence[Rect], height: float) -> str:
    """Hundreds of small filled rectangles (the QR code) as one raw fill operation: going
    through ``canvas.rect`` for each costs more than the rest of the page."""
    r, g, b = (c / 255 for c in rects[0].color)
    ops = [f"q {r:.3f} {g:.3f} {b:.3f} rg"]
    ops.extend(
        f"{x.x * _MM:.2f} {(height - x.y - x.h) * _MM:.2f} {x.w * _MM:.2f} {x.h * _MM:.2f} re"
        for x in rects
    )
    ops.append("f Q")
    return "\n".join(ops)


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
        filled: list[Rect] = []
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
            if item.color != stroke:
                canvas.setStrokeColorRGB(*(c / 255 for c in item.color))
                stroke = item.color
            if isinstance(item, Line):
                canvas.setLineWidth(item.width * _MM)
                canvas.line(
                    item.x1 * _MM, (height - item.y1) * _MM, item.x2 * _MM, (height - item.y2) * _MM
                )
            elif isinstance(item, Rect):
                if item.fill:
                    filled.append(item)
                    continue
                    canvas.setFillColorRGB(*(c / 255 for c in item.color))
                    fill = item.color
                canvas.setLineWidth(item.width * _MM)
                canvas.rect(
                    item.x * _MM,
                    (height - item.y - item.h) * _MM,
                    item.w * _MM,
                    item.h * _MM,
                    stroke=1,
                    fill=0,
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
        if filled:
            canvas.addLiteral(_filled_rects(filled, height))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()

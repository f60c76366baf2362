"""Write laid-out invoice pages as an OFD package (GB/T 33190-2016), the format the tax
bureau itself issues 数电票 in.

An OFD file is a zip: ``OFD.xml`` (entry: DocBody with DocInfo and DocRoot) points at
``Doc_0/Document.xml`` (CommonData with PageArea and PublicRes, the page list, attachments),
``Doc_0/PublicRes.xml`` declares the fonts, and each ``Doc_0/Pages/Page_N/Content.xml`` holds
TextObjects and PathObjects in millimetres from the top-left corner. Fonts are referenced
by name, not embedded (readers substitute 宋体), which is what keeps a sandbox fast. The
invoice's structured XML rides along as an attachment, as on the platform's own files.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from fapiao.sandboxkit.einvoice_xml import xml_text
from fapiao.sandboxkit.fonts import PT_TO_MM, text_width_mm
from fapiao.sandboxkit.layout import Line, Page, Polyline, QrCode, Rect, Text, dark_runs

__all__ = ["OFD_NAMESPACE", "pages_to_ofd"]

OFD_NAMESPACE = "http://www.ofdspec.org/2016"
_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_NS = f'xmlns:ofd="{OFD_NAMESPACE}"'
_FONT_IDS = {"cjk": 1, "latin": 2}
_FONTS = (
    '<ofd:Font ID="1" FontName="宋体" FamilyName="宋体"/>'
    '<ofd:Font ID="2" FontName="Arial" FamilyName="Arial"/>'
)
_FIRST_FREE_ID = 3


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _color(rgb: tuple[int, int, int]) -> str:
    return f"{rgb[0]} {rgb[1]} {rgb[2]}"


class _Ids:
    def __init__(self, start: int) -> None:
        self.last = start - 1

    def next(self) -> int:
        self.last += 1
        return self.last


def _path(
    oid: int,
    points: Sequence[tuple[float, float]],
    width: float,
    color: tuple[int, int, int],
    closed: bool,
) -> str:
    pad = max(width, 0.1)
    min_x = min(p[0] for p in points) - pad
    min_y = min(p[1] for p in points) - pad
    max_x = max(p[0] for p in points) + pad
    max_y = max(p[1] for p in points) + pad
    steps = [
        f"{'M' if i == 0 else 'L'} {_num(x - min_x)} {_num(y - min_y)}"
        for i, (x, y) in enumerate(points)
    ]
    if closed:
        steps.append("C")
    return (
        f'<ofd:PathObject ID="{oid}" Boundary="{_num(min_x)} {_num(min_y)} '
        f'{_num(max_x - min_x)} {_num(max_y - min_y)}" LineWidth="{_num(width)}">'
        f'<ofd:StrokeColor Value="{_color(color)}"/>'
        f"<ofd:AbbreviatedData>{' '.join(steps)}</ofd:AbbreviatedData></ofd:PathObject>"
    )


def _qr_path(oid: int, qr: QrCode) -> str:
    """The QR code's dark modules as one filled PathObject."""
    parts = []
    for x, y, w, h in dark_runs(qr):
        x, y = x - qr.x, y - qr.y
        parts.append(
            f"M {x:.2f} {y:.2f} L {x + w:.2f} {y:.2f} L {x + w:.2f} {y + h:.2f} "
            f"L {x:.2f} {y + h:.2f} C"
        )
    return (
        f'<ofd:PathObject ID="{oid}" Boundary="{_num(qr.x)} {_num(qr.y)} {_num(qr.size)} '
        f'{_num(qr.size)}" Stroke="false" Fill="true"><ofd:FillColor Value="0 0 0"/>'
        f"<ofd:AbbreviatedData>{' '.join(parts)}</ofd:AbbreviatedData></ofd:PathObject>"
    )


def _objects(page: Page, ids: _Ids) -> Iterator[str]:
    for item in page.items:
        if isinstance(item, Text):
            size = item.size * PT_TO_MM
            width = text_width_mm(item.text, item.font, item.size)
            yield (
                f'<ofd:TextObject ID="{ids.next()}" Boundary="{_num(item.x)} '
                f'{_num(item.y - size)} {_num(width + 1)} {_num(size * 1.35)}" '
                f'Font="{_FONT_IDS[item.font]}" Size="{_num(size)}">'
                f'<ofd:FillColor Value="{_color(item.color)}"/>'
                f'<ofd:TextCode X="0" Y="{_num(size)}">{escape(xml_text(item.text))}</ofd:TextCode>'
                "</ofd:TextObject>"
            )
        elif isinstance(item, Line):
            yield _path(
                ids.next(), ((item.x1, item.y1), (item.x2, item.y2)), item.width, item.color, False
            )
        elif isinstance(item, QrCode):
            yield _qr_path(ids.next(), item)
        elif isinstance(item, Rect):
            corners = (
                (item.x, item.y),
                (item.x + item.w, item.y),
                (item.x + item.w, item.y + item.h),
                (item.x, item.y + item.h),
            )
            yield _path(ids.next(), corners, item.width, item.color, True)
        elif isinstance(item, Polyline):
            yield _path(ids.next(), item.points, item.width, item.color, item.closed)


def pages_to_ofd(
    pages: Sequence[Page],
    *,
    title: str,
    author: str,
    created: datetime,
    custom_data: Sequence[tuple[str, str]] = (),
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """The OFD package as bytes; reproducible for the same input (fixed zip timestamps)."""
    ids = _Ids(_FIRST_FREE_ID)
    page_refs: list[str] = []
    files: list[tuple[str, str | bytes]] = []
    for number, page in enumerate(pages):
        page_id = ids.next()
        layer_id = ids.next()
        content = "".join(_objects(page, ids))
        files.append(
            (
                f"Doc_0/Pages/Page_{number}/Content.xml",
                f"{_DECL}<ofd:Page {_NS}><ofd:Content>"
                f'<ofd:Layer ID="{layer_id}" Type="Body">{content}</ofd:Layer>'
                "</ofd:Content></ofd:Page>",
            )
        )
        page_refs.append(f'<ofd:Page ID="{page_id}" BaseLoc="Pages/Page_{number}/Content.xml"/>')
    attachments_ref = ""
    if attachment is not None:
        name, data = attachment
        attach_id = ids.next()
        files.append((f"Doc_0/Attachs/{name}", data))
        files.append(
            (
                "Doc_0/Attachs/Attachments.xml",
                f"{_DECL}<ofd:Attachments {_NS}>"
                f'<ofd:Attachment ID="{attach_id}" Name={quoteattr(name)} Format="xml" '
                f'CreationDate="{created:%Y-%m-%d}" Size="{len(data) / 1024:.3f}" Visible="false">'
                f"<ofd:FileLoc>{escape(name)}</ofd:FileLoc></ofd:Attachment></ofd:Attachments>",
            )
        )
        attachments_ref = "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>"
    width, height = pages[0].width, pages[0].height
    files.append(
        (
            "Doc_0/Document.xml",
            f"{_DECL}<ofd:Document {_NS}><ofd:CommonData>"
            f"<ofd:MaxUnitID>{ids.last}</ofd:MaxUnitID>"
            f"<ofd:PageArea><ofd:PhysicalBox>0 0 {_num(width)} {_num(height)}</ofd:PhysicalBox>"
            "</ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
            f"<ofd:Pages>{''.join(page_refs)}</ofd:Pages>{attachments_ref}</ofd:Document>",
        )
    )
    files.append(
        (
            "Doc_0/PublicRes.xml",
            f'{_DECL}<ofd:Res {_NS} BaseLoc="Res"><ofd:Fonts>{_FONTS}</ofd:Fonts></ofd:Res>',
        )
    )
    doc_id = uuid.uuid5(uuid.NAMESPACE_URL, f"fapiao-ofd:{title}:{created.isoformat()}").hex
    customs = "".join(
        f"<ofd:CustomData Name={quoteattr(xml_text(k))}>{escape(xml_text(v))}</ofd:CustomData>"
        for k, v in custom_data
    )
    files.insert(
        0,
        (
            "OFD.xml",
            f'{_DECL}<ofd:OFD {_NS} Version="1.1" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
            f"<ofd:DocID>{doc_id}</ofd:DocID><ofd:Title>{escape(xml_text(title))}</ofd:Title>"
            f"<ofd:Author>{escape(xml_text(author))}</ofd:Author>"
            f"<ofd:CreationDate>{created:%Y-%m-%d}</ofd:CreationDate>"
            "<ofd:Creator>fapiao sandbox</ofd:Creator><ofd:CreatorVersion>1.0</ofd:CreatorVersion>"
            f"{f'<ofd:CustomDatas>{customs}</ofd:CustomDatas>' if customs else ''}"
            "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        ),
    )
    buffer = io.BytesIO()
    stamp = (max(created.year, 1980), created.month, created.day, created.hour, created.minute, 0)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body.encode("utf-8") if isinstance(body, str) else body)
    return buffer.getvalue()

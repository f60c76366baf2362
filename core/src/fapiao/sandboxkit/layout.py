"""The page layout of a 数电票, as drawing primitives shared by the PDF and OFD renderers.

Laying the page out once, in millimetres from the top-left corner (OFD's own coordinate
system), and drawing the same primitives in both formats guarantees that the PDF and the OFD
of an invoice carry the same content at the same places. The layout follows the published
票样 of the 全面数字化电子发票: QR code top left, title with a double rule, number and date top
right, buyer and seller blocks, the line table, 合计, 价税合计（大写/小写）, 备注, 开票人.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from decimal import Decimal

from fapiao.sandboxkit.document_data import DocumentLine, DocumentParty, InvoiceDocumentData
from fapiao.sandboxkit.fonts import CJK, LATIN, FontKind, text_width_mm

__all__ = [
    "LINES_PER_PAGE",
    "PAGE_HEIGHT_MM",
    "PAGE_WIDTH_MM",
    "Line",
    "Page",
    "Polyline",
    "QrCode",
    "Rect",
    "Text",
    "dark_runs",
    "format_money",
    "format_quantity",
    "layout_invoice",
    "qr_modules",
    "qr_payload",
]

PAGE_WIDTH_MM = 240.0
PAGE_HEIGHT_MM = 140.0
LINES_PER_PAGE = 8

RGB = tuple[int, int, int]
BLACK: RGB = (0, 0, 0)
BROWN: RGB = (158, 84, 40)  # the printed frame and labels of a 数电票
RED: RGB = (214, 30, 30)


@dataclass(frozen=True, slots=True)
class Text:
    """Left-aligned text; ``y`` is the baseline, in mm from the top."""

    x: float
    y: float
    text: str
    size: float  # points
    font: FontKind = CJK
    color: RGB = BLACK


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.25
    color: RGB = BROWN


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    color: RGB = BROWN
    fill: bool = False
    width: float = 0.3


@dataclass(frozen=True, slots=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    width: float = 0.25
    color: RGB = BLACK
    closed: bool = False


@dataclass(frozen=True, slots=True)
class QrCode:
    """A QR code of ``size`` mm square with its top-left corner at (x, y)."""

    x: float
    y: float
    size: float
    modules: tuple[tuple[bool, ...], ...]


Item = Text | Line | Rect | Polyline | QrCode


@dataclass(slots=True)
class Page:
    width: float = PAGE_WIDTH_MM
    height: float = PAGE_HEIGHT_MM
    items: list[Item] = field(default_factory=list)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        font: FontKind = CJK,
        color: RGB = BLACK,
        align: str = "left",
        max_width: float | None = None,
    ) -> None:
        if not text:
            return
        if max_width is not None:
            text, size = _fit(text, font, size, max_width)
        if align != "left":
            width = text_width_mm(text, font, size)
            x = x - width if align == "right" else x - width / 2
        self.items.append(Text(x, y, text, size, font, color))

    def texts(self) -> list[Text]:
        return [item for item in self.items if isinstance(item, Text)]


def _fit(text: str, font: FontKind, size: float, max_width: float) -> tuple[str, float]:
    """Shrink to at most 30 % smaller, then cut with an ellipsis: a cell never overflows."""
    if text_width_mm(text, font, size) <= max_width:
        return text, size
    smaller = size * 0.7
    scaled = size * max_width / text_width_mm(text, font, size)
    if scaled >= smaller:
        return text, round(scaled - 0.05, 2)
    while text and text_width_mm(text + "…", font, smaller) > max_width:
        text = text[:-1]
    return text + "…", smaller


def _wrap(text: str, font: FontKind, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for char in paragraph:
            if text_width_mm(current + char, font, size) > width and current:
                lines.append(current)
                current = char
            else:
                current += char
        lines.append(current)
    return lines


def format_money(value: Decimal) -> str:
    return f"{value:.2f}"


def format_quantity(value: Decimal | None) -> str:
    if value is None:
        return ""
    normal = value.normalize()
    return f"{normal:f}"


def qr_payload(data: InvoiceDocumentData) -> str:
    """The QR content in the 数电票 style: version, kind, blank code, number, amount, date."""
    kind = "31" if data.kind.value == "special" else "32"
    return (
        f"01,{kind},,{data.invoice_number},{format_money(data.total_amount)},"
        f"{data.issued_at:%Y%m%d},,{data.invoice_number[-5:]}"
    )


@functools.lru_cache(maxsize=256)
def qr_modules(payload: str) -> tuple[tuple[bool, ...], ...]:
    """The QR matrix of ``payload`` (True = dark), error correction level L."""
    from reportlab.graphics.barcode import qrencoder

    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.L)
    qr.addData(payload)
    qr.version = qr.calculate_version()
    qr.makeImpl(False, 0)  # any mask is a valid code; searching the best costs 8x the time
    count = qr.getModuleCount()
    return tuple(tuple(bool(qr.isDark(r, c)) for c in range(count)) for r in range(count))


def dark_runs(qr: QrCode) -> list[tuple[float, float, float, float]]:
    """The dark modules as rectangles (x, y, w, h), one per horizontal run."""
    count = len(qr.modules)
    module = qr.size / count
    rects = []
    for row, cells in enumerate(qr.modules):
        col = 0
        while col < count:
            if cells[col]:
                start = col
                while col < count and cells[col]:
                    col += 1
                rects.append(
                    (qr.x + start * module, qr.y + row * module, (col - start) * module, module)
                )
            else:
                col += 1
    return rects


# Table columns: (left, right) in mm.
_COLS = {
    "name": (8.0, 58.0),
    "spec": (58.0, 82.0),
    "unit": (82.0, 94.0),
    "quantity": (94.0, 114.0),
    "price": (114.0, 138.0),
    "amount": (138.0, 164.0),
    "rate": (164.0, 184.0),
    "tax": (184.0, 232.0),
}
_HEADERS = {
    "name": "项目名称",
    "spec": "规格型号",
    "unit": "单 位",
    "quantity": "数 量",
    "price": "单 价",
    "amount": "金 额",
    "rate": "税率/征收率",
    "tax": "税 额",
}
_LEFT, _RIGHT = 8.0, 232.0
_TOP, _PARTY_BOTTOM, _TOTAL_LINE, _WORDS_LINE, _BOTTOM = 24.0, 47.0, 95.0, 103.0, 121.0


def _vertical_label(page: Page, x0: float, x1: float, y0: float, y1: float, text: str) -> None:
    """A label written top to bottom in a narrow column, as the printed form has them."""
    step = min(4.2, (y1 - y0) / (len(text) + 0.5))
    start = (y0 + y1) / 2 - step * len(text) / 2 + step * 0.8
    for i, char in enumerate(text):
        page.text((x0 + x1) / 2, start + i * step, char, 8.5, color=BROWN, align="center")


def _party(page: Page, x: float, label: str, party: DocumentParty) -> None:
    _vertical_label(page, x, x + 6, _TOP, _PARTY_BOTTOM, label)
    page.items.append(Line(x + 6, _TOP, x + 6, _PARTY_BOTTOM))
    fx = x + 8
    width = 112 - 10
    rows = (
        ("名称：", party.name, CJK),
        ("统一社会信用代码/纳税人识别号：", party.tax_id or "", LATIN),
        ("地址、电话：", party.address_phone, CJK),
        ("开户行及账号：", party.bank_account, CJK),
    )
    for i, (name, value, font) in enumerate(rows):
        y = _TOP + 6 + i * 5
        page.text(fx, y, name, 7.5, color=BROWN)
        offset = text_width_mm(name, CJK, 7.5) + 0.5
        page.text(fx + offset, y, value, 8.5, font=font, max_width=width - offset)


def _line_row(page: Page, y: float, line: DocumentLine) -> None:
    def span(col: str) -> tuple[float, float]:
        return _COLS[col]

    left, right = span("name")
    page.text(left + 1.5, y, line.name, 8, max_width=right - left - 2)
    left, right = span("spec")
    page.text(left + 1, y, line.spec or "", 8, max_width=right - left - 2)
    left, right = span("unit")
    page.text((left + right) / 2, y, line.unit or "", 8, align="center", max_width=right - left)
    for col, text in (
        ("quantity", format_quantity(line.quantity)),
        ("price", format_quantity(line.unit_price)),
        ("amount", format_money(line.amount)),
        ("tax", format_money(line.tax) if line.tax_shown else "***"),
    ):
        left, right = span(col)
        page.text(right - 1, y, text, 8, font=LATIN, align="right", max_width=right - left - 2)
    left, right = span("rate")
    rate_font = LATIN if line.rate_label.endswith("%") else CJK
    page.text((left + right) / 2, y, line.rate_label, 8, font=rate_font, align="center")


def _cross_circle(page: Page, cx: float, cy: float, r: float) -> None:
    """⊗, drawn: the glyph is missing from the standard CJK fonts."""
    points = tuple(
        (cx + r * math.cos(2 * math.pi * k / 24), cy + r * math.sin(2 * math.pi * k / 24))
        for k in range(24)
    )
    page.items.append(Polyline(points, 0.25, BLACK, closed=True))
    d = r * 0.7071
    page.items.append(Line(cx - d, cy - d, cx + d, cy + d, 0.25, BLACK))
    page.items.append(Line(cx - d, cy + d, cx + d, cy - d, 0.25, BLACK))


def _page(
    data: InvoiceDocumentData, lines: tuple[DocumentLine, ...], index: int, count: int
) -> Page:
    page = Page()
    page.items.append(QrCode(10, 3, 19, qr_modules(qr_payload(data))))
    title = data.title
    page.text(PAGE_WIDTH_MM / 2, 13, title, 16, color=BROWN, align="center")
    half = text_width_mm(title, CJK, 16) / 2
    for y in (15.2, 16.0):
        page.items.append(Line(120 - half, y, 120 + half, y, 0.3))
    if data.is_red:
        page.items.append(Rect(120 + half + 2, 7.8, 10.5, 6.5, RED, width=0.4))
        page.text(120 + half + 7.25, 12.6, "红字", 9.5, color=RED, align="center")
    page.text(177, 11, "发票号码：", 8.5, color=BROWN)
    page.text(193, 11, data.invoice_number, 9, font=LATIN)
    page.text(177, 17, "开票日期：", 8.5, color=BROWN)
    page.text(193, 17, f"{data.issued_at:%Y年%m月%d日}", 9)

    page.items.append(Rect(_LEFT, _TOP, _RIGHT - _LEFT, _BOTTOM - _TOP, width=0.35))
    page.items.append(Line(120, _TOP, 120, _PARTY_BOTTOM))
    page.items.append(Line(_LEFT, _PARTY_BOTTOM, _RIGHT, _PARTY_BOTTOM))
    _party(page, _LEFT, "购买方信息", data.buyer)
    _party(page, 120, "销售方信息", data.seller)

    for col, (left, right) in _COLS.items():
        page.text(
            (left + right) / 2, _PARTY_BOTTOM + 4.5, _HEADERS[col], 8, color=BROWN, align="center"
        )
    for i, line in enumerate(lines):
        _line_row(page, _PARTY_BOTTOM + 9.5 + i * 4.3, line)

    last = index == count - 1
    page.items.append(Line(_LEFT, _TOTAL_LINE, _RIGHT, _TOTAL_LINE))
    page.items.append(Line(_LEFT, _WORDS_LINE, _RIGHT, _WORDS_LINE))
    if last:
        page.text(
            sum(_COLS["name"]) / 2, _TOTAL_LINE - 2, "合    计", 8.5, color=BROWN, align="center"
        )
        for col, value in (("amount", data.total_amount), ("tax", data.total_tax)):
            page.text(
                _COLS[col][1] - 1,
                _TOTAL_LINE - 2,
                f"¥{format_money(value)}",
                8.5,
                font=LATIN,
                align="right",
            )
        y = _WORDS_LINE - 2.6
        page.text(_LEFT + 2, y, "价税合计（大写）", 8.5, color=BROWN)
        _cross_circle(page, 50, y - 1.1, 1.5)
        page.text(53, y, data.amount_in_words, 9.5, max_width=100)
        page.text(160, y, "（小写）", 8.5, color=BROWN)
        page.text(174, y, f"¥{format_money(data.total_with_tax)}", 9.5, font=LATIN)
    else:
        page.text(
            sum(_COLS["name"]) / 2, _TOTAL_LINE - 2, "（续下页）", 8, color=BROWN, align="center"
        )

    _vertical_label(page, _LEFT, _LEFT + 6, _WORDS_LINE, _BOTTOM, "备注")
    page.items.append(Line(_LEFT + 6, _WORDS_LINE, _LEFT + 6, _BOTTOM))
    remarks = _wrap(data.printed_remarks, CJK, 8, _RIGHT - _LEFT - 10)
    for i, text in enumerate(remarks[:4]):
        shown = text if i < 3 or len(remarks) <= 4 else text[:-1] + "…"
        color = RED if data.is_red and i == 0 else BLACK
        page.text(_LEFT + 8, _WORDS_LINE + 4.2 + i * 4.2, shown, 8, color=color)

    page.text(_LEFT + 2, _BOTTOM + 6, "开票人：", 8.5, color=BROWN)
    page.text(_LEFT + 16, _BOTTOM + 6, data.issuer or "", 8.5)
    if count > 1:
        page.text(
            _RIGHT, _BOTTOM + 6, f"共{count}页 第{index + 1}页", 8, color=BROWN, align="right"
        )
    return page


def layout_invoice(data: InvoiceDocumentData) -> tuple[Page, ...]:
    """The invoice's pages (more than one only past ``LINES_PER_PAGE`` lines).

    Cached: a sandbox renders the PDF and the OFD of the same invoice from one layout.
    """
    return _layout_cached(data)


@functools.lru_cache(maxsize=64)
def _layout_cached(data: InvoiceDocumentData) -> tuple[Page, ...]:
    chunks = [data.lines[i : i + LINES_PER_PAGE] for i in range(0, len(data.lines), LINES_PER_PAGE)]
    return tuple(_page(data, chunk, i, len(chunks)) for i, chunk in enumerate(chunks))

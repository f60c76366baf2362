"""Fonts for the rendered invoices, registered once per process.

STSong-Light is one of the CID fonts every PDF reader ships (Adobe-GB1), so reportlab can
reference it without embedding a font file: the PDF stays small and renders in a few
milliseconds. Widths come from the same metrics for the PDF and the OFD layouts.
"""

from __future__ import annotations

import functools
from typing import Literal

__all__ = ["CJK", "LATIN", "FontKind", "ensure_fonts", "pdf_font_name", "text_width_mm"]

FontKind = Literal["cjk", "latin"]
CJK: FontKind = "cjk"
LATIN: FontKind = "latin"

PT_TO_MM = 25.4 / 72
_PDF_NAMES: dict[FontKind, str] = {"cjk": "STSong-Light", "latin": "Helvetica"}


@functools.cache
def ensure_fonts() -> None:
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    # Binary (not ASCII85) compressed streams: standard, smaller, and twice as fast to write.
    rl_config.useA85 = 0
    pdfmetrics.registerFont(UnicodeCIDFont(_PDF_NAMES["cjk"]))


def pdf_font_name(kind: FontKind) -> str:
    return _PDF_NAMES[kind]


@functools.lru_cache(maxsize=4096)
def text_width_mm(text: str, kind: FontKind, size_pt: float) -> float:
    """Printed width of ``text`` in millimetres."""
    from reportlab.pdfbase import pdfmetrics

    ensure_fonts()
    width: float = pdfmetrics.stringWidth(text, _PDF_NAMES[kind], size_pt)
    return width * PT_TO_MM

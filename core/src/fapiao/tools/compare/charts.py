"""Charts as inline SVG, written by hand: the report must open anywhere, offline, with no
script and no external asset, and three chart shapes do not justify a plotting library.

* latency distributions: horizontal box plots on a log scale (loopback calls take a few
  milliseconds, real vendors hundreds; a linear axis would hide one or the other), one box
  per profile under each operation: box p25–p75, bar at the median, whiskers min–p99, a
  dot at the maximum;
* grouped horizontal bars (throughput);
* stacked horizontal bars (cost per 10,000 invoices by component).

Every chart is an ``<svg class="chart" data-chart=NAME role="img">`` with a ``<title>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from fapiao.tools.compare.results import LatencySummary

__all__ = ["PALETTE", "BoxRow", "bar_chart", "latency_chart", "stacked_bar_chart"]

PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04")
COMPONENT_COLOURS = ("#1e3a8a", "#3b82f6", "#f97316", "#a855f7", "#14b8a6")

LABEL_W = 190
PLOT_W = 560
RIGHT_PAD = 90
ROW_H = 20
FONT = 12


@dataclass(frozen=True)
class BoxRow:
    series: str
    colour: str
    summary: LatencySummary | None


def _svg(name: str, title: str, width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(name)}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-size="{FONT}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def _log_ticks(lo: float, hi: float) -> list[float]:
    ticks: list[float] = []
    exponent = math.floor(math.log10(lo))
    while True:
        for step in (1, 2, 5):
            value = step * 10.0**exponent
            if value > hi * 1.0001:
                return ticks
            if value >= lo * 0.9999:
                ticks.append(value)
        exponent += 1


def _fmt_ms(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms"


def latency_chart(name: str, title: str, groups: Sequence[tuple[str, Sequence[BoxRow]]]) -> str:
    values = [
        v
        for _label, rows in groups
        for row in rows
        if row.summary is not None
        for v in (row.summary.min, row.summary.max)
    ]
    lo = 10 ** math.floor(math.log10(max(min(values, default=1.0), 0.01)))
    hi = 10 ** math.ceil(math.log10(max(max(values, default=10.0), lo * 10)))
    lo_log, span = math.log10(lo), math.log10(hi) - math.log10(lo)

    def x(value: float) -> float:
        return LABEL_W + (math.log10(max(value, lo)) - lo_log) / span * PLOT_W

    height = 30 + sum(ROW_H * (len(rows) + 1) for _l, rows in groups) + 30
    width = LABEL_W + PLOT_W + RIGHT_PAD
    body: list[str] = []
    top, bottom = 20, height - 30
    for tick in _log_ticks(lo, hi):
        tx = x(tick)
        body.append(f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{bottom}" class="grid"/>')
        body.append(_text(tx, bottom + 16, _fmt_ms(tick), anchor="middle", cls="axis"))
    y = top
    for label, rows in groups:
        y += ROW_H
        body.append(_text(8, y - 5, label, cls="group"))
        for row in rows:
            mid = y + ROW_H / 2
            body.append(_text(LABEL_W - 8, mid + 4, row.series, anchor="end", cls="series"))
            s = row.summary
            if s is None:
                body.append(_text(LABEL_W + 4, mid + 4, "no successful call", cls="muted"))
            else:
                body.append(
                    f'<line x1="{x(s.min):.1f}" y1="{mid}" x2="{x(s.p99):.1f}" y2="{mid}" '
                    f'stroke="{row.colour}" stroke-width="1.5"/>'
                )
                box_w = max(x(s.p75) - x(s.p25), 1.5)
                body.append(
                    f'<rect class="box" x="{x(s.p25):.1f}" y="{mid - 6}" width="{box_w:.1f}" '
                    f'height="12" fill="{row.colour}" fill-opacity="0.35" stroke="{row.colour}">'
                    f"<title>{escape(row.series)}: n={s.n} p50={s.p50:.1f} ms "
                    f"p90={s.p90:.1f} ms p99={s.p99:.1f} ms max={s.max:.1f} ms</title></rect>"
                )
                body.append(
                    f'<line x1="{x(s.p50):.1f}" y1="{mid - 7}" x2="{x(s.p50):.1f}" '
                    f'y2="{mid + 7}" stroke="{row.colour}" stroke-width="2.5"/>'
                )
                body.append(f'<circle cx="{x(s.max):.1f}" cy="{mid}" r="2.5" fill="{row.colour}"/>')
                body.append(
                    _text(LABEL_W + PLOT_W + 8, mid + 4, f"p50 {s.p50:.1f} ms", cls="value")
                )
            y += ROW_H
    return _svg(name, title, width, height, body)


def bar_chart(
    name: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    unit: str,
) -> str:
    """Horizontal bars: for each category, one bar per series (label, colour, values)."""
    peak = max((v for _s, _c, values in series for v in values), default=0.0) or 1.0
    height = 20 + len(categories) * (ROW_H * len(series) + 14) + 10
    width = LABEL_W + PLOT_W + RIGHT_PAD
    body: list[str] = []
    y = 20.0
    for index, category in enumerate(categories):
        body.append(_text(8, y + 10, category, cls="group"))
        for label, colour, values in series:
            value = values[index]
            w = max(value / peak * PLOT_W, 1.0 if value else 0.0)
            body.append(_text(LABEL_W - 8, y + 14, label, anchor="end", cls="series"))
            body.append(
                f'<rect class="bar" x="{LABEL_W}" y="{y + 3:.1f}" width="{w:.1f}" height="14" '
                f'fill="{colour}"><title>{escape(label)}: {value:,.1f} {escape(unit)}</title></rect>'
            )
            body.append(_text(LABEL_W + w + 6, y + 14, f"{value:,.1f} {unit}", cls="value"))
            y += ROW_H
        y += 14
    return _svg(name, title, width, height, body)


def stacked_bar_chart(
    name: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]],
    unit: str,
) -> str:
    """One stacked bar per row (label, [(component, value)]), with a legend of components."""
    totals = [sum(v for _c, v in parts) for _l, parts in rows]
    peak = max(totals, default=0.0) or 1.0
    components = list(dict.fromkeys(c for _l, parts in rows for c, _v in parts))
    colour = {c: COMPONENT_COLOURS[i % len(COMPONENT_COLOURS)] for i, c in enumerate(components)}
    height = 40 + len(rows) * (ROW_H + 8) + 10
    width = LABEL_W + PLOT_W + RIGHT_PAD
    body: list[str] = []
    lx = LABEL_W
    for component in components:
        body.append(f'<rect x="{lx}" y="6" width="10" height="10" fill="{colour[component]}"/>')
        body.append(_text(lx + 14, 15, component, cls="legend"))
        lx += 24 + 7 * len(component)
    y = 36.0
    for (label, parts), total in zip(rows, totals, strict=True):
        body.append(_text(LABEL_W - 8, y + 12, label, anchor="end", cls="series"))
        x = float(LABEL_W)
        for component, value in parts:
            if value <= 0:
                continue
            w = value / peak * PLOT_W
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="16" '
                f'fill="{colour[component]}"><title>{escape(label)} · {escape(component)}: '
                f"{value:,.2f} {escape(unit)}</title></rect>"
            )
            x += w
        body.append(_text(x + 6, y + 12, f"{total:,.2f} {unit}", cls="value"))
        y += ROW_H + 8
    return _svg(name, title, width, height, body)

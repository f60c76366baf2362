"""The comparison as one self-contained HTML page: inline CSS, inline SVG, no script, no
font or image fetched from anywhere, so it opens from a mail attachment or an intranet
share exactly as it was written. It is drawn from the same dict as the JSON report."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any

from fapiao.models import DeliveryChannel, DocumentFormat, InvoiceKind, Operation
from fapiao.tools.compare.charts import PALETTE, BoxRow, bar_chart, latency_chart, stacked_bar_chart
from fapiao.tools.compare.results import LatencySummary
from fapiao.tools.compare.scenarios import SCENARIOS

__all__ = ["render_html"]

LATENCY_OPERATIONS = (
    ("issue", "issue call / 开票请求"),
    ("issue→issued", "issue → number / 开票至出号"),
    ("issue (burst)", "issue under burst / 并发开票"),
    ("query", "query / 查询"),
    ("documents", "document download / 版式文件"),
    ("deliver", "delivery / 交付"),
    ("red_apply", "red form / 红字确认单"),
    ("red_issue", "red invoice / 开红票"),
    ("quota", "quota / 额度"),
)

CSS = """
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC",
  "Microsoft YaHei", system-ui, sans-serif; margin: 0; color: #111827; background: #f9fafb; }
header { background: #111827; color: #f9fafb; padding: 20px 32px; }
header h1 { margin: 0 0 6px; font-size: 22px; }
header p { margin: 0; color: #d1d5db; font-size: 13px; }
main { padding: 8px 32px 40px; max-width: 1180px; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px 20px;
  margin: 18px 0; }
h2 { font-size: 17px; margin: 0 0 10px; }
p.note { color: #4b5563; font-size: 13px; margin: 6px 0; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 5px 8px; text-align: left;
  vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.yes { color: #15803d; font-weight: 600; } .no { color: #b91c1c; font-weight: 600; }
.pass { color: #15803d; } .fail { color: #b91c1c; font-weight: 600; }
.unsupported { color: #6b7280; }
code { font-size: 12px; background: #f3f4f6; padding: 0 3px; border-radius: 3px; }
.cards { display: flex; gap: 14px; flex-wrap: wrap; }
.card { flex: 1 1 240px; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 14px;
  border-top: 4px solid var(--c); background: #fff; }
.card h3 { margin: 0 0 8px; font-size: 15px; }
.card dl { display: grid; grid-template-columns: auto auto; gap: 2px 12px; margin: 0;
  font-size: 13px; } .card dd { margin: 0; text-align: right; font-weight: 600; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0; }
svg.chart text { fill: #374151; font-family: inherit; }
svg.chart text.group { font-weight: 600; fill: #111827; }
svg.chart text.axis, svg.chart text.muted { fill: #6b7280; }
svg.chart line.grid { stroke: #e5e7eb; stroke-width: 1; }
.flags { color: #b45309; font-size: 12px; margin: 2px 0 0; padding-left: 16px; }
footer { color: #6b7280; font-size: 12px; padding: 0 32px 24px; }
"""


def _e(value: Any) -> str:
    return escape(str(value))


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _summary(data: dict[str, Any] | None) -> LatencySummary | None:
    if not data:
        return None
    return LatencySummary(**{k: data[k] for k in LatencySummary.__dataclass_fields__})


def _mark(flag: bool) -> str:
    return '<span class="yes">✔</span>' if flag else '<span class="no">✘</span>'


def _capability_rows(profiles: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    caps = [p["capabilities"] for p in profiles]
    rows: list[tuple[str, list[str]]] = []
    for op in Operation:
        rows.append((f"operation · {op.value}", [_mark(op.value in c["operations"]) for c in caps]))
    for kind in InvoiceKind:
        rows.append(
            (f"kind · {kind.label_zh}", [_mark(kind.value in c["invoice_kinds"]) for c in caps])
        )
    for fmt in DocumentFormat:
        rows.append(
            (
                f"document · {fmt.value.upper()}",
                [_mark(fmt.value in c["document_formats"]) for c in caps],
            )
        )
    for channel in DeliveryChannel:
        rows.append(
            (
                f"delivery · {channel.value}",
                [_mark(channel.value in c["delivery_channels"]) for c in caps],
            )
        )
    rows.append(("partial red reversal / 部分红冲", [_mark(c["red_partial"]) for c in caps]))
    rows.append(("documents inline / 文件随结果返回", [_mark(c["documents_inline"]) for c in caps]))
    for key, label in (
        ("issuance", "issuance / 开票方式"),
        ("status_updates", "status updates / 状态通知"),
        ("max_lines_per_invoice", "max lines per invoice / 明细行上限"),
        ("max_query_batch", "max orders per query / 单次查询上限"),
        ("max_order_id_length", "max order id length / 订单号长度"),
        ("rate_limit_per_second", "declared rate limit / 限流（次/秒）"),
        ("order_visibility_seconds", "order visibility delay / 可见延迟（秒）"),
    ):
        rows.append((label, [_e(c.get(key) if c.get(key) is not None else "–") for c in caps]))
    return rows


def _table(head: list[str], rows: list[list[str]], *, num_from: int = 99) -> str:
    out = ["<table><thead><tr>", *(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            out.append(f'<td class="num">{cell}</td>' if i >= num_from else f"<td>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _scenario_cell(result: dict[str, Any] | None) -> str:
    if result is None:
        return '<span class="unsupported">not run</span>'
    outcome = result["outcome"]
    codes = ", ".join(result["codes"])
    raw = (
        f' <span class="unsupported">raw {_e(result["raw_code"])}</span>'
        if result["raw_code"]
        else ""
    )
    ms = f" · {result['ms']:.0f} ms" if result["ms"] is not None else ""
    if outcome == "unsupported":
        return '<span class="unsupported">– unsupported</span>'
    if result["expect"] == "error":
        if outcome == "pass":
            matched = (
                "" if result["expected_code_matched"] in (None, True) else " (unexpected code)"
            )
            shown = (
                f"<code>{_e(codes)}</code>" if codes else _e(result["evidence"].get("outcome", ""))
            )
            return f'<span class="pass">✔ refused</span> {shown}{raw}{_e(matched)}'
        return f'<span class="fail">✘ {_e(result["detail"])}</span>'
    if outcome == "pass":
        number = result["evidence"].get("invoice_number") or result["evidence"].get(
            "red_invoice_number", ""
        )
        extra = f" <code>{_e(number)}</code>" if number else ""
        return f'<span class="pass">✔</span>{_e(ms)}{extra}'
    shown = f"<code>{_e(codes)}</code>{raw} " if codes else ""
    return f'<span class="fail">✘</span> {shown}{_e(result["detail"])}'


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}"


def render_html(report: dict[str, Any]) -> str:
    profiles: list[dict[str, Any]] = report["profiles"]
    labels = [p["profile"] for p in profiles]
    names = [
        f"{p['profile']} · {p['display_name']}"
        + (f" {p['display_name_zh']}" if p.get("display_name_zh") else "")
        for p in profiles
    ]
    parts: list[str] = []

    # -- summary cards ------------------------------------------------------------------------
    cards = []
    for i, p in enumerate(profiles):
        ops = p["operations"]
        issue = ops.get("issue→issued", {})
        lat = (issue.get("latency_ms") or {}).get("p50")
        ok = sum(1 for s in p["scenarios"] if s["outcome"] == "pass")
        unsupported = sum(1 for s in p["scenarios"] if s["outcome"] == "unsupported")
        tp = p.get("throughput") or {}
        cost = p.get("cost_per_10000")
        cards.append(
            f'<div class="card" style="--c:{_colour(i)}"><h3>{_e(names[i])}</h3><dl>'
            f"<dt>scenarios passed</dt><dd>{ok} / {len(p['scenarios'])}</dd>"
            f"<dt>unsupported</dt><dd>{unsupported}</dd>"
            f"<dt>issue → number p50</dt><dd>{f'{lat:.1f} ms' if lat is not None else '–'}</dd>"
            f"<dt>burst throughput</dt><dd>{tp.get('issued_per_second', '–')} /s</dd>"
            f"<dt>cost / 10,000</dt><dd>{_money(cost['total']) + ' ' + _e(report['pricing']['currency']) if cost else '–'}</dd>"
            f"<dt>environment</dt><dd>{_e(p['source'])}/{_e(p['environment'])}</dd>"
            "</dl></div>"
        )
    parts.append(
        f'<section><h2>Summary / 概览</h2><div class="cards">{"".join(cards)}</div></section>'
    )

    # -- capability matrix ------------------------------------------------------------------------
    matrix = _table(
        ["capability / 能力", *map(_e, labels)],
        [[_e(label), *cells] for label, cells in _capability_rows(profiles)],
    )
    parts.append(
        "<section><h2>1. Capability matrix / 能力矩阵</h2>"
        '<p class="note">From each plugin\'s declared capabilities (an undeclared operation is '
        "refused before any network call).</p>"
        f"{matrix}</section>"
    )

    # -- scenarios side by side -----------------------------------------------------------------
    by_id = [{s["id"]: s for s in p["scenarios"]} for p in profiles]
    rows = []
    for spec in SCENARIOS:
        expect = " <small>(must be refused)</small>" if spec.expect == "error" else ""
        rows.append(
            [f"{_e(spec.title_zh)}<br><small>{_e(spec.title_en)}</small>{expect}"]
            + [_scenario_cell(found.get(spec.id)) for found in by_id]
        )
    parts.append(
        "<section><h2>2. Scenarios side by side / 场景对比</h2>"
        '<p class="note">Time is to the final answer (for asynchronous vendors: until the '
        "invoice number is known). Refusals show the canonical error code and the vendor's "
        "raw code.</p>"
        f"{_table(['scenario / 场景', *map(_e, labels)], rows)}</section>"
    )

    # -- per operation --------------------------------------------------------------------------
    op_names = list(dict.fromkeys(k for p in profiles for k in p["operations"]))
    op_rows = []
    for op in op_names:
        cells = []
        for p in profiles:
            s = p["operations"].get(op)
            if s is None:
                cells.append('<span class="unsupported">–</span>')
                continue
            rate = s["success_rate"]
            shown = f"{rate * 100:.1f} %" if rate is not None else "–"
            errors = ", ".join(f"<code>{_e(c)}</code>×{n}" for c, n in s["errors"].items())
            expected = (
                f" ({s['refused_as_expected']} refused as expected)"
                if s["refused_as_expected"]
                else ""
            )
            cells.append(f"{s['ok']}/{s['calls']} ok · {shown}{_e(expected)}<br>{errors}")
        op_rows.append([f"<code>{_e(op)}</code>", *cells])
    parts.append(
        "<section><h2>3. Per-operation success and canonical errors / 各操作成功率与错误</h2>"
        '<p class="note">Success rate counts the calls meant to succeed; refusals of the bad '
        "inputs are listed with their codes.</p>"
        f"{_table(['operation', *map(_e, labels)], op_rows)}</section>"
    )

    # -- latency ------------------------------------------------------------------------------------
    groups = []
    for key, title in LATENCY_OPERATIONS:
        rows_box = [
            BoxRow(
                labels[i], _colour(i), _summary((p["operations"].get(key) or {}).get("latency_ms"))
            )
            for i, p in enumerate(profiles)
        ]
        if any(r.summary for r in rows_box):
            groups.append((title, rows_box))
    latency_svg = latency_chart("latency", "Latency distributions (ms, log scale)", groups)
    lat_rows = []
    for key, title in LATENCY_OPERATIONS:
        for i, p in enumerate(profiles):
            s = (p["operations"].get(key) or {}).get("latency_ms")
            if s:
                lat_rows.append(
                    [
                        _e(title),
                        _e(labels[i]),
                        *(
                            f"{s[k]:.1f}" if k != "n" else str(s[k])
                            for k in ("n", "p50", "p90", "p99", "max")
                        ),
                    ]
                )
    parts.append(
        "<section><h2>4. Latency / 延迟分布</h2>"
        '<p class="note">Box: p25–p75, thick bar: median, whiskers: min–p99, dot: max. '
        "Log scale.</p>"
        f"{latency_svg}<details><summary>percentiles</summary>"
        f"{_table(['operation', 'profile', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], lat_rows, num_from=2)}"
        "</details></section>"
    )

    # -- throughput --------------------------------------------------------------------------------
    with_tp = [(i, p) for i, p in enumerate(profiles) if p.get("throughput")]
    if with_tp:
        series = [
            (
                labels[i],
                _colour(i),
                [p["throughput"]["accepted_per_second"], p["throughput"]["issued_per_second"]],
            )
            for i, p in with_tp
        ]
        tp_svg = bar_chart(
            "throughput",
            "Burst throughput (invoices per second)",
            ["accepted / 受理", "issued / 出号"],
            series,
            "/s",
        )
        tp_rows = [
            [
                _e(labels[i]),
                str(t["invoices"]),
                str(t["concurrency"]),
                str(t["issued"]),
                str(t["failed"]),
                f"{t['accept_seconds']:.2f}",
                f"{t['issued_seconds']:.2f}",
                ", ".join(f"{_e(c)}×{n}" for c, n in t["errors"].items()) or "–",
            ]
            for i, p in with_tp
            for t in [p["throughput"]]
        ]
        first = with_tp[0][1]["throughput"]
        parts.append(
            "<section><h2>5. Throughput / 吞吐</h2>"
            f'<p class="note">{first["invoices"]} 普票 issued {first["concurrency"]} at a time; '
            "accepted = the vendor answered, issued = the invoice number is known. A declared "
            "rate limit caps this by design.</p>"
            f"{tp_svg}"
            f"{_table(['profile', 'invoices', 'concurrency', 'issued', 'failed', 'to last answer s', 'to last number s', 'errors'], tp_rows, num_from=1)}"
            "</section>"
        )

    # -- cost ---------------------------------------------------------------------------------------
    pricing = report.get("pricing")
    if pricing:
        currency = pricing["currency"]
        priced = [(i, p) for i, p in enumerate(profiles) if p.get("cost_per_10000")]
        cost_rows = []
        chart_rows = []
        for i, p in priced:
            c = p["cost_per_10000"]
            comps = [
                ("annual fee", c["annual_fee"]),
                ("invoices", c["invoices"]),
                ("red reversals", c["red_reversals"]),
                ("SMS", c["sms"]),
                ("e-mail", c["email"]),
            ]
            chart_rows.append((labels[i], [(k, float(Decimal(str(v)))) for k, v in comps]))
            flags = "".join(f"<li>{_e(f)}</li>" for f in c["flags"])
            cost_rows.append(
                [
                    f"{_e(labels[i])}<br><small>{_e(c.get('label') or '')}</small>"
                    + (f'<ul class="flags">{flags}</ul>' if flags else ""),
                    *(_money(v) for _k, v in comps),
                    f"<b>{_money(c['total'])}</b>",
                ]
            )
        unpriced = [labels[i] for i, p in enumerate(profiles) if not p.get("cost_per_10000")]
        a = pricing["assumptions"]
        cost_svg = stacked_bar_chart(
            "cost", f"Cost per 10,000 invoices ({currency})", chart_rows, currency
        )
        parts.append(
            "<section><h2>6. Cost per 10,000 invoices / 每万张发票成本</h2>"
            f'<p class="note">From the pricing table you supplied, at {a["invoices_per_year"]:,} '
            f"invoices a year, {Decimal(str(a['red_share'])) * 100:g} % red reversals, "
            f"{Decimal(str(a['sms_share'])) * 100:g} % SMS and "
            f"{Decimal(str(a['email_share'])) * 100:g} % e-mail deliveries. A charge the quote "
            "leaves out is flagged, not assumed free.</p>"
            f"{cost_svg}"
            f"{_table(['profile', 'annual fee', 'invoices', 'red reversals', 'SMS', 'e-mail', 'total'], cost_rows, num_from=1)}"
            + (
                f'<p class="note">No price given for: {_e(", ".join(unpriced))}.</p>'
                if unpriced
                else ""
            )
            + "</section>"
        )

    notes = "".join(f"<li>{_e(n)}</li>" for n in report.get("notes", []))
    title = "fapiao compare: " + " vs ".join(labels)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Provider comparison / 服务商对比: {_e(' vs '.join(labels))}</h1>"
        f"<p>generated {_e(report['generated_at'])} by fapiao {_e(report['fapiao_version'])} · "
        f"burst {report['burst']} at concurrency {report['concurrency']}</p></header>"
        f"<main>{''.join(parts)}</main>"
        f"<footer><ul>{notes}</ul><p>Data: the JSON report next to this file "
        f"(schema <code>{_e(report['schema'])}</code>).</p></footer></body></html>\n"
    )

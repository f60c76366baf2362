"""``fapiao batch FILE``: issue a JSON Lines or CSV file of invoices, resumably.

Streams the file (constant memory), bounded by ``--concurrency`` and each profile's own
limits, with a progress bar (rate, ETA). Invalid rows are reported with their line number
and field path and skipped. Killing it at any point and running the same command again
finishes the batch: no invoice is issued twice and none is lost (the ledger is keyed by
seller + order id; progress is saved as it goes). ``--pilot N`` issues only the first N
invoices and prints a reconciliation of orders against invoices to check before the rest.

Exit status: 0 every invoice issued (or, with ``--pilot``, every pilot invoice matches its
order), 1 some invoice failed, was invalid, is still pending or does not match.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fapiao.cli.options import ConfigOption, JsonOption, LogFileOption, LogLevelOption
from fapiao.cli.runtime import batch_progress, engine_client, run, setup_logging

__all__ = ["batch_command"]

_SHOWN = 20  # rows of each problem list printed (all are in --json)


class BatchFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def batch_command(
    file: Annotated[Path, typer.Argument(help="invoices: .jsonl (one per line) or .csv")],
    config: ConfigOption = None,
    fmt: Annotated[
        BatchFormat | None,
        typer.Option("--format", help="jsonl or csv (default: from the file name)"),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, max=10_000, help="requests in flight")
    ] = None,
    pilot: Annotated[
        int | None,
        typer.Option("--pilot", min=1, help="issue only the first N, then reconcile them"),
    ] = None,
    settle: Annotated[
        bool,
        typer.Option(
            "--settle/--no-settle", help="wait for asynchronous issuance to finish at the end"
        ),
    ] = True,
    settle_timeout: Annotated[
        float | None, typer.Option("--settle-timeout", min=0, help="seconds (default: derived)")
    ] = None,
    as_json: JsonOption = False,
    log_level: LogLevelOption = "warning",
    log_file: LogFileOption = None,
) -> None:
    """Issue a file of invoices (批量开票): streamed, bounded, resumable."""
    from fapiao.cli.output import emit_json
    from fapiao.engine.client import run_batch

    setup_logging(log_level, log_file)

    async def main() -> object:
        async with engine_client(config) as client:
            with batch_progress(f"批量开票 / batch {file.name}", enabled=not as_json) as tick:
                return await run_batch(
                    client,
                    file,
                    fmt=fmt.value if fmt is not None else None,
                    concurrency=concurrency,
                    pilot=pilot,
                    progress=tick,
                    settle=settle,
                    settle_timeout=settle_timeout,
                )

    report = run(main, as_json=as_json)
    from fapiao.engine.batch import BatchReport

    assert isinstance(report, BatchReport)
    if as_json:
        emit_json(report.to_dict())
    else:
        _print(report)
    if report.pilot is not None:
        ok = bool(report.pilot) and all(row.matches for row in report.pilot)
    else:
        ok = report.failed == 0 and report.invalid == 0 and report.pending == 0
    if not ok:
        raise typer.Exit(1)


def _print(report: object) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from fapiao.cli.output import console, err_console
    from fapiao.engine.batch import BatchReport

    assert isinstance(report, BatchReport)
    table = Table(title="批量开票结果 / batch result", box=box.SIMPLE_HEAD)
    for column in ("total", "resumed past", "processed", "issued", "pending", "failed", "invalid"):
        table.add_column(column, justify="right")
    table.add_column("rate")
    table.add_row(
        str(report.total),
        str(report.skipped),
        str(report.processed),
        f"[green]{report.issued}[/]",
        f"[yellow]{report.pending}[/]" if report.pending else "0",
        f"[red]{report.failed}[/]" if report.failed else "0",
        f"[magenta]{report.invalid}[/]" if report.invalid else "0",
        f"{report.rate:,.0f}/s in {report.elapsed:.1f} s",
    )
    console.print(table)
    if report.skipped and report.processed == 0 and report.complete:
        console.print("  这个文件已处理完毕 / this file was already finished: nothing sent again")
    for invalid in report.invalid_rows[:_SHOWN]:
        for found in invalid.issues:
            err_console.print(
                f"  [magenta]invalid[/] {escape(str(found))}", highlight=False, soft_wrap=True
            )
    for failure in report.failures[:_SHOWN]:
        err_console.print(
            f"  [red]failed[/] line {failure['line']} order {failure['order_id']}: "
            f"{failure['code']} {escape(str(failure['message']))}",
            highlight=False,
            soft_wrap=True,
        )
    for pending in report.pending_orders[:_SHOWN]:
        err_console.print(
            f"  [yellow]pending[/] line {pending['line']} order {pending['order_id']} "
            f"({pending['state']}): run `fapiao reconcile` later",
            highlight=False,
            soft_wrap=True,
        )
    hidden = (
        max(0, len(report.invalid_rows) - _SHOWN)
        + max(0, len(report.failures) - _SHOWN)
        + max(0, len(report.pending_orders) - _SHOWN)
    )
    if hidden:
        err_console.print(f"  … {hidden} more (use --json for all)")
    if report.pilot is not None:
        pilot = Table(
            title="试点对账 / pilot: orders vs invoices", box=box.SIMPLE_HEAD, pad_edge=False
        )
        pilot.add_column("line", justify="right")
        pilot.add_column("order", no_wrap=True, min_width=12)
        pilot.add_column("invoice number", no_wrap=True, min_width=20)
        pilot.add_column("expected", justify="right")
        pilot.add_column("invoiced", justify="right")
        pilot.add_column("match")
        for row in report.pilot:
            pilot.add_row(
                str(row.line),
                row.order_id,
                row.invoice_number or "-",
                str(row.expected_total_with_tax),
                str(row.invoiced_total_with_tax)
                if row.invoiced_total_with_tax is not None
                else "-",
                "[green]✓[/]" if row.matches else f"[red]✗ {row.state}[/]",
            )
        console.print(pilot)
        console.print(
            "  检查无误后去掉 --pilot 重新运行即可继续 / when these are right, run again "
            "without --pilot: issued orders are not sent again"
        )

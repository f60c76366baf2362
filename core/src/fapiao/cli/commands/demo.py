"""``fapiao demo``: the README's main command — the whole product, end to end, on loopback.

Starts both provider sandboxes, writes a config for two subsidiaries on two providers with
an encrypted secrets file, an SQLite ledger and the callback service, issues a batch of
realistic invoices with progress, receives the signed callbacks, partly reverses one 专票
per provider, downloads every PDF/OFD/XML, and prints a summary per provider. Each run
gets a fresh directory under ``--out`` (``<out>/latest`` points at it), so re-running
always works and never touches an earlier run. Exit status 0 when every invoice and red
reversal was issued.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fapiao.cli.options import JsonOption, LogFileOption, LogLevelOption
from fapiao.cli.runtime import batch_progress, run, setup_logging

__all__ = ["demo_command"]


def demo_command(
    out: Annotated[
        Path, typer.Option("--out", help="output folder (a fresh run directory inside)")
    ] = Path("out/demo"),
    n: Annotated[int, typer.Option("--n", min=1, max=100_000, help="invoices to issue")] = 40,
    issue_delay: Annotated[
        float,
        typer.Option("--issue-delay", min=0, help="sandbox seconds from 开票中 to 开票完成"),
    ] = 0.2,
    as_json: JsonOption = False,
    log_level: LogLevelOption = "warning",
    log_file: LogFileOption = None,
) -> None:
    """Run the end-to-end demo on loopback sandboxes (端到端演示)."""
    from fapiao.cli.output import console, emit_json
    from fapiao.demo.runner import DemoOptions, run_demo

    log_filter = setup_logging(log_level, log_file)

    def say(message: str) -> None:
        if not as_json:
            console.print(f"[bold cyan]▶[/] {message}", highlight=False, soft_wrap=True)

    with batch_progress("开票 / issuing", enabled=not as_json) as progress:
        report = run(
            lambda: run_demo(
                DemoOptions(
                    out=out,
                    n=n,
                    issue_delay_seconds=issue_delay,
                    progress=progress,
                    say=say,
                    log_secrets=log_filter.scrubber.add,
                )
            ),
            as_json=as_json,
        )
    if as_json:
        emit_json(report.to_dict())
    else:
        _print_summary(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_summary(report: object) -> None:
    from rich import box
    from rich.table import Table

    from fapiao.cli.output import console
    from fapiao.demo.runner import DemoReport

    assert isinstance(report, DemoReport)
    for s in report.providers:
        console.print(
            f"  {s.provider}: profile {s.profile}, seller / 销方 {s.seller}", highlight=False
        )
    table = Table(title="fapiao demo — 开票汇总 / summary per provider", box=box.SIMPLE_HEAD)
    columns = ("provider", "issued", "failed", "pending", "red", "callbacks", "files")
    for column in (*columns, "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "provider" else "right")
    for s in report.providers:
        table.add_row(
            s.provider,
            f"[green]{s.issued}[/]/{s.invoices}",
            f"[red]{s.failed}[/]" if s.failed else "0",
            str(s.pending),
            str(s.red),
            str(s.callbacks),
            str(s.documents),
            f"{s.issue_p50_ms:.0f}" if s.issue_p50_ms is not None else "-",
            f"{s.issue_p99_ms:.0f}" if s.issue_p99_ms is not None else "-",
        )
    console.print(table)
    for red in report.red_reversals:
        if "error" in red:
            console.print(f"  red reversal of {red['order_id']} failed: {red['error']}")
            continue
        console.print(
            f"  红冲 / red: {red['provider']} blue {red['blue_invoice_number']} → "
            f"red {red.get('red_invoice_number') or '-'} (−{red['reversed_amount']} 不含税), "
            f"blue now {red.get('blue_state')}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"  files / 文件: {report.documents_dir}\n"
        f"  config / 配置: {report.config} (secrets only referenced; values in secrets.enc)\n"
        f"  ledger / 台账: {report.ledger}\n"
        f"  {report.invoices} invoices in {report.elapsed_seconds:.1f} s — "
        + ("[green]OK[/]" if report.ok else "[red]NOT OK[/]"),
        highlight=False,
        soft_wrap=True,
    )

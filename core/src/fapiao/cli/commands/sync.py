"""``fapiao sync``: pull billing documents from an ERP connector, issue them, write back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

_STYLE = {
    "issued": "green",
    "would_issue": "cyan",
    "failed": "red",
    "skipped": "yellow",
    "pending": "magenta",
    "writeback_failed": "red",
}


async def _run(
    connector_name: str,
    config_path: Path | None,
    since: str | None,
    dry_run: bool,
    limit: int | None,
    settle: float,
    show: Any,
) -> Any:
    from fapiao.engine.client import AsyncClient
    from fapiao.engine.config import load_config
    from fapiao.engine.erp_sync import build_connector, run_sync

    config = load_config(config_path)
    connector = build_connector(config, connector_name)
    try:
        async with AsyncClient.from_config(config=config) as client:
            return await run_sync(
                client,
                connector,
                name=connector_name,
                since=since,
                dry_run=dry_run,
                limit=limit,
                settle_seconds=settle,
                progress=show,
            )
    finally:
        await connector.aclose()


def sync_command(
    connector: Annotated[
        str, typer.Option("--connector", "-c", help="connector name, e.g. custom, sap, yonyou")
    ],
    since: Annotated[
        str | None,
        typer.Option("--since", help="start from this connector cursor instead of the stored one"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show what would be issued; issue nothing")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="config file (default: $FAPIAO_CONFIG)")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="at most this many documents")
    ] = None,
    settle: Annotated[
        float, typer.Option("--settle", min=0, help="seconds to wait for asynchronous issuance")
    ] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Sync an ERP: pending documents → invoices → write-back (同步 ERP 单据开票并回写).

    Documents that cannot be mapped are reported with their ERP id and field and skipped;
    the rest goes on. Re-running never issues a document twice. Exit code 1 when any
    document was skipped, failed or is still pending.
    """
    from fapiao.cli.output import console, emit_json, err_console, fail
    from fapiao.errors import FapiaoError

    def show(item: Any) -> None:
        if as_json:
            return
        style = _STYLE.get(item.outcome, "white")
        number = f" {item.invoice_number}" if item.invoice_number else ""
        err_console.print(
            f"[{style}]{item.outcome:>16}[/] {item.source_id}{number}",
            highlight=False,
        )
        for issue in item.issues:
            if not issue.get("warning"):
                err_console.print(
                    f"{'':>18}{issue['path']}: {issue['message_zh']} / {issue['message_en']}",
                    highlight=False,
                )

    try:
        report = asyncio.run(_run(connector, config, since, dry_run, limit, settle, show))
    except FapiaoError as exc:
        fail(exc, as_json=as_json)
    if as_json:
        emit_json(report.to_dict())
    else:
        from rich.table import Table

        table = Table(
            title=f"fapiao sync --connector {connector}" + (" (dry run)" if dry_run else "")
        )
        table.add_column("outcome")
        table.add_column("documents", justify="right")
        for outcome, count in sorted(report.counts().items()):
            table.add_row(outcome, str(count))
        console.print(table)
        console.print(f"cursor: {report.cursor_after or '-'}", highlight=False)
    bad = {"skipped", "failed", "pending", "writeback_failed"}
    if any(item.outcome in bad for item in report.items):
        raise typer.Exit(1)

"""``fapiao reconcile``: settle every open record from the providers' own word.

Queries each provider about its ``submitted``/``issuing`` records (in its declared batch
size), applies the answers idempotently, resends only what provably never arrived (after
the provider's visibility delay), continues confirmed red forms and gives lapsed ones back.
Run it from cron after an outage. Exit status 1 if something needs a person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import engine_client, run

if TYPE_CHECKING:
    from fapiao.engine.reconcile import ReconcileReport

__all__ = ["reconcile_command"]


def reconcile_command(
    profile: Annotated[
        str | None, typer.Option("--profile", help="only this provider profile")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Settle every unsettled request by asking its provider (对账)."""
    from fapiao.cli.output import emit_json

    async def main() -> ReconcileReport:
        async with engine_client(config) as client:
            return await client.reconcile(profile=profile)

    report = run(main, as_json=as_json)
    if as_json:
        emit_json(report.to_dict())
    else:
        _print(report)
    if report.attention or report.errors:
        raise typer.Exit(1)


def _print(report: ReconcileReport) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from fapiao.cli.output import console, err_console

    table = Table(title="对账 / reconcile", box=box.SIMPLE_HEAD)
    for column in ("checked", "queried", "settled", "unchanged", "resubmitted", "red"):
        table.add_column(column, justify="right")
    settled = ", ".join(f"{state} {n}" for state, n in sorted(report.settled.items())) or "0"
    table.add_row(
        str(report.checked),
        str(report.queried),
        settled,
        str(report.unchanged),
        str(len(report.resubmitted)),
        str(report.red_continued),
    )
    console.print(table)
    for entry in report.attention:
        err_console.print(
            f"  [yellow]attention[/] {entry['seller_tax_id']}/{entry['order_id']} "
            f"({entry['state']}): {escape(entry['reason'])}",
            highlight=False,
            soft_wrap=True,
        )
    for entry in report.errors:
        err_console.print(
            f"  [red]error[/] {entry['seller_tax_id']}/{entry['order_id']}: "
            f"{entry['code']} {escape(entry['message'])}",
            highlight=False,
            soft_wrap=True,
        )

"""``fapiao query SELLER ORDER``: where one invoice request stands.

By default an open request (``submitted``/``issuing``) is first settled by asking the
provider that sent it; ``--no-refresh`` reads the ledger only. ``--events`` adds the audit
trail: every state change, when and why (API, batch, callback, poll, reconcile).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import engine_client, print_status, run

if TYPE_CHECKING:
    from fapiao.views import EventOut, InvoiceStatusOut

__all__ = ["query_command"]


def query_command(
    seller: Annotated[str, typer.Argument(help="seller tax ID")],
    order: Annotated[str, typer.Argument(help="external order id")],
    refresh: Annotated[
        bool, typer.Option("--refresh/--no-refresh", help="settle an open request first")
    ] = True,
    events: Annotated[bool, typer.Option("--events", help="show the state history")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the status of one invoice request (查询)."""
    from fapiao.cli.output import console, emit_json
    from fapiao.views import event_out, public_status

    async def main() -> tuple[InvoiceStatusOut, list[EventOut] | None]:
        async with engine_client(config) as client:
            status = await client.query(seller, order, refresh=refresh)
            history = None
            if events:
                record = await client.record(seller, order)
                history = [event_out(e) for e in await client.ledger.events(record.key)]
            return public_status(status), history

    status, history = run(main, as_json=as_json)
    if as_json:
        emit_json({"status": status, "events": history} if events else status)
        return
    print_status(status, title="fapiao query / 查询结果")
    if history:
        from rich import box
        from rich.table import Table

        table = Table(title="状态历史 / events", box=box.SIMPLE_HEAD)
        for column in ("at", "from", "to", "source", "detail"):
            table.add_column(column)
        for event in history:
            table.add_row(
                event.at.isoformat(timespec="seconds"),
                event.from_state or "-",
                event.to_state,
                event.source,
                ", ".join(f"{k}={v}" for k, v in (event.detail or {}).items())[:60],
            )
        console.print(table)

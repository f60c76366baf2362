"""``fapiao status``: what the ledger holds — requests by state and by profile, how many are
still open — and how the config routes sellers (tax IDs masked)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import engine_client, run
from fapiao.masking import mask_tax_id
from fapiao.models import InvoiceState

if TYPE_CHECKING:
    from fapiao.views import LedgerSummary

__all__ = ["status_command"]


def status_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Summarise the ledger (台账概况): counts by state and profile, open requests."""
    from fapiao.cli.output import emit_json
    from fapiao.views import ledger_summary

    async def main() -> tuple[LedgerSummary, dict[str, str], dict[str, str]]:
        async with engine_client(config) as client:
            summary = ledger_summary(await client.ledger.stats())
            profiles = {n: p.provider_name for n, p in client.providers.profiles.items()}
            routing = {mask_tax_id(t): p for t, p in client.config.routing.items()}
            return summary, profiles, routing

    summary, profiles, routing = run(main, as_json=as_json)
    if as_json:
        emit_json({"ledger": summary, "profiles": profiles, "routing": routing})
        return
    _print(summary, profiles, routing)


def _print(summary: LedgerSummary, profiles: dict[str, str], routing: dict[str, str]) -> None:
    from rich import box
    from rich.table import Table

    from fapiao.cli.output import console

    states = [s.value for s in InvoiceState]
    table = Table(title="台账 / ledger by profile and state", box=box.SIMPLE_HEAD)
    table.add_column("profile")
    table.add_column("provider")
    shown = [s for s in states if summary.by_state.get(s)]
    for state in shown:
        table.add_column(state, justify="right")
    table.add_column("total", justify="right")
    for profile, counts in sorted(summary.by_profile.items()):
        table.add_row(
            profile,
            profiles.get(profile, "?"),
            *(str(counts.get(s, 0)) for s in shown),
            str(sum(counts.values())),
        )
    table.add_row(
        "[bold]all[/]", "", *(str(summary.by_state.get(s, 0)) for s in shown), str(summary.total)
    )
    console.print(table)
    console.print(
        f"  open (not final) / 未终结: {summary.non_final}   routing / 路由: "
        + ", ".join(f"{t} → {p}" for t, p in sorted(routing.items())),
        highlight=False,
        soft_wrap=True,
    )

"""``fapiao plugins``: what is installed (providers, connectors, hook plugins), its version,
capabilities, the hooks it implements, and load errors."""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = ["plugins_command"]


def _capabilities(obj: Any) -> dict[str, Any] | None:
    caps = getattr(obj, "default_capabilities", None)
    if caps is None:
        return None
    return dict(caps.model_dump(mode="json"))


def plugins_command(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List installed provider, connector and hook plugins (列出已安装插件), broken ones included."""
    from fapiao.cli.output import console, emit_json
    from fapiao.plugins import discover

    registry = discover()
    rows: list[dict[str, Any]] = []
    for kind in ("provider", "connector", "hooks"):
        for name, plugin in sorted(registry.table(kind).items()):
            rows.append(
                {
                    "kind": kind,
                    "name": name,
                    "distribution": plugin.distribution,
                    "version": plugin.version,
                    "status": "ok",
                    "capabilities": _capabilities(plugin.obj),
                    "hooks": list(plugin.hooks),
                    "error": None,
                }
            )
    for broken in registry.broken:
        rows.append(
            {
                "kind": broken.kind,
                "name": broken.name,
                "distribution": broken.distribution,
                "version": None,
                "status": "broken",
                "capabilities": None,
                "hooks": [],
                "error": broken.error,
            }
        )
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table(title="fapiao plugins / 已安装插件")
    for column in ("kind", "name", "distribution", "version", "status", "capabilities / error"):
        table.add_column(column)
    for row in rows:
        caps = row["capabilities"]
        if caps:
            detail = (
                ", ".join(caps["operations"]) + f" · {caps['issuance']} · {caps['status_updates']}"
            )
        elif row["hooks"]:
            detail = "hooks: " + ", ".join(row["hooks"])
        else:
            detail = row["error"] or ""
        status = "[green]ok[/]" if row["status"] == "ok" else "[red]broken[/]"
        table.add_row(
            row["kind"],
            row["name"],
            row["distribution"] or "",
            row["version"] or "",
            status,
            detail,
        )
    console.print(table)

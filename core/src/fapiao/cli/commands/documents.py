"""``fapiao documents SELLER ORDER``: download an issued invoice's PDF, OFD and XML.

Each file is checked before it is kept — type, structure, the invoice number inside, its
sha256 — then written atomically as ``<invoice number>.<format>`` and its hash recorded in
the ledger. Default folder: the config's ``engine.documents_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import engine_client, run
from fapiao.models import DocumentFormat

__all__ = ["documents_command"]


def documents_command(
    seller: Annotated[str, typer.Argument(help="seller tax ID")],
    order: Annotated[str, typer.Argument(help="external order id")],
    fmt: Annotated[
        list[DocumentFormat] | None,
        typer.Option("--format", "-f", help="pdf, ofd or xml (repeat; default: all offered)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="folder (default: engine.documents_dir)")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Download and verify an invoice's files (下载版式文件)."""
    from fapiao.cli.output import console, emit_json

    async def main() -> list[dict[str, object]]:
        async with engine_client(config) as client:
            folder = out if out is not None else client.config.documents_dir()
            files = await client.documents(seller, order, fmt or None, dest_dir=folder)
            return [
                {
                    "format": d.format.value,
                    "invoice_number": d.invoice_number,
                    "path": str(folder / Path(d.filename or f"{d.invoice_number}.{d.format}").name),
                    "sha256": d.sha256,
                    "size": d.size,
                }
                for d in files
            ]

    files = run(main, as_json=as_json)
    if as_json:
        emit_json(files)
        return
    from rich import box
    from rich.table import Table

    table = Table(title="版式文件 / documents (verified)", box=box.SIMPLE_HEAD)
    for column in ("format", "file", "bytes", "sha256"):
        table.add_column(column)
    for item in files:
        table.add_row(
            str(item["format"]), str(item["path"]), str(item["size"]), str(item["sha256"])[:16]
        )
    console.print(table)

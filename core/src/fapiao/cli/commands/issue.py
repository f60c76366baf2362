"""``fapiao issue FILE``: issue one invoice (canonical JSON) through its routed provider.

Exactly once per seller tax ID + order id: running the same command again prints the first
outcome and never sends a second request. With ``--wait`` an asynchronous provider's
``issuing`` is followed up (callbacks or queries) until the invoice is issued or failed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import attempt, engine_client, print_status, run
from fapiao.models import InvoiceState, InvoiceStatus

__all__ = ["issue_command", "read_input"]

_OPEN = {InvoiceState.SUBMITTED, InvoiceState.ISSUING}


def read_input(file: str, *, as_json: bool) -> bytes:
    """The bytes of ``file`` (``-``: standard input), or a clear error naming it."""
    from fapiao.cli.output import fail

    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except OSError as exc:
        fail(f"无法读取 / cannot read {file}: {exc.strerror or exc}", as_json=as_json, code=2)


def issue_command(
    file: Annotated[str, typer.Argument(help="invoice JSON file, or - for standard input")],
    config: ConfigOption = None,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="seconds to wait for an asynchronous provider")
    ] = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Issue one blue invoice (开具蓝字发票), exactly once per seller + order id."""
    from fapiao.cli.output import emit_json
    from fapiao.rules import parse_invoice
    from fapiao.views import public_status

    raw = read_input(file, as_json=as_json)
    invoice = attempt(lambda: parse_invoice(raw), as_json=as_json)

    async def main() -> InvoiceStatus:
        async with engine_client(config) as client:
            status = await client.issue(invoice)
            deadline = time.monotonic() + wait
            delay = 0.1
            while status.state in _OPEN and time.monotonic() < deadline:
                await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 2.0)
                status = await client.query(status.seller_tax_id, status.order_id)
            return status

    status = run(main, as_json=as_json)
    if as_json:
        emit_json(public_status(status))
    else:
        print_status(status, title="fapiao issue / 开票结果")

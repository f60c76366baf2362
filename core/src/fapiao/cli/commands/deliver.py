"""``fapiao deliver SELLER INVOICE_NUMBER --email A | --sms M``: send an issued invoice to
the buyer through its provider (交付). The address is never printed in full."""

from __future__ import annotations

from typing import Annotated

import typer

from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import attempt, engine_client, run
from fapiao.masking import mask_phone
from fapiao.models import Delivery, DeliveryChannel, DeliveryResult

__all__ = ["deliver_command"]


def _mask_address(channel: DeliveryChannel, address: str) -> str:
    if channel is DeliveryChannel.SMS:
        return mask_phone(address)
    name, _, domain = address.partition("@")
    return (name[:1] + "***@" + domain) if domain else "***"


def deliver_command(
    seller: Annotated[str, typer.Argument(help="seller tax ID")],
    invoice_number: Annotated[str, typer.Argument(help="20-digit invoice number")],
    email: Annotated[str | None, typer.Option("--email", help="buyer e-mail")] = None,
    sms: Annotated[str | None, typer.Option("--sms", help="buyer mobile number")] = None,
    order: Annotated[
        str | None, typer.Option("--order", help="its order id (routes by the ledger)")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deliver an issued invoice by e-mail or SMS (交付)."""
    from fapiao.cli.output import console, emit_json, fail

    if (email is None) == (sms is None):
        fail(
            "请给出 --email 或 --sms 之一 / give exactly one of --email or --sms",
            as_json=as_json,
            code=2,
        )
    channel = DeliveryChannel.EMAIL if email is not None else DeliveryChannel.SMS
    address = email if email is not None else sms
    delivery = attempt(
        lambda: Delivery(
            seller_tax_id=seller,
            invoice_number=invoice_number,
            order_id=order,
            channel=channel,
            address=address or "",
        ),
        as_json=as_json,
    )

    async def main() -> DeliveryResult:
        async with engine_client(config) as client:
            return await client.deliver(delivery)

    result = run(main, as_json=as_json)
    if as_json:
        emit_json(result)
    elif result.accepted:
        console.print(
            f"[green]已交付 / delivered[/] {invoice_number} via {channel.value} to "
            f"{_mask_address(channel, address or '')}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        error = result.error
        fail(f"交付失败 / delivery refused: {error.code if error else 'unknown'}")
    if not result.accepted:
        raise typer.Exit(1)

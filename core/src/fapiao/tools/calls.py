"""Small helpers the tools share around provider calls: waiting for asynchronous issuance
and reading the canonical codes out of a refusal."""

from __future__ import annotations

import asyncio
import time

from fapiao.contract.provider import Provider
from fapiao.errors import FapiaoError, InvalidInvoice
from fapiao.models import InvoiceState, InvoiceStatus

__all__ = ["error_codes", "settle"]


async def settle(
    provider: Provider,
    seller_tax_id: str,
    order_id: str,
    *,
    within: float = 10.0,
    first_poll: float = 0.01,
    max_poll: float = 0.2,
) -> InvoiceStatus:
    """Query until the order has left ``issuing`` and return it; ``TimeoutError`` after
    ``within`` seconds (an accepted order that stays invisible is reported, never resent)."""
    deadline = time.monotonic() + within
    delay = first_poll
    while True:
        found = [
            s for s in await provider.query(seller_tax_id, [order_id]) if s.order_id == order_id
        ]
        if found and found[0].state is not InvoiceState.ISSUING:
            return found[0]
        if time.monotonic() + delay > deadline:
            state = found[0].state.value if found else "not visible"
            raise TimeoutError(f"order {order_id} still {state} after {within:.1f} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_poll)


def error_codes(error: FapiaoError) -> set[str]:
    """The canonical code, plus the rule codes of an ``InvalidInvoice``'s issues (a bad tax
    ID caught before sending is ``INVALID_INVOICE`` with an ``INVALID_TAX_ID`` issue: the
    same meaning as the provider's own refusal)."""
    codes = {error.code}
    if isinstance(error, InvalidInvoice):
        codes |= {i.code for i in error.issues if not i.warning}
    return codes

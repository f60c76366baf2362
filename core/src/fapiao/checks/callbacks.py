"""The check of signed status callbacks: the genuine one the provider sent verifies and
normalises to the issued invoice; a tampered, an unsigned and a replayed one are refused."""

from __future__ import annotations

from dataclasses import replace

from fapiao.checks.check import CheckFailed, Declared, Evidence, check
from fapiao.checks.context import CheckContext
from fapiao.errors import CallbackRejected
from fapiao.models import InvoiceState, Operation
from fapiao.testing.harness import CapturedRequest

__all__ = ["callbacks"]


def _forgeries(genuine: CapturedRequest) -> dict[str, CapturedRequest]:
    """The genuine callback with one digit of its body changed, and without its signature
    headers (every header when none is named after a signature)."""
    body = bytearray(genuine.body)
    digit = next((i for i, b in enumerate(body) if 0x30 <= b <= 0x38), len(body) - 1)
    body[digit] += 1
    signed = [k for k in genuine.headers if "sign" in k.lower()] or list(genuine.headers)
    return {
        "tampered": replace(genuine, body=bytes(body)),
        "unsigned": replace(
            genuine, headers={k: v for k, v in genuine.headers.items() if k not in signed}
        ),
    }


@check(
    "callbacks",
    "signed callbacks verified / 回调验签",
    "callbacks_verify_and_refuse_forgery_and_replay",
    Declared(Operation.CALLBACK),
)
async def callbacks(ctx: CheckContext) -> Evidence:
    receiver = ctx.callbacks
    if receiver is None:
        raise ctx.lacks("callbacks", "callbacks are declared but nothing receives them here")
    issued = await ctx.blue("a callback")
    order = issued.invoice.order_id
    try:
        genuine = await receiver.wait_for(
            lambda r: order.encode() in r.body, within=ctx.settle_timeout
        )
    except TimeoutError as exc:
        raise CheckFailed(f"no callback for order {order}: {exc}") from exc

    def verify(request: CapturedRequest) -> bool:
        """Whether the provider accepts ``request`` as a callback."""
        try:
            ctx.provider.verify_callback(request.headers, request.body, request.query)
        except CallbackRejected:
            return False
        return True

    result = ctx.provider.verify_callback(genuine.headers, genuine.body, genuine.query)
    mine = [s for s in result.statuses if s.order_id == order]
    if (
        not mine
        or mine[0].state is not InvoiceState.ISSUED
        or mine[0].invoice_number != (issued.number)
    ):
        raise CheckFailed("the genuine callback did not normalise to the issued invoice")
    if not 200 <= result.response_status < 300:
        raise CheckFailed(f"the genuine callback is answered with {result.response_status}")
    accepted = [name for name, forged in _forgeries(genuine).items() if verify(forged)]
    if verify(genuine):  # the same genuine one a second time
        accepted.append("replayed")
    if accepted:
        raise CheckFailed(f"forged callbacks accepted: {', '.join(accepted)}")
    return {
        "order_id": order,
        "invoice_number": issued.number,
        "refused": "tampered, unsigned, replayed",
    }

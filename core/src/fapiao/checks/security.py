"""Checks of secrets and signatures: ``scrub`` cleans transcripts in the shapes vendors use,
the transport's real log lines of an issue hold no secret, and a genuine signed callback
verifies while a tampered, an unsigned or a replayed one is refused."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from fapiao.checks.check import SUITE_ONLY, CheckFailed, Declared, Evidence, check
from fapiao.checks.context import CheckContext
from fapiao.errors import CallbackRejected
from fapiao.masking import mask_tax_id
from fapiao.models import InvoiceState, Operation
from fapiao.testing.harness import CapturedRequest

__all__ = ["callbacks", "scrub", "transport_logs_scrubbed"]


def _secrets(ctx: CheckContext) -> list[str]:
    secrets = [s for s in ctx.secrets if s]
    if not secrets:
        raise ctx.lacks("secrets", "no secret to look for")
    return secrets


@check("scrub", "secrets scrubbed / 日志脱敏", "scrub_removes_every_secret")
async def scrub(ctx: CheckContext) -> Evidence:
    secrets, tax_id = _secrets(ctx), ctx.seller_tax_id
    leaks = 0
    for secret in secrets:
        for transcript in (
            f"POST /api HTTP/1.1\nAuthorization: Bearer {secret}\nX-Api-Key: {secret}\n",
            f'{{"client_secret": "{secret}", "appSecret": "{secret}", "taxNum": "{tax_id}"}}',
            f"grant_type=client_credentials&client_secret={secret}&client_id=x",
            f"raw {secret} in the middle of text and {tax_id}",
        ):
            scrubbed = ctx.provider.scrub(transcript)
            leaks += sum(s in scrubbed for s in secrets) + bool(tax_id and tax_id in scrubbed)
    if leaks:
        raise CheckFailed(f"scrub left {leaks} secret or tax ID occurrence(s) in transcripts")
    return {"secrets_checked": str(len(secrets)), "tax_id_masked": mask_tax_id(tax_id)}


@check(
    "transport_logs_scrubbed",
    "transport log lines scrubbed / 传输日志脱敏",
    "scrub_removes_every_secret",
    runners=SUITE_ONLY,
)
async def transport_logs_scrubbed(ctx: CheckContext) -> Evidence:
    """Issue one invoice with fapiao's loggers at DEBUG; no line may hold a secret. At least
    one line must be logged: a plugin that bypasses the shared transport is unscrubbed."""
    secrets = _secrets(ctx)
    with _captured("fapiao") as records:
        await ctx.issue(ctx.fresh())
    lines = [r.getMessage() for r in records]
    if not lines:
        raise CheckFailed("an issue logged nothing at DEBUG: requests bypass the transport")
    leaking = [line for line in lines if any(s in line for s in secrets)]
    if leaking:
        raise CheckFailed(f"{len(leaking)} of {len(lines)} transport log line(s) hold a secret")
    return {"lines_checked": str(len(lines))}


@contextmanager
def _captured(name: str) -> Iterator[list[logging.LogRecord]]:
    """Every record of logger ``name`` and below, at DEBUG, while the block runs."""

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    records: list[logging.LogRecord] = []
    logger, handler = logging.getLogger(name), Keep(logging.DEBUG)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


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

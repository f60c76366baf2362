"""Checks that secrets never show: ``scrub`` cleans transcripts in the shapes vendors use, and
the transport's real log lines of an issue hold no secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fapiao.checks.check import SUITE_ONLY, CheckFailed, Evidence, check
from fapiao.checks.context import CheckContext
from fapiao.masking import mask_tax_id

__all__ = ["scrub", "transport_logs_scrubbed"]


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

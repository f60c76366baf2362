"""A full run through both vendors: documents verified and archived, and not one log line
carrying a secret, a full tax ID or a phone number."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import pluggy
import pytest

from fapiao import hookspecs
from fapiao.documents import verify_document
from fapiao.engine.ledger import RequestKey
from fapiao.errors import FapiaoError, InvalidInvoice
from fapiao.models import (
    DocumentFormat,
    InvoiceState,
    Party,
    RedLine,
    RedReason,
    RedReversalRequest,
)
from fapiao.testing.samples import DEFAULT_BUYER, new_order_id, sample_invoices, service_invoice


class Archive:
    def __init__(self) -> None:
        self.archived: list[tuple[str, list[Any]]] = []
        self.before: list[tuple[str, str]] = []
        self.after: list[tuple[str, str, str | None]] = []

    @hookspecs.hookimpl
    def fapiao_before_provider_call(self, provider: str, operation: str, payload: Any) -> None:
        self.before.append((provider, operation))

    @hookspecs.hookimpl
    def fapiao_after_provider_call(
        self, provider: str, operation: str, duration_seconds: float, error: Any
    ) -> None:
        self.after.append((provider, operation, error.code if error else None))

    @hookspecs.hookimpl
    def fapiao_archive_invoice(self, status: Any, documents: list[Any]) -> None:
        self.archived.append((status.order_id, documents))


def lines_of(records: list[logging.LogRecord]) -> list[str]:
    out = []
    for record in records:
        text = f"{record.name} {record.getMessage()}"
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        out.append(text)
    return out


async def test_full_run(
    engine_env, tmp_path: Path, caplog: pytest.LogCaptureFixture, callback_receiver
) -> None:
    env = engine_env
    caplog.set_level(logging.DEBUG)
    archive = Archive()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(archive)
    profiles = {
        "nn": env.profile("nuonuo", timeout_seconds=1.0, callback_url=callback_receiver.url),
        "bw": env.profile("baiwang", timeout_seconds=1.0),
    }
    config = env.write_config(profiles=profiles)
    people = {DEFAULT_BUYER.tax_id, "13812345678"}
    dest = tmp_path / "documents"
    async with env.client(config, plugin_manager=pm) as client:
        for name in ("nuonuo", "baiwang"):
            v = env.vendors[name]
            people.add(v.seller_tax_id)
            invoices = sample_invoices(v.seller())
            v.proxy.fault_next(v.issue_op, "timeout=2", order_id=invoices[0].order_id)
            for invoice in invoices:
                await client.issue(invoice)
            await client.reconcile()
            status = await client.query(v.seller_tax_id, invoices[0].order_id)
            for _ in range(50):
                if status.state is InvoiceState.ISSUED:
                    break
                await asyncio.sleep(0.02)
                status = await client.query(v.seller_tax_id, invoices[0].order_id)
            assert status.state is InvoiceState.ISSUED
            documents = await client.documents(v.seller_tax_id, invoices[0].order_id, dest_dir=dest)
            assert {d.format for d in documents} == set(DocumentFormat)
            recorded = await client.ledger.documents(
                RequestKey(v.seller_tax_id, invoices[0].order_id)
            )
            assert {r.format for r in recorded} == set(DocumentFormat)
            for row in recorded:
                content = await asyncio.to_thread(Path(row.location).read_bytes)
                assert (
                    hashlib.sha256(content).hexdigest() == row.sha256 and len(content) == row.size
                )
                verify_document(row.format, content, invoice_number=status.invoice_number)
            red = RedReversalRequest(
                order_id=new_order_id("RED"),
                seller_tax_id=v.seller_tax_id,
                buyer_tax_id=DEFAULT_BUYER.tax_id,
                original_invoice_number=status.invoice_number or "",
                original_order_id=invoices[0].order_id,
                reason=RedReason.SALES_ALLOWANCE,
                lines=(RedLine(original_line=1, amount=Decimal("99.99")),),
            )
            await client.red_reverse(red)
            bad_buyer = Party(name="某公司", tax_id="91310000MA1FL8XQ3X")
            with pytest.raises(InvalidInvoice):
                await client.issue(service_invoice(v.seller(), bad_buyer))
            await client.reconcile()
            quota = await client.quota(v.seller_tax_id)
            assert quota.seller_tax_id == v.seller_tax_id
        for request in callback_receiver.snapshot():
            with contextlib.suppress(FapiaoError):  # another test's order, or already applied
                await client.apply_callback("nn", request.headers, request.body, request.query)
    assert len(archive.before) == len(archive.after) > 10
    assert ("nuonuo", "issue", "OUTCOME_UNKNOWN") in archive.after  # the injected timeout
    assert ("baiwang", "issue", "OUTCOME_UNKNOWN") in archive.after
    assert {op for _, op, _ in archive.after} >= {
        "issue",
        "query",
        "documents",
        "red_apply",
        "quota",
    }
    assert [order for order, _ in archive.archived] and all(
        len(docs) == 3 for _, docs in archive.archived
    )
    ours = [r for r in caplog.records if not r.name.startswith("uvicorn")]
    assert len(ours) > 10  # the run did log (transport, engine, httpx)
    secrets = [s for s in env.secret_values if len(s) >= 6]
    for line in lines_of(ours):
        for secret in secrets:
            assert secret not in line, line
        for identifier in people:
            assert identifier not in line, line

"""The connector against the simulator: pending documents, cursor, token cache, write-back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fapiao.sdk import AuthFailed, Connector, InvoiceState, WriteBack
from fapiao_erp_yonyou import YonyouConnector
from fapiao_erp_yonyou.simulator import YonyouSimulator

from .conftest import make_settings

PENDING_BLUE = 10  # 12 samples less one unaudited and one already invoiced


async def _all(connector: YonyouConnector, cursor: str | None = None) -> list:
    return [doc async for doc in connector.pending(cursor)]


def test_connector_satisfies_the_contract(settings) -> None:
    assert isinstance(YonyouConnector(settings), Connector)


async def test_pending_lists_audited_uninvoiced_documents_oldest_first(connector, simulator) -> None:
    docs = await _all(connector)
    assert len(docs) == PENDING_BLUE
    codes = [d.id for d in docs]
    assert all(code.startswith("TI") for code in codes)
    stamps = [d.changed_at for d in docs]
    assert stamps == sorted(stamps)
    by_code = {d.payload["code"]: d.payload for d in docs}
    assert not any(p["status"] != 1 for p in by_code.values())
    assert not any(p["taxBillingStatus"] != 1 for p in by_code.values())
    assert not [d for d in docs if d.kind == "red"]
    # paging: page_size 3 over 10 headers needs 4 list calls; one detail call per document
    assert simulator.counters["list"] == 4
    assert simulator.counters["detail"] == PENDING_BLUE


async def test_red_invoice_comes_with_its_blue_invoice(connector, simulator, server) -> None:
    import httpx

    blue = next(d for d in simulator.documents["saleinvoice"].values() if d["einvoiceHm"])
    async with httpx.AsyncClient(base_url=server.base_url) as admin:
        made = (await admin.post(f"/__sim__/vouchersaleinvoice/{blue['id']}/red")).json()
    docs = await _all(connector)
    red = [d for d in docs if d.kind == "red"]
    assert [d.id for d in red] == [made["code"]]
    assert red[0].payload["_blue"]["einvoiceHm"] == blue["einvoiceHm"]
    assert docs[-1].id == made["code"]  # newest pubts last


async def test_cursor_resumes_after_the_last_document(connector) -> None:
    docs = await _all(connector)
    resumed = await _all(connector, docs[4].cursor)
    assert [d.id for d in resumed] == [d.id for d in docs[5:]]
    assert await _all(connector, docs[-1].cursor) == []


async def test_one_token_serves_every_call(connector, simulator) -> None:
    await _all(connector)
    await _all(connector)
    assert simulator.counters["token"] == 1
    assert connector.api.token_fetches == 1


async def test_expired_token_is_renewed_once_and_the_call_succeeds(connector, simulator) -> None:
    await _all(connector)
    simulator.expire_tokens()
    assert len(await _all(connector)) == PENDING_BLUE
    assert simulator.counters["token"] == 2


async def test_wrong_secret_is_auth_failed_with_the_platform_code(server) -> None:
    conn = YonyouConnector(make_settings(server.base_url, app_secret="0" * 32))
    try:
        with pytest.raises(AuthFailed) as info:
            await _all(conn)
    finally:
        await conn.aclose()
    assert info.value.raw_code == "310003"
    assert "0" * 32 not in str(info.value)


async def test_write_back_is_idempotent_and_removes_the_document_from_pending(connector, simulator) -> None:
    docs = await _all(connector)
    first = docs[0]
    outcome = WriteBack(
        source_id=first.id,
        order_id=first.id,
        state=InvoiceState.ISSUED,
        invoice_number="25312000000000012345",
        issued_at=datetime(2025, 3, 4, 2, 0, tzinfo=UTC),
        document_urls={"pdf": "https://files.example.cn/25312000000000012345.pdf"},
    )
    await connector.write_back(outcome)
    await connector.write_back(outcome)  # a retry: same resubmitCheckKey, same answer
    assert simulator.counters["writeback"] == 2
    assert simulator.counters["writeback_applied"] == 1
    stored = simulator.documents["saleinvoice"][int(first.payload["id"])]
    assert stored["einvoiceHm"] == "25312000000000012345"
    assert stored["taxBillingStatus"] == 2
    assert stored["blueEinvoiceKprq"] == "2025-03-04 10:00:00"  # Beijing time
    assert stored["einvoiceDownUrl"].endswith(".pdf")
    remaining = await _all(connector)
    assert first.id not in [d.id for d in remaining]
    assert len(remaining) == PENDING_BLUE - 1


async def test_failed_outcome_is_written_with_its_reason(connector, simulator) -> None:
    doc = (await _all(connector))[1]
    await connector.write_back(
        WriteBack(
            source_id=doc.id,
            order_id=doc.id,
            state=InvoiceState.FAILED,
            error_code="QUOTA_EXCEEDED",
            error_message="开票额度不足",
        )
    )
    stored = simulator.documents["saleinvoice"][int(doc.payload["id"])]
    assert stored["taxBillingStatus"] == 3
    assert stored["einvoiceFailMemo"] == "[QUOTA_EXCEEDED] 开票额度不足"


async def test_write_back_from_a_new_process_finds_the_document_by_code(settings, simulator) -> None:
    target = next(d for d in simulator.documents["saleinvoice"].values() if d["taxBillingStatus"] == 1)
    fresh = YonyouConnector(settings)  # never listed anything: must look the id up by 单据编号
    try:
        await fresh.write_back(
            WriteBack(
                source_id=target["code"],
                order_id=target["code"],
                state=InvoiceState.ISSUED,
                invoice_number="25312000000000054321",
            )
        )
    finally:
        await fresh.aclose()
    assert target["einvoiceHm"] == "25312000000000054321"


async def test_sales_orders_are_a_document_type_too(server, simulator) -> None:
    conn = YonyouConnector(make_settings(server.base_url, document="saleorder"))
    try:
        docs = await _all(conn)
        assert [d.id for d in docs] == [o["code"] for o in simulator.documents["saleorder"].values()]
        mapped = conn.map(docs[1])
        assert mapped.invoice is not None
        assert mapped.invoice.buyer.tax_id == "91320594MA1M2N3P42"
        assert mapped.invoice.kind.value == "special"
        await conn.write_back(
            WriteBack(source_id=docs[0].id, order_id=docs[0].id, state=InvoiceState.ISSUED, invoice_number="25312000000000099999")
        )
        assert len(await _all(conn)) == len(docs) - 1
    finally:
        await conn.aclose()


async def test_unknown_api_path_is_reported_with_the_gateway_code(server) -> None:
    conn = YonyouConnector(make_settings(server.base_url, writeback_path="/yonbip/sd/nosuch/api"))
    try:
        doc = (await _all(conn))[0]
        with pytest.raises(Exception) as info:
            await conn.write_back(WriteBack(source_id=doc.id, order_id=doc.id, state=InvoiceState.ISSUED))
    finally:
        await conn.aclose()
    assert getattr(info.value, "raw_code", None) == "310404"


def test_simulator_fixture_has_the_expected_samples(simulator: YonyouSimulator) -> None:
    assert len(simulator.documents["saleinvoice"]) == 12

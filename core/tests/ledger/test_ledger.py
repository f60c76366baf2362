"""The ledger's API on SQLite and PostgreSQL: idempotency, transitions, monotonic statuses,
exact money, documents, red forms, cursors, batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from fapiao.engine.ledger import EventSource, Ledger, RequestKey, RequestKind
from fapiao.errors import (
    InvalidInvoice,
    InvalidRequest,
    InvalidStateTransition,
    NotFound,
    ProviderUnavailable,
)
from fapiao.models import (
    DocumentFormat,
    ErrorInfo,
    InvoiceState,
    InvoiceStatus,
    RedConfirmation,
    RedConfirmationState,
    RedReason,
)

S = InvoiceState
SELLER = "91310000MA1FL8XQ30"
PAYLOAD: dict[str, Any] = {
    "order_id": "A-1",
    "kind": "special",
    "lines": [
        {"name": "*信息技术服务*软件服务费", "amount": Decimal("100.10"), "tax_rate": "0.06"},
        {"name": "*电子计算机*笔记本电脑", "amount": "12345678901234.56", "tax_rate": "0.13"},
    ],
    "remarks": "合同号 HT-2024-001",
}


def key(order: str) -> RequestKey:
    return RequestKey(SELLER, order)


def scalar(ledger: Ledger, sql: str, **params: Any) -> Any:
    """Ask the database directly, bypassing the ledger's own reads."""
    engine = create_engine(ledger.url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


async def reserve(ledger: Ledger, order: str, **kwargs: Any) -> Any:
    kwargs.setdefault("provider_profile", "east")
    kwargs.setdefault("provider", "nuonuo")
    kwargs.setdefault("payload", PAYLOAD)
    return await ledger.reserve(key(order), **kwargs)


def status(order: str, state: S, **fields: Any) -> InvoiceStatus:
    return InvoiceStatus(
        provider="nuonuo", seller_tax_id=SELLER, order_id=order, state=state, **fields
    )


# -- idempotency ---------------------------------------------------------------------------


async def test_reserve_twice_keeps_one_row_and_returns_the_first_record(ledger: Ledger) -> None:
    first, created = await reserve(ledger, "A-1")
    assert created
    assert first.state is S.VALIDATED
    assert first.kind is RequestKind.BLUE
    await ledger.transition(key("A-1"), S.SUBMITTED, source="api")

    again, created_again = await reserve(
        ledger, "A-1", provider_profile="west", provider="baiwang", payload={"other": "1"}
    )
    assert not created_again
    assert again.state is S.SUBMITTED  # the recorded outcome, untouched
    assert again.provider == "nuonuo"
    assert again.provider_profile == "east"
    assert again.payload["remarks"] == PAYLOAD["remarks"]
    assert scalar(ledger, "SELECT count(*) FROM fapiao_requests") == 1
    assert len(await ledger.events(key("A-1"))) == 2  # created + submitted, nothing for the retry


async def test_concurrent_reserves_of_one_key_create_it_once(ledger: Ledger) -> None:
    import asyncio

    results = await asyncio.gather(*(reserve(ledger, "SAME") for _ in range(50)))
    assert sum(1 for _, created in results if created) == 1
    assert scalar(ledger, "SELECT count(*) FROM fapiao_requests") == 1
    assert scalar(ledger, "SELECT count(*) FROM fapiao_events") == 1


async def test_same_order_id_for_two_sellers_are_two_records(ledger: Ledger) -> None:
    await reserve(ledger, "A-1")
    _, created = await ledger.reserve(
        RequestKey("91440300MA5FUTP61K", "A-1"),
        provider_profile="south",
        provider="baiwang",
        payload=PAYLOAD,
    )
    assert created
    assert scalar(ledger, "SELECT count(*) FROM fapiao_requests") == 2


# -- explicit transitions --------------------------------------------------------------------


async def test_transitions_record_fields_and_one_event_each(ledger: Ledger) -> None:
    await reserve(ledger, "A-1")
    submitted = await ledger.transition(key("A-1"), S.SUBMITTED, source="api", attempts_increment=1)
    assert submitted.attempts == 1
    issued_at = datetime(2024, 5, 1, 10, 30, tzinfo=timezone(timedelta(hours=8)))
    issued = await ledger.transition(
        key("A-1"),
        S.ISSUED,
        source="callback",
        serial_number="SN-9",
        invoice_number="24312000000000000001",
        issued_at=issued_at,
        total_amount=Decimal("12345678901334.66"),
        total_tax="1604938157166.90",
        total_with_tax=Decimal("13950617058501.56"),
        detail={"latency_s": 0.25, "raw": "ok"},
    )
    assert issued.version == 3
    stored = await ledger.get(key("A-1"))
    assert stored == issued  # what the writer returned is what a fresh read sees
    assert stored is not None
    assert stored.issued_at == issued_at
    assert stored.issued_at.tzinfo is not None
    assert stored.total_tax == Decimal("1604938157166.90")
    assert str(stored.total_tax) == "1604938157166.90"

    events = await ledger.events(key("A-1"))
    assert [(e.from_state, e.to_state, e.source) for e in events] == [
        (None, S.VALIDATED, EventSource.API),
        (S.VALIDATED, S.SUBMITTED, EventSource.API),
        (S.SUBMITTED, S.ISSUED, EventSource.CALLBACK),
    ]
    assert events[2].detail == {"latency_s": 0.25, "raw": "ok"}


async def test_refused_transition_changes_nothing(ledger: Ledger) -> None:
    await reserve(ledger, "A-1")
    before = await ledger.get(key("A-1"))
    with pytest.raises(InvalidStateTransition) as caught:
        await ledger.transition(key("A-1"), S.ISSUED, source="api", invoice_number="1" * 20)
    assert "validated → issued" in caught.value.message_en
    assert await ledger.get(key("A-1")) == before
    assert len(await ledger.events(key("A-1"))) == 1


async def test_expect_from_is_a_compare_and_set(ledger: Ledger) -> None:
    await reserve(ledger, "A-1")
    await ledger.transition(key("A-1"), S.SUBMITTED, source="api")
    with pytest.raises(InvalidStateTransition) as caught:
        await ledger.transition(
            key("A-1"), S.SUBMITTED, source="reconcile", expect_from={S.VALIDATED}
        )
    assert "expected validated" in caught.value.message_en
    note = await ledger.transition(
        key("A-1"),
        S.SUBMITTED,
        source="reconcile",
        expect_from={S.SUBMITTED},
        error=ProviderUnavailable("connection refused by 127.0.0.1"),
        attempts_increment=1,
    )
    assert note.state is S.SUBMITTED
    assert note.error_code == "PROVIDER_UNAVAILABLE"
    assert note.attempts == 1


async def test_red_workflow_round_trip_and_lapsed_form(ledger: Ledger) -> None:
    await reserve(ledger, "B-1", initial_state=S.SUBMITTED)
    for state in (S.ISSUED, S.RED_REQUESTED, S.ISSUED, S.RED_REQUESTED, S.RED_CONFIRMED):
        await ledger.transition(key("B-1"), state, source="api")
    partial = await ledger.transition(key("B-1"), S.PARTIALLY_REVERSED, source="api")
    assert partial.state is S.PARTIALLY_REVERSED
    await ledger.transition(key("B-1"), S.RED_REQUESTED, source="api")
    await ledger.transition(key("B-1"), S.RED_CONFIRMED, source="api")
    final = await ledger.transition(key("B-1"), S.REVERSED, source="api")
    assert final.state is S.REVERSED
    with pytest.raises(InvalidStateTransition):
        await ledger.transition(key("B-1"), S.REVERSED, source="api")


async def test_unknown_key_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFound) as caught:
        await ledger.transition(key("NOPE"), S.SUBMITTED, source="api")
    assert "NOPE" in str(caught.value)
    assert await ledger.get(key("NOPE")) is None


async def test_bad_arguments_are_refused_before_queueing(ledger: Ledger) -> None:
    await reserve(ledger, "A-1")
    with pytest.raises(InvalidRequest) as caught:
        await ledger.transition(key("A-1"), S.SUBMITTED, source="webhook")
    assert caught.value.field == "source"
    assert "callback" in caught.value.message_en
    with pytest.raises(InvalidRequest) as caught:
        await reserve(ledger, "R-1", kind="red")
    assert caught.value.field == "original_order_id"
    with pytest.raises(InvalidRequest):
        await reserve(ledger, "A-2", initial_state=S.ISSUED)
    assert await ledger.get(key("A-2")) is None


# -- status reports ------------------------------------------------------------------------


async def test_duplicate_and_out_of_order_statuses_never_move_backwards(ledger: Ledger) -> None:
    await reserve(ledger, "C-1")
    await ledger.transition(key("C-1"), S.SUBMITTED, source="api")
    issued = status("C-1", S.ISSUED, invoice_number="24312000000000000002")
    issuing = status("C-1", S.ISSUING, serial_number="SN-1")

    after_issued = await ledger.apply_status(key("C-1"), issued, source="callback")
    assert after_issued.state is S.ISSUED
    events_after = len(await ledger.events(key("C-1")))
    # the same callback again, then a late "issuing" poll result: both no-ops
    assert (await ledger.apply_status(key("C-1"), issued, source="callback")).state is S.ISSUED
    late = await ledger.apply_status(key("C-1"), issuing, source="poll")
    assert late.state is S.ISSUED
    assert late.version == after_issued.version
    assert len(await ledger.events(key("C-1"))) == events_after


async def test_status_fills_what_the_ledger_lacks_without_changing_state(ledger: Ledger) -> None:
    await reserve(ledger, "C-2", initial_state=S.SUBMITTED)
    await ledger.transition(key("C-2"), S.ISSUED, source="api")
    filled = await ledger.apply_status(
        key("C-2"),
        status("C-2", S.ISSUED, invoice_number="24312000000000000003", total_amount="10.00"),
        source="poll",
    )
    assert filled.invoice_number == "24312000000000000003"
    assert filled.total_amount == Decimal("10.00")
    events = await ledger.events(key("C-2"))
    assert events[-1].from_state is S.ISSUED
    assert events[-1].to_state is S.ISSUED
    assert events[-1].detail is not None
    assert events[-1].detail["filled"] == ["invoice_number", "total_amount"]


async def test_conflicting_report_keeps_the_record_and_leaves_a_trace(ledger: Ledger) -> None:
    await reserve(ledger, "C-3", initial_state=S.SUBMITTED)
    error = ErrorInfo(
        code="INVALID_REQUEST", message_zh="购方税号有误", message_en="bad buyer tax id"
    )
    failed = await ledger.apply_status(
        key("C-3"), status("C-3", S.FAILED, error=error), source="callback"
    )
    assert failed.state is S.FAILED
    assert failed.error_code == "INVALID_REQUEST"
    assert failed.error_message is not None
    assert "购方税号有误" in failed.error_message
    kept = await ledger.apply_status(key("C-3"), status("C-3", S.ISSUED), source="poll")
    assert kept.state is S.FAILED
    last = (await ledger.events(key("C-3")))[-1]
    assert last.detail is not None
    assert last.detail["ignored"] == "issued"


async def test_status_jump_from_submitted_to_reversed_is_one_event(ledger: Ledger) -> None:
    await reserve(ledger, "C-4", initial_state=S.SUBMITTED)
    record = await ledger.apply_status(key("C-4"), status("C-4", S.REVERSED), source="reconcile")
    assert record.state is S.REVERSED
    events = await ledger.events(key("C-4"))
    assert (events[-1].from_state, events[-1].to_state) == (S.SUBMITTED, S.REVERSED)
    assert events[-1].source is EventSource.RECONCILE


# -- money, payloads, secrets -------------------------------------------------------------


async def test_decimals_survive_exactly_and_floats_are_refused(ledger: Ledger) -> None:
    record, _ = await reserve(ledger, "D-1")
    lines = record.payload["lines"]
    assert lines[0]["amount"] == "100.10"  # trailing zero kept
    assert lines[1]["amount"] == "12345678901234.56"
    stored = await ledger.get(key("D-1"))
    assert stored is not None
    assert Decimal(stored.payload["lines"][0]["amount"]) == Decimal("100.10")
    raw = scalar(ledger, "SELECT payload FROM fapiao_requests")
    assert "100.10" in str(raw)

    with pytest.raises(InvalidInvoice) as caught:
        await reserve(ledger, "D-2", payload={"lines": [{"amount": 0.1}]})
    assert caught.value.field == "lines[0].amount"
    assert "浮点" in caught.value.message_zh
    with pytest.raises(InvalidRequest) as money:
        await ledger.transition(key("D-1"), S.SUBMITTED, source="api", total_amount=0.1)  # type: ignore[arg-type]
    assert money.value.field == "total_amount"
    assert await ledger.get(key("D-2")) is None


async def test_secret_values_never_reach_the_database(ledger: Ledger) -> None:
    payload = {**PAYLOAD, "provider_extra": {"app_secret": "S3cr3t-Value", "token": "tok-123456"}}
    record, _ = await reserve(ledger, "E-1", payload=payload)
    assert record.payload["provider_extra"] == {"app_secret": "***", "token": "***"}
    await ledger.transition(
        key("E-1"),
        S.FAILED,
        source="api",
        error_code="AUTH_FAILED",
        error_message="Bearer abcdef123456 rejected for seller 91310000MA1FL8XQ30",
        detail={"request": "token=tok-123456&x=1", "phone": "13812345678"},
    )
    dump = " ".join(
        str(scalar(ledger, sql))
        for sql in (
            "SELECT payload FROM fapiao_requests",
            "SELECT error_message FROM fapiao_requests",
            "SELECT detail FROM fapiao_events WHERE detail IS NOT NULL",
        )
    )
    for leaked in ("S3cr3t-Value", "tok-123456", "abcdef123456", "13812345678"):
        assert leaked not in dump
    assert SELLER not in dump  # the tax ID in the error text is masked
    assert "9131**********XQ30" in dump


# -- reads ---------------------------------------------------------------------------------


async def test_get_many_non_final_and_stats(ledger: Ledger) -> None:
    for i in range(5):
        await reserve(ledger, f"F-{i}", provider_profile="east" if i % 2 else "west")
    await ledger.transition(key("F-0"), S.SUBMITTED, source="batch")
    await ledger.transition(key("F-0"), S.ISSUED, source="batch")
    await ledger.transition(key("F-1"), S.FAILED, source="batch")

    found = await ledger.get_many([key("F-0"), key("F-3"), key("missing"), key("F-0")])
    assert set(found) == {key("F-0"), key("F-3")}
    assert found[key("F-0")].state is S.ISSUED

    open_records = await ledger.non_final()
    assert [r.key.order_id for r in open_records] == ["F-2", "F-3", "F-4"]
    page = await ledger.non_final(limit=2)
    rest = await ledger.non_final(limit=2, after_id=page[-1].id)
    assert [r.key.order_id for r in page + rest] == ["F-2", "F-3", "F-4"]
    assert [r.key.order_id for r in await ledger.non_final(profile="east")] == ["F-3"]
    issued = await ledger.non_final(states={S.ISSUED})
    assert [r.key.order_id for r in issued] == ["F-0"]

    stats = await ledger.stats()
    assert stats.total == 5
    assert stats.by_state == {S.ISSUED: 1, S.FAILED: 1, S.VALIDATED: 3}
    assert stats.by_profile["west"] == {S.ISSUED: 1, S.VALIDATED: 2}
    assert stats.non_final == 3


# -- documents, red forms, cursors, batches ----------------------------------------------------


async def test_documents_are_recorded_once(ledger: Ledger) -> None:
    await reserve(ledger, "G-1")
    digest = "ab" * 32
    for _ in range(2):
        await ledger.add_document(key("G-1"), DocumentFormat.PDF, digest, 1234, "out/G-1.pdf")
    await ledger.add_document(key("G-1"), "ofd", "cd" * 32, 99, "out/G-1.ofd")
    docs = await ledger.documents(key("G-1"))
    assert [(d.format, d.sha256, d.size) for d in docs] == [
        (DocumentFormat.PDF, digest, 1234),
        (DocumentFormat.OFD, "cd" * 32, 99),
    ]
    with pytest.raises(InvalidRequest):
        await ledger.add_document(key("G-1"), "pdf", "not-a-hash", 1, "x")
    with pytest.raises(NotFound):
        await ledger.add_document(key("nope"), "pdf", digest, 1, "x")


def form(cid: str, state: RedConfirmationState, **kw: Any) -> RedConfirmation:
    return RedConfirmation(
        provider="nuonuo",
        confirmation_id=cid,
        seller_tax_id=SELLER,
        original_invoice_number="24312000000000000009",
        order_id=f"RED-{cid}",
        reason=RedReason.SALES_RETURN,
        state=state,
        amount=Decimal("-30.00"),
        tax=Decimal("-3.90"),
        **kw,
    )


async def test_red_forms_sum_reversed_amounts_and_never_downgrade(ledger: Ledger) -> None:
    await reserve(ledger, "H-1")
    expires = datetime(2024, 5, 4, 10, 0, tzinfo=UTC)
    saved = await ledger.save_red_confirmation(
        key("H-1"),
        form("F1", RedConfirmationState.PENDING, expires_at=expires),
        line_amounts={0: Decimal("30.00")},
    )
    assert saved.red_order_id == "RED-F1"
    assert saved.amount == Decimal("-30.00")
    await ledger.save_red_confirmation(
        key("H-1"), form("F2", RedConfirmationState.RED_ISSUED), line_amounts={0: "10.05", 1: "1"}
    )
    await ledger.save_red_confirmation(
        key("H-1"), form("F3", RedConfirmationState.REJECTED), line_amounts={0: "50"}
    )
    assert await ledger.reversed_amounts(key("H-1")) == {0: Decimal("40.05"), 1: Decimal("1")}
    assert await ledger.reversed_amounts(key("H-1"), include_pending=False) == {
        0: Decimal("10.05"),
        1: Decimal("1"),
    }
    # confirmed, then a late "pending" report: stays confirmed, keeps its expiry
    await ledger.save_red_confirmation(
        key("H-1"), form("F1", RedConfirmationState.CONFIRMED), line_amounts={0: "30.00"}
    )
    late = await ledger.save_red_confirmation(
        key("H-1"), form("F1", RedConfirmationState.PENDING), line_amounts={0: "30.00"}
    )
    assert late.state is RedConfirmationState.CONFIRMED
    assert late.expires_at == expires
    forms = await ledger.red_confirmations(key("H-1"))
    assert [f.confirmation_id for f in forms] == ["F1", "F2", "F3"]
    with pytest.raises(InvalidRequest):
        await ledger.save_red_confirmation(
            key("H-1"), form("F4", RedConfirmationState.PENDING), line_amounts={0: "-1"}
        )


async def test_cursors_and_batches(ledger: Ledger) -> None:
    assert await ledger.get_cursor("sap:east") is None
    await ledger.set_cursor("sap:east", "2024-05-01T00:00:00Z")
    await ledger.set_cursor("sap:east", "2024-05-02T00:00:00Z")
    assert await ledger.get_cursor("sap:east") == "2024-05-02T00:00:00Z"

    await ledger.save_batch("b1", input_path="in.jsonl", input_sha256="00" * 32, position=100)
    moved = await ledger.save_batch("b1", input_path="in.jsonl", position=40, counts={"issued": 40})
    assert moved.position == 100  # never back
    assert moved.counts == {"issued": 40}
    done = await ledger.save_batch("b1", input_path="in.jsonl", position=250, done=True)
    assert (done.position, done.done) == (250, True)
    assert await ledger.get_batch("missing") is None
    real_id = "jsonl:" + "ab" * 32  # what a batch is named: 70 characters (PostgreSQL refused)
    await ledger.save_batch(real_id, input_path="in.jsonl", input_sha256="ab" * 32, position=3)
    found = await ledger.get_batch(real_id)
    assert found is not None and found.position == 3


async def test_closed_ledger_refuses_work(ledger_url: str) -> None:
    from fapiao.errors import LedgerUnavailable

    ledger = Ledger.open(ledger_url)
    await ledger.aclose()
    with pytest.raises(LedgerUnavailable):
        await reserve(ledger, "Z-1")
    with pytest.raises(LedgerUnavailable):
        await ledger.get(key("Z-1"))


async def test_a_status_for_another_order_is_refused(ledger: Ledger) -> None:
    await reserve(ledger, "S-1", initial_state=S.SUBMITTED)
    with pytest.raises(InvalidRequest) as caught:
        await ledger.apply_status(key("S-1"), status("S-2", S.ISSUED), source="callback")
    assert caught.value.field == "order_id"
    record = await ledger.get(key("S-1"))
    assert record is not None
    assert record.state is S.SUBMITTED


async def test_red_request_records_its_blue_order(ledger: Ledger) -> None:
    await reserve(ledger, "BLUE-1", initial_state=S.SUBMITTED)
    red, created = await reserve(
        ledger, "RED-1", kind="red", original_order_id="BLUE-1", initial_state=S.SUBMITTED
    )
    assert created
    assert (red.kind, red.original_order_id, red.state) == (RequestKind.RED, "BLUE-1", S.SUBMITTED)
    stored = await ledger.get(key("RED-1"))
    assert stored == red


async def test_reaching_issued_clears_the_last_error(ledger: Ledger) -> None:
    await reserve(ledger, "I-1", initial_state=S.SUBMITTED)
    await ledger.transition(
        key("I-1"), S.SUBMITTED, source="api", error=ProviderUnavailable("timeout")
    )
    noted = await ledger.get(key("I-1"))
    assert noted is not None
    assert noted.error_code == "PROVIDER_UNAVAILABLE"
    issued = await ledger.apply_status(key("I-1"), status("I-1", S.ISSUED), source="poll")
    assert (issued.error_code, issued.error_message) == (None, None)
    assert await ledger.get(key("I-1")) == issued


async def test_aopen_does_not_block_the_loop(migrated_url: str) -> None:
    ledger = await Ledger.aopen(migrated_url)
    try:
        assert (await ledger.stats()).total == 0
    finally:
        await ledger.aclose()


async def test_a_callback_id_is_claimed_once_across_ledger_handles(ledger_url: str) -> None:
    """Replay protection lives in the ledger: a second process (here a second handle on the
    same database), or the same one after a restart, sees the id as taken until it expires."""
    first = Ledger.open(ledger_url)
    second = Ledger.open(ledger_url)
    try:
        assert await first.claim_callback("nn", "senid-1", keep=60) is True
        assert await second.claim_callback("nn", "senid-1", keep=60) is False
        assert await second.claim_callback("bw", "senid-1", keep=60) is True  # per profile
        assert await first.claim_callback("nn", "senid-2", keep=-1) is True  # expired at once
        assert await second.claim_callback("nn", "senid-2", keep=60) is True
    finally:
        await first.aclose()
        await second.aclose()
    reopened = Ledger.open(ledger_url)
    try:
        assert await reopened.claim_callback("nn", "senid-1", keep=60) is False
    finally:
        await reopened.aclose()

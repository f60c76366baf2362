"""Group commit: many operations share transactions, none is acknowledged before its commit,
and one operation's failure (or a killed process) never leaves a partial row."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection

from fapiao.engine.ledger import (
    EventSource,
    GroupCommitWriter,
    Ledger,
    RequestKey,
    RequestKind,
    fastpath,
    lifecycle,
)
from fapiao.engine.ledger.database import make_engine, normalise_url
from fapiao.errors import InvalidStateTransition, LedgerUnavailable
from fapiao.models import InvoiceState, InvoiceStatus

S = InvoiceState
SELLER = "91310000MA1FL8XQ30"
PAYLOAD = {"lines": [{"amount": "1.00"}]}


def key(order: str) -> RequestKey:
    return RequestKey(SELLER, order)


def invariant_violations(engine: Engine) -> list[Any]:
    """Rows whose state or version disagrees with their events: each write bumps the version
    by one and inserts one event, in one transaction, so these must always match."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    """
                    SELECT r.order_id, r.state, r.version, count(e.id),
                           (SELECT e2.to_state FROM fapiao_events e2
                             WHERE e2.request_id = r.id ORDER BY e2.id DESC LIMIT 1)
                    FROM fapiao_requests r LEFT JOIN fapiao_events e ON e.request_id = r.id
                    GROUP BY r.id, r.order_id, r.state, r.version
                    HAVING r.version <> count(e.id) OR r.state <> (
                        SELECT e3.to_state FROM fapiao_events e3
                         WHERE e3.request_id = r.id ORDER BY e3.id DESC LIMIT 1)
                    """
                )
            )
        )


async def test_a_thousand_concurrent_operations_share_transactions(ledger: Ledger) -> None:
    keys = [key(f"G-{i}") for i in range(500)]
    created = await asyncio.gather(
        *(ledger.reserve(k, provider_profile="p", provider="nuonuo", payload=PAYLOAD) for k in keys)
    )
    assert all(was_created for _, was_created in created)
    before = ledger.writer_stats.operations
    # a thousand operations in flight at once, queued in this order: moves, then reports on
    # the moved records, then refused moves (issued straight from validated), then
    # duplicate reserves (no-ops)
    moved, reported, refused, duplicates = keys[:250], keys[:250], keys[250:], keys[250:]
    results = await asyncio.gather(
        *(ledger.transition(k, S.SUBMITTED, source="batch") for k in moved),
        *(
            ledger.apply_status(
                k,
                InvoiceStatus(
                    provider="nuonuo",
                    seller_tax_id=SELLER,
                    order_id=k.order_id,
                    state=S.ISSUING,
                    serial_number=f"SN-{k.order_id}",
                ),
                source="callback",
            )
            for k in reported
        ),
        *(ledger.transition(k, S.ISSUED, source="batch") for k in refused),
        *(
            ledger.reserve(k, provider_profile="p", provider="nuonuo", payload=PAYLOAD)
            for k in duplicates
        ),
        return_exceptions=True,
    )
    assert all(r.state is S.SUBMITTED for r in results[:250])
    assert all(r.state is S.ISSUING and r.serial_number for r in results[250:500])
    assert all(isinstance(r, InvalidStateTransition) for r in results[500:750])
    assert all(r == (created[250 + i][0], False) for i, r in enumerate(results[750:]))

    stats = ledger.writer_stats
    assert stats.operations - before == 1000
    assert stats.transactions < stats.operations / 10  # grouped, not one commit each
    assert stats.largest_group > 50
    engine = create_engine(ledger.url)
    try:
        with engine.connect() as connection:
            states = dict(
                connection.execute(
                    text("SELECT state, count(*) FROM fapiao_requests GROUP BY state")
                ).all()
            )
            events = connection.execute(text("SELECT count(*) FROM fapiao_events")).scalar()
        assert states == {"issuing": 250, "validated": 250}
        assert events == 500 + 250 + 250
        assert invariant_violations(engine) == []
    finally:
        engine.dispose()


async def test_no_acknowledgement_before_commit(ledger: Ledger) -> None:
    """Every acknowledged change is already visible to another connection."""
    engine = create_engine(ledger.url, pool_size=4)

    def committed_state(order: str) -> str:
        with engine.connect() as connection:
            return str(
                connection.execute(
                    text("SELECT state FROM fapiao_requests WHERE order_id = :o"), {"o": order}
                ).scalar()
            )

    async def one(i: int) -> None:
        k = key(f"ACK-{i}")
        await ledger.reserve(k, provider_profile="p", provider="nuonuo", payload=PAYLOAD)
        await ledger.transition(k, S.SUBMITTED, source="api")
        assert await asyncio.to_thread(committed_state, k.order_id) == "submitted"

    try:
        await asyncio.gather(*(one(i) for i in range(200)))
    finally:
        engine.dispose()
    assert ledger.writer_stats.largest_group > 1


async def _open_writer(url: str, **kwargs: Any) -> tuple[Engine, GroupCommitWriter]:
    """A writer of our own (its connection is its own) and an engine to look with."""
    Ledger.open(url).close()  # migrate
    writer_engine = make_engine(normalise_url(url), role="writer")
    writer = GroupCommitWriter(writer_engine, on_rollback=fastpath.forget, **kwargs)
    return create_engine(normalise_url(url)), writer


def _reserve(order: str) -> Callable[[Connection], Any]:
    return lambda c: lifecycle.reserve(
        c,
        key(order),
        kind=RequestKind.BLUE,
        provider_profile="p",
        provider="nuonuo",
        payload=PAYLOAD,
        initial_state=S.VALIDATED,
        original_order_id=None,
        source=EventSource.API,
    )


def _move(order: str, to: InvoiceState) -> Callable[[Connection], Any]:
    return lambda c: lifecycle.transition(
        c,
        key(order),
        to,
        source=EventSource.API,
        detail=None,
        fields={},
        attempts_increment=0,
        expect_from=None,
    )


async def test_a_failing_operation_leaves_no_partial_rows_and_spares_its_group(
    ledger_url: str,
) -> None:
    engine, writer = await _open_writer(ledger_url, max_delay=0.2)
    try:
        await asyncio.gather(*(writer.submit(_reserve(f"K-{i}")) for i in range(20)))
        await writer.submit(_reserve("CRASH"))
        await writer.submit(_reserve("BAD"))

        def crash(connection: Connection) -> None:
            _move("CRASH", S.SUBMITTED)(connection)  # row updated and event inserted...
            raise RuntimeError("process killed mid-operation")  # ...then the op dies

        before = writer.stats.transactions
        results = await asyncio.gather(
            *(writer.submit(_move(f"K-{i}", S.SUBMITTED)) for i in range(10)),
            writer.submit(crash),
            writer.submit(_move("BAD", S.ISSUED)),  # refused by the state machine
            *(writer.submit(_move(f"K-{i}", S.SUBMITTED)) for i in range(10, 20)),
            return_exceptions=True,
        )
        assert writer.stats.transactions == before + 1  # one shared transaction
        assert writer.stats.replays >= 1
        assert isinstance(results[10], RuntimeError)
        assert isinstance(results[11], InvalidStateTransition)
        good = results[:10] + results[12:]
        assert all(r.state is S.SUBMITTED for r in good)

        with engine.connect() as connection:
            rows = dict(
                connection.execute(text("SELECT order_id, state FROM fapiao_requests")).all()
            )
            crash_events = connection.execute(
                text(
                    "SELECT count(*) FROM fapiao_events e JOIN fapiao_requests r "
                    "ON r.id = e.request_id WHERE r.order_id = 'CRASH'"
                )
            ).scalar()
        assert rows["CRASH"] == "validated"
        assert crash_events == 1  # only its creation: the half-done change left nothing
        assert rows["BAD"] == "validated"
        assert all(rows[f"K-{i}"] == "submitted" for i in range(20))

        after = await writer.submit(_move("CRASH", S.SUBMITTED))
        assert after.version == 2
        assert invariant_violations(engine) == []
    finally:
        writer.close()
        engine.dispose()


async def test_a_failed_commit_fails_every_operation_of_the_group(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine, writer = await _open_writer(url, max_delay=0.2)
    try:

        def poison(connection: Connection) -> None:
            # a deferred foreign-key violation only shows at COMMIT time
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            connection.exec_driver_sql(
                "INSERT INTO fapiao_events (request_id, to_state, source, at) "
                "VALUES (999999, 'issued', 'api', '2024-01-01 00:00:00')"
            )

        results = await asyncio.gather(
            writer.submit(_reserve("P-1")),
            writer.submit(poison),
            writer.submit(_reserve("P-2")),
            return_exceptions=True,
        )
        assert all(isinstance(r, LedgerUnavailable) for r in results), results
        assert writer.stats.failed_commits == 1
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM fapiao_requests")).scalar() == 0
        record, created = await writer.submit(_reserve("P-1"))  # the writer goes on
        assert created
        assert record.version == 1
    finally:
        writer.close()
        engine.dispose()


_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from fapiao.engine.ledger import Ledger, RequestKey
    from fapiao.models import InvoiceState as S

    async def main(url):
        ledger = Ledger.open(url)
        async def one(i):
            k = RequestKey("91310000MA1FL8XQ30", f"W-{i}")
            await ledger.reserve(k, provider_profile="p", provider="n", payload={"a": "1.00"})
            for state in (S.SUBMITTED, S.ISSUING, S.ISSUED):
                await ledger.transition(k, state, source="batch", detail={"i": i})
        i = 0
        while True:
            await asyncio.gather(*(one(i + j) for j in range(64)))
            i += 64
            print(i, flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)


def test_kill_9_mid_stream_leaves_every_row_consistent_with_its_events(tmp_path: Path) -> None:
    """The embedded default: the process that owns the SQLite file dies mid-group. (On
    PostgreSQL the server, not our process, makes a transaction all-or-nothing.)"""
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger.open(ledger_url).close()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WORKER, ledger_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        done = 0
        while done < 64 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            done = int(line)
        assert done >= 64, proc.stderr.read() if proc.stderr else "worker died"
        time.sleep(0.02)  # let it get into the middle of further groups
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    engine = create_engine(normalise_url(ledger_url))
    try:
        assert invariant_violations(engine) == []
        with engine.connect() as connection:
            issued = connection.execute(
                text("SELECT count(*) FROM fapiao_requests WHERE state = 'issued'")
            ).scalar()
        assert issued is not None
        assert issued >= done  # everything acknowledged before the kill survived it
    finally:
        engine.dispose()
    Ledger.open(ledger_url).close()  # and the ledger reopens cleanly

"""Ledger throughput: one commit per transition against group commit (docs/architecture.md §5).

Each invoice goes through what the engine does to it: reserve (validated), submitted, issued,
i.e. three ledger writes, each acknowledged only after its commit. Invoices are driven by
``--concurrency`` asyncio tasks, as a batch would drive them. Printed per variant: invoices/s,
transitions/s, mean transactions' size, and the ratio to the one-commit-per-transition
baseline measured in the same run (compare ratios, not absolute figures, across runs).

    python bench/ledger_commit.py                 # SQLite WAL, 5,000 invoices
    python bench/ledger_commit.py -n 20000 --postgres postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from fapiao.engine.ledger import Ledger, RequestKey
from fapiao.models import InvoiceState

SELLER = "91310000MA1FL8XQ30"
PAYLOAD: dict[str, Any] = {
    "order_id": "?",
    "kind": "normal",
    "lines": [{"name": "*信息技术服务*软件服务费", "amount": "100.00", "tax_rate": "0.06"}],
}


@dataclass
class Result:
    name: str
    invoices: int
    seconds: float
    transactions: int
    cpu: float = 0.0  # process CPU seconds (both threads): steadier than wall on a busy box

    @property
    def rate(self) -> float:
        return self.invoices / self.seconds

    def line(self, baseline: float | None) -> str:
        ratio = f"{self.rate / baseline:7.1f}x" if baseline else "    1.0x"
        group = 3 * self.invoices / self.transactions if self.transactions else 0.0
        cpu = f"{1e6 * self.cpu / self.invoices:7.0f} us CPU/invoice" if self.cpu else ""
        return (
            f"{self.name:46s} {self.rate:9,.0f} invoices/s {3 * self.rate:10,.0f} writes/s "
            f"{group:7.1f} writes/txn {ratio} {cpu}"
        )


async def drive(ledger: Ledger, n: int, concurrency: int, tag: str) -> float:
    """Push ``n`` invoices through reserve → submitted → issued; return elapsed seconds."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            key = RequestKey(SELLER, f"{tag}-{i}")
            await ledger.reserve(key, provider_profile="bench", provider="bench", payload=PAYLOAD)
            await ledger.transition(key, InvoiceState.SUBMITTED, source="batch")
            await ledger.transition(
                key, InvoiceState.ISSUED, source="batch", invoice_number=f"{i:020d}"
            )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def ledger_variant(url: str, n: int, concurrency: int, name: str, **options: Any) -> Result:
    ledger = Ledger.open(url, **options)
    try:
        cpu = time.process_time()
        seconds = asyncio.run(drive(ledger, n, concurrency, uuid.uuid4().hex[:8]))
        cpu = time.process_time() - cpu
        return Result(name, n, seconds, ledger.writer_stats.transactions, cpu)
    finally:
        ledger.close()


def naive_variant(url: str, n: int) -> Result:
    """the baseline of docs/architecture.md §5: plain SQLAlchemy Core, one transaction per state change."""
    engine = create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.execute(text("DROP TABLE IF EXISTS bench_naive"))
        connection.execute(
            text("CREATE TABLE bench_naive (id INTEGER PRIMARY KEY, order_id TEXT, state TEXT)")
        )
    started = time.perf_counter()
    cpu = time.process_time()
    for i in range(n):
        for sql in (
            "INSERT INTO bench_naive (id, order_id, state) VALUES (:i, :o, 'validated')",
            "UPDATE bench_naive SET state = 'submitted' WHERE id = :i",
            "UPDATE bench_naive SET state = 'issued' WHERE id = :i",
        ):
            with engine.begin() as connection:
                connection.execute(text(sql), {"i": i, "o": f"n-{i}"})
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE bench_naive"))
    engine.dispose()
    return Result("naive: SQLAlchemy, 1 commit per write", n, seconds, 3 * n, cpu)


def reads_variant(url: str, n: int, concurrency: int, reads: str) -> str:
    """``get`` through the read pool or through the writer queue, while invoices are being
    written: reads/s and latency, and what the reads cost the writes."""

    async def run() -> str:
        ledger = Ledger.open(url, reads=reads)  # type: ignore[arg-type]
        tag = uuid.uuid4().hex[:8]
        keys = [RequestKey(SELLER, f"{tag}-r{i}") for i in range(1000)]
        await asyncio.gather(
            *(
                ledger.reserve(k, provider_profile="bench", provider="bench", payload=PAYLOAD)
                for k in keys
            )
        )
        latencies: list[float] = []
        stop = False

        async def reader(offset: int) -> None:
            i = offset
            while not stop:
                started = time.perf_counter()
                assert await ledger.get(keys[i % len(keys)]) is not None
                latencies.append(time.perf_counter() - started)
                i += concurrency

        readers = [asyncio.create_task(reader(o)) for o in range(concurrency)]
        started = time.perf_counter()
        write_seconds = await drive(ledger, n, 128, tag)
        stop = True
        await asyncio.gather(*readers)
        elapsed = time.perf_counter() - started
        await ledger.aclose()
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[int(len(latencies) * 0.99)] * 1000
        return (
            f"{'reads via ' + reads + ' (while writing)':46s} {len(latencies) / elapsed:9,.0f} reads/s "
            f"p50 {p50:6.1f} ms p99 {p99:6.1f} ms; writes meanwhile {n / write_seconds:,.0f} invoices/s"
        )

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=5000, help="invoices per variant")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant (median kept)")
    parser.add_argument("--postgres", metavar="URL", help="also run against this PostgreSQL")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        naive_url = f"sqlite:///{Path(tmp) / 'naive.db'}"
        n_single = max(200, args.n // 10)  # one commit per write is slow: sample it smaller

        def best(make: Callable[[], Result]) -> Result:
            runs = [make() for _ in range(args.repeat)]
            return sorted(runs, key=lambda r: r.rate)[len(runs) // 2]

        print(
            f"ledger_commit: {args.n} invoices x 3 writes, {args.concurrency} concurrent tasks, "
            f"python {sys.version.split()[0]}"
        )
        naive = best(lambda: naive_variant(naive_url, n_single))
        print(naive.line(None))
        base = naive.rate
        variants: list[tuple[str, int, dict[str, Any]]] = [
            ("ledger, no grouping (max_batch=1), FULL", n_single, {"max_batch": 1}),
            ("ledger, group commit, synchronous=FULL", args.n, {}),
            ("ledger, group commit, synchronous=NORMAL", args.n, {"synchronous": "NORMAL"}),
        ]
        for name, n, options in variants:
            print(
                best(
                    lambda name=name, n=n, options=options: ledger_variant(
                        sqlite_url, n, args.concurrency, name, **options
                    )
                ).line(base)
            )
        for reads in ("pool", "writer"):
            print(reads_variant(sqlite_url, max(1000, args.n // 2), 16, reads))

        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres)
            with admin.begin() as connection:
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            sep = "&" if "?" in args.postgres else "?"
            pg_url = f"{args.postgres}{sep}options=-csearch_path%3D{schema}"
            try:
                pg_single = ledger_variant(
                    pg_url, n_single, args.concurrency, "postgres, no grouping", max_batch=1
                )
                print(pg_single.line(base))
                pg = ledger_variant(pg_url, args.n, args.concurrency, "postgres, group commit")
                print(pg.line(base))
                print(f"{'postgres group / no grouping':46s} {pg.rate / pg_single.rate:9.1f}x")
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

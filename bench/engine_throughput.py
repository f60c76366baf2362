"""Engine throughput: a batch of invoices through the whole engine vs the bare plugin.

The provider sandbox runs in a *separate process* (started through its advertised starter,
``fapiao.sandboxes``), so it has its own interpreter and core, as a real provider would.
In this process, with one loopback connection pool:

1. **bare plugin** — the provider plugin alone (validation, mapping, signing, HTTP), N
   invoices at the given concurrency, no ledger;
2. **engine** — the same N invoices (new order ids) through ``AsyncClient.issue_many``:
   routing, rules, capabilities, the SQLite ledger (``submitted`` committed before each
   call, the answer committed after, group commit), metrics and hooks.

Printed: invoices/s and p50/p99 latency of each, the ledger overhead (engine time / bare
time, target ≤ 1.3), the engine rate (target ≥ 1,500/s on the reference 2-core machine),
peak RSS and RSS sampled along the engine run (flat in N means constant memory: the batch
is a generator, nothing is kept per invoice). Compare ratios within one run only.

    python bench/engine_throughput.py            # 10,000 invoices
    python bench/engine_throughput.py --large    # 100,000
    python bench/engine_throughput.py --n 2000 --concurrency 32 --provider baiwang
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from fapiao.contract.sandbox import RunningSandbox, SandboxOptions
from fapiao.models import Invoice, InvoiceKind, InvoiceLine, Party

SERVICE = ("软件维护服务", "3040201030000000000", Decimal("0.06"))
BUYER = Party(name="上海示例信息技术有限公司", tax_id="91310000MA1FL8XQ37")


# -- the sandbox, in its own process ----------------------------------------------------------


def serve_sandbox(provider: str) -> None:
    """Child mode: start the sandbox, print what a profile needs, run until stdin closes."""
    from fapiao.plugins import sandbox_starters

    starters, _ = sandbox_starters()
    with starters[provider](SandboxOptions(issue_delay_seconds=0.0)) as sandbox:
        print(
            json.dumps(
                {
                    "provider": sandbox.provider,
                    "base_url": sandbox.base_url,
                    "settings": dict(sandbox.settings),
                    "seller_tax_ids": list(sandbox.seller_tax_ids),
                }
            ),
            flush=True,
        )
        sys.stdin.read()


class SandboxProcess:
    def __init__(self, provider: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-sandbox", provider],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {provider} sandbox did not start")
        data = json.loads(line)
        self.sandbox = RunningSandbox(
            provider=data["provider"],
            base_url=data["base_url"],
            settings=data["settings"],
            seller_tax_ids=tuple(data["seller_tax_ids"]),
        )

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


# -- invoices and measurements ----------------------------------------------------------------


def invoices(seller: str, prefix: str, n: int) -> Iterator[Invoice]:
    """Small one-line service invoices (1.00 yuan: 100,000 fit any sandbox credit line)."""
    name, code, rate = SERVICE
    party = Party(name="杭州示例数电科技有限公司", tax_id=seller)
    line = InvoiceLine(
        name=name,
        tax_code=code,
        unit="次",
        quantity=Decimal(1),
        unit_price=Decimal("1.00"),
        amount=Decimal("1.00"),
        tax_rate=rate,
    )
    for i in range(n):
        yield Invoice(
            order_id=f"{prefix}{i:07d}",
            kind=InvoiceKind.NORMAL,
            seller=party,
            buyer=BUYER,
            lines=(line,),
        )


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process, or of ``pid`` from /proc."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Phase:
    """One measured run; CPU per invoice (ours and the sandbox's) is the figure that load
    on a shared machine distorts least."""

    def __init__(self, name: str, n: int, sandbox_pid: int | None = None) -> None:
        self.name, self.n = name, n
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.elapsed = 0.0
        self.rss: list[tuple[int, float]] = []
        self.sandbox_pid = sandbox_pid
        self.cpu = self.sandbox_cpu = 0.0

    def __enter__(self) -> Phase:
        self._started = time.perf_counter()
        self._cpu = cpu_seconds()
        self._sandbox_cpu = cpu_seconds(self.sandbox_pid) if self.sandbox_pid else 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self._started
        self.cpu = cpu_seconds() - self._cpu
        if self.sandbox_pid:
            self.sandbox_cpu = cpu_seconds(self.sandbox_pid) - self._sandbox_cpu

    @property
    def cpu_ms(self) -> float:
        return self.cpu * 1e3 / self.n

    @property
    def sandbox_cpu_ms(self) -> float:
        return self.sandbox_cpu * 1e3 / self.n

    @property
    def rate(self) -> float:
        return self.n / self.elapsed if self.elapsed else 0.0

    def line(self) -> str:
        errors = f"  errors {self.errors}" if self.errors else ""
        p50, p99 = pct(self.latencies, 0.5) * 1e3, pct(self.latencies, 0.99) * 1e3
        return (
            f"{self.name:12s} {self.rate:8,.0f} invoices/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
            f"  CPU/invoice: ours {self.cpu_ms:.2f} ms, sandbox {self.sandbox_cpu_ms:.2f} ms"
            f"  ({self.elapsed:.1f} s){errors}"
        )


async def run_bare(
    provider: Any, seller: str, n: int, concurrency: int, prefix: str, pid: int | None = None
) -> Phase:
    phase = Phase("bare plugin", n, pid)
    gate = asyncio.Semaphore(concurrency)

    async def one(invoice: Invoice) -> None:
        async with gate:
            began = time.perf_counter()
            try:
                await provider.issue(invoice)
            except Exception as exc:
                code = getattr(exc, "code", type(exc).__name__)
                phase.errors[code] = phase.errors.get(code, 0) + 1
            phase.latencies.append(time.perf_counter() - began)

    with phase:
        pending: set[asyncio.Task[None]] = set()
        for invoice in invoices(seller, prefix, n):
            if len(pending) >= concurrency * 2:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending.add(asyncio.create_task(one(invoice)))
        await asyncio.gather(*pending)
    return phase


async def run_engine(
    client: Any, seller: str, n: int, concurrency: int, prefix: str, pid: int | None = None
) -> Phase:
    phase = Phase("engine", n, pid)
    began: dict[str, float] = {}
    marks = {max(1, n * k // 4) for k in (1, 2, 3, 4)}

    async def stream() -> AsyncIterator[Invoice]:
        for invoice in invoices(seller, prefix, n):
            began[invoice.order_id] = time.perf_counter()
            yield invoice

    done = 0
    with phase:
        async for item in client.issue_many(stream(), concurrency=concurrency):
            phase.latencies.append(time.perf_counter() - began.pop(item.order_id))
            if item.error is not None:
                phase.errors[item.error.code] = phase.errors.get(item.error.code, 0) + 1
            done += 1
            if done in marks:
                phase.rss.append((done, rss_mb()))
    return phase


async def measure(
    args: argparse.Namespace, sandbox: RunningSandbox, workdir: Path, pid: int
) -> dict[str, Any]:
    from fapiao.demo.environment import ProfileSpec, write_installation
    from fapiao.engine.client import AsyncClient

    seller = sandbox.seller_tax_ids[0]
    config, _ = write_installation(
        workdir,
        [
            ProfileSpec(
                "bench",
                sandbox,
                [seller],
                settings={"timeout_seconds": 30.0, "max_connections": args.concurrency},
                limits={"concurrency": args.concurrency, "rate_per_second": 1_000_000.0},
            )
        ],
        engine={"concurrency": args.concurrency},
        monitoring={"min_calls": 1_000_000},
    )
    client = AsyncClient.from_config(config)
    run = f"{int(time.time()) % 100000:05d}"
    try:
        provider = client.providers.get("bench")
        warm = min(200, args.n)
        await run_bare(provider, seller, warm, args.concurrency, f"WB{run}")
        await run_engine(client, seller, warm, args.concurrency, f"WE{run}")
        bare = await run_bare(provider, seller, args.n, args.concurrency, f"B{run}", pid)
        engine = await run_engine(client, seller, args.n, args.concurrency, f"E{run}", pid)
        stats = client.ledger.writer_stats
    finally:
        await client.aclose()
    return {
        "provider": sandbox.provider,
        "n": args.n,
        "concurrency": args.concurrency,
        "bare": bare,
        "engine": engine,
        "group": stats.mean_group,
        "transactions": stats.transactions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="invoices per phase")
    parser.add_argument("--large", action="store_true", help="100,000 invoices")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--provider", default="nuonuo", help="sandbox to run against")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--serve-sandbox", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sandbox:
        serve_sandbox(args.serve_sandbox)
        return
    if args.large:
        args.n = 100_000
    child = SandboxProcess(args.provider)
    try:
        with tempfile.TemporaryDirectory(prefix="fapiao-bench-") as tmp:
            result = asyncio.run(measure(args, child.sandbox, Path(tmp), child.process.pid))
    finally:
        child.stop()
    bare, engine = result["bare"], result["engine"]
    ratio = engine.elapsed / bare.elapsed if bare.elapsed else float("inf")
    figures = {
        "n": args.n,
        "provider": args.provider,
        "concurrency": args.concurrency,
        "bare_rate": round(bare.rate, 1),
        "engine_rate": round(engine.rate, 1),
        "engine_p50_ms": round(pct(engine.latencies, 0.5) * 1e3, 2),
        "engine_p99_ms": round(pct(engine.latencies, 0.99) * 1e3, 2),
        "ledger_overhead": round(ratio, 3),
        "ledger_overhead_cpu": round(engine.cpu_ms / bare.cpu_ms, 3) if bare.cpu_ms else None,
        "bare_cpu_ms_per_invoice": round(bare.cpu_ms, 3),
        "engine_cpu_ms_per_invoice": round(engine.cpu_ms, 3),
        "sandbox_cpu_ms_per_invoice": round(engine.sandbox_cpu_ms, 3),
        "mean_commit_group": round(result["group"], 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_along_engine_run_mb": [[n, round(mb, 1)] for n, mb in engine.rss],
        "errors": {"bare": bare.errors, "engine": engine.errors},
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"engine throughput: {args.n:,} invoices, concurrency {args.concurrency}, "
        f"{args.provider} sandbox in a separate process, SQLite ledger"
    )
    print("  " + bare.line())
    print("  " + engine.line())
    print(
        f"  ledger overhead (engine/bare): time {ratio:.2f}x, CPU per invoice "
        f"{engine.cpu_ms / bare.cpu_ms:.2f}x (target <= 1.3); mean commit group "
        f"{result['group']:.1f} ops in {result['transactions']:,} transactions"
    )
    print(
        f"  CPU-bound ceilings on a free core: engine {1000 / engine.cpu_ms:,.0f}/s, "
        f"sandbox {1000 / max(engine.sandbox_cpu_ms, 1e-9):,.0f}/s; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs during the run"
    )
    print(
        f"  engine rate {engine.rate:,.0f}/s (target >= 1,500/s): "
        + ("met" if engine.rate >= 1500 else "missed")
    )
    along = ", ".join(f"{n:,}: {mb:.0f} MB" for n, mb in engine.rss)
    print(f"  peak RSS {peak_rss_mb():.0f} MB; RSS along the engine run: {along}")


if __name__ == "__main__":
    main()

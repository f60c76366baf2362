"""``fapiao demo``: the whole product on one machine, end to end, in well under a minute.

What a run does, in order (each step through the public engine API, nothing faked):

1. makes a fresh run directory ``<out>/run-<timestamp>-<id>`` (so re-running never meets an
   earlier run's ledger or files; ``<out>/latest`` points at the newest run);
2. starts both provider sandboxes on loopback through their advertised starters;
3. writes a config with two subsidiaries (two seller tax IDs) on the two providers, an
   encrypted secrets file that holds every secret (the config only references them) and an
   SQLite ledger;
4. starts the callback service on loopback in the same event loop and points the Nuonuo
   profile's ``callback_url`` at it;
5. issues a JSON Lines batch of realistic invoices (专票 and 普票, 6/9/13 %, a discount
   line, natural-person buyers) with progress;
6. waits for the asynchronous provider's signed callbacks to settle its invoices (polling
   with ``reconcile`` only what has not arrived by then);
7. partly reverses one 专票 per provider (销货退回 of one computer) through the
   红字确认单 workflow;
8. downloads PDF, OFD and XML of every issued invoice (blue and red), each verified and
   hashed, into ``documents/<profile>/``;
9. returns (and writes ``summary.json``) per provider: issued, failed, red, callbacks,
   documents and issue-call latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fapiao.contract.sandbox import SandboxOptions
from fapiao.errors import FapiaoError
from fapiao.hookspecs import hookimpl
from fapiao.masking import mask_tax_id
from fapiao.models import (
    Invoice,
    InvoiceKind,
    InvoiceState,
    Party,
    RedLine,
    RedReason,
    RedReversalRequest,
)

from .environment import ProfileSpec, start_sandboxes, write_installation
from .scenario import CATALOG, build_invoices

if TYPE_CHECKING:
    from fapiao.engine.batch import BatchProgress
    from fapiao.engine.client import AsyncClient
    from fapiao.engine.ledger import RequestKey

__all__ = ["DemoOptions", "DemoReport", "ProviderSummary", "run_demo"]

S = InvoiceState
PROFILES = {"nuonuo": "hangzhou-nuonuo", "baiwang": "beijing-baiwang"}
"""Provider → profile name: one subsidiary in Hangzhou on Nuonuo, one in Beijing on Baiwang."""

_OPEN = frozenset({S.SUBMITTED, S.ISSUING})
_RED_WORKFLOW = frozenset({S.RED_REQUESTED, S.RED_CONFIRMED})
# the blue invoice exists (and was issued) in every state after issued
_HAS_INVOICE = frozenset({S.ISSUED, S.PARTIALLY_REVERSED, S.REVERSED}) | _RED_WORKFLOW


@dataclass
class DemoOptions:
    out: Path
    n: int = 40
    issue_delay_seconds: float = 0.2
    settle_timeout: float = 30.0
    progress: Callable[[BatchProgress], None] | None = None
    say: Callable[[str], None] = lambda _message: None
    log_secrets: Callable[[Iterable[str]], None] = lambda _values: None


@dataclass
class ProviderSummary:
    profile: str
    provider: str
    seller: str  # masked
    invoices: int = 0
    issued: int = 0
    failed: int = 0
    pending: int = 0
    red: int = 0
    callbacks: int = 0
    documents: int = 0
    issue_p50_ms: float | None = None
    issue_p99_ms: float | None = None


@dataclass
class DemoReport:
    run_dir: str
    config: str
    ledger: str
    documents_dir: str
    invoices: int
    elapsed_seconds: float
    service_url: str
    providers: list[ProviderSummary]
    red_reversals: list[dict[str, Any]] = field(default_factory=list)
    batch: dict[str, Any] = field(default_factory=dict)
    ok: bool = True

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["elapsed_seconds"] = round(self.elapsed_seconds, 2)
        return data


class _CallTimer:
    """Collects each provider call's duration through the ``fapiao_after_provider_call``
    hook (the same numbers the prometheus histogram gets, kept whole for percentiles)."""

    def __init__(self) -> None:
        self.durations: dict[tuple[str, str], list[float]] = defaultdict(list)

    @hookimpl
    def fapiao_after_provider_call(
        self, provider: str, operation: str, duration_seconds: float, error: FapiaoError | None
    ) -> None:
        self.durations[(provider, operation)].append(duration_seconds)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _fresh_run_dir(out: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = out / f"run-{stamp}-{secrets.token_hex(2)}"
    run_dir.mkdir(parents=True, exist_ok=False)
    latest = out / "latest"
    with contextlib.suppress(OSError):
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_dir.name, target_is_directory=True)
    return run_dir


async def _wait_settled(
    client: AsyncClient,
    keys: list[RequestKey],
    within: float,
    open_states: frozenset[S] = frozenset(),
) -> tuple[int, int]:
    """Wait for callbacks to settle ``keys``; then reconcile what is still open.
    Returns (left open before reconciling, still open after). ``open_states`` adds states to
    wait out (a blue invoice whose red reversal the callback is still finishing)."""
    waiting = _OPEN | open_states
    deadline = time.monotonic() + within
    open_keys = keys
    while open_keys and time.monotonic() < deadline:
        records = await client.ledger.get_many(open_keys)
        open_keys = [k for k in open_keys if k in records and records[k].state in waiting]
        if open_keys:
            await asyncio.sleep(0.05)
    before = len(open_keys)
    for attempt in range(_RECONCILE_ROUNDS):  # a busy machine may still be issuing: ask again
        if not open_keys:
            break
        if attempt:
            await asyncio.sleep(0.5)
        await client.reconcile(keys=open_keys)
        records = await client.ledger.get_many(open_keys)
        open_keys = [k for k in open_keys if k in records and records[k].state in waiting]
    return before, len(open_keys)


_RECONCILE_ROUNDS = 10


def _red_request(invoice: Invoice, invoice_number: str) -> RedReversalRequest:
    """Return one computer (line 1) of a two-line 专票: a partial 销货退回."""
    line = invoice.lines[1]
    return RedReversalRequest(
        order_id=f"{invoice.order_id}-R1",
        seller_tax_id=invoice.seller.tax_id or "",
        buyer_tax_id=invoice.buyer.tax_id,
        original_invoice_number=invoice_number,
        original_order_id=invoice.order_id,
        reason=RedReason.SALES_RETURN,
        lines=(
            RedLine(
                original_line=1,
                amount=(line.unit_price or CATALOG["computer"].unit_price) * Decimal(1),
                quantity=Decimal(1),
            ),
        ),
    )


async def run_demo(options: DemoOptions) -> DemoReport:
    """Run the demo; raises ``FapiaoError`` (e.g. a missing sandbox) with a clear message."""
    from fapiao.engine.client import AsyncClient
    from fapiao.plugins import get_plugin_manager
    from fapiao.service import bind, create_app, serve_app

    began = time.monotonic()
    say = options.say
    run_dir = _fresh_run_dir(options.out)
    run_id = run_dir.name.removeprefix("run-").replace("-", "")[-10:].upper()
    say(f"run directory / 运行目录: {run_dir}")
    say("starting provider sandboxes on loopback / 启动服务商沙箱")
    sandbox_options = {
        "nuonuo": SandboxOptions(issue_delay_seconds=options.issue_delay_seconds),
        "baiwang": SandboxOptions(issue_delay_seconds=options.issue_delay_seconds),
    }
    timer = _CallTimer()
    plugin_manager = get_plugin_manager()
    with start_sandboxes(sandbox_options) as started:
        bound = bind("127.0.0.1", 0)
        callback_url = f"{bound.base_url}/callbacks/{PROFILES['nuonuo']}"
        nuonuo, baiwang = started["nuonuo"], started["baiwang"]
        sellers = {
            "nuonuo": nuonuo.seller_tax_ids[0],
            "baiwang": baiwang.seller_tax_ids[0],
        }
        config_path, secret_values = write_installation(
            run_dir,
            [
                ProfileSpec(
                    PROFILES["nuonuo"],
                    nuonuo,
                    [sellers["nuonuo"]],
                    settings={"callback_url": callback_url, "timeout_seconds": 10.0},
                ),
                ProfileSpec(
                    PROFILES["baiwang"],
                    baiwang,
                    [sellers["baiwang"]],
                    settings={"timeout_seconds": 10.0},
                ),
            ],
            ledger_url="sqlite:///ledger.db",
            engine={"documents_dir": "documents"},
        )
        options.log_secrets(secret_values)
        say(f"config / 配置: {config_path.name} (2 subsidiaries, secrets in secrets.enc)")
        plugin_manager.register(timer)
        client = AsyncClient.from_config(config_path)
        try:
            app = create_app(client)
            async with serve_app(app, bound) as service_url:
                say(f"callback service / 回调服务: {service_url}/callbacks/<profile>")
                report = await _scenario(
                    client, app, run_dir, run_id, sellers, started, options, timer, service_url
                )
        finally:
            await client.aclose()
            plugin_manager.unregister(timer)
    report.elapsed_seconds = time.monotonic() - began
    (run_dir / "summary.json").write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    return report


async def _scenario(
    client: AsyncClient,
    app: Any,
    run_dir: Path,
    run_id: str,
    sellers: dict[str, str],
    started: Any,
    options: DemoOptions,
    timer: _CallTimer,
    service_url: str,
) -> DemoReport:
    from fapiao.engine.client import run_batch
    from fapiao.engine.ledger import RequestKey

    say = options.say
    parties = [
        Party(
            name="杭州示例数电科技有限公司",
            tax_id=sellers["nuonuo"],
            address="浙江省杭州市西湖区示例大道100号",
            phone="0571-88888888",
            bank="示例银行杭州分行",
            account="33001234567890123",
        ),
        Party(
            name="北京百望示例科技有限公司",
            tax_id=sellers["baiwang"],
            address="北京市海淀区示例路8号",
            phone="010-88886666",
            bank="示例银行北京海淀支行",
            account="11001234567890123",
        ),
    ]
    invoices = build_invoices(run_id, parties, options.n)
    batch_file = run_dir / "invoices.jsonl"
    with batch_file.open("w", encoding="utf-8") as handle:
        for invoice in invoices:
            handle.write(invoice.model_dump_json(exclude_defaults=True) + "\n")
    say(f"issuing {len(invoices)} invoices / 批量开票 ({batch_file.name})")
    batch = await run_batch(client, batch_file, progress=options.progress, settle=False)

    keys = [RequestKey(i.seller.tax_id or "", i.order_id) for i in invoices]
    say("waiting for callbacks / 等待回调")
    polled, still_open = await _wait_settled(client, keys, options.settle_timeout)
    if polled:
        say(f"{polled} not settled by callback: reconciled by query / 未收到回调的已查询对账")

    records = await client.ledger.get_many(keys)
    by_order = {i.order_id: i for i in invoices}
    say("partial red reversal / 部分红冲 (销货退回)")
    reds: list[dict[str, Any]] = []
    red_keys: list[RequestKey] = []
    for provider, seller in sellers.items():
        target = next(
            (
                r
                for k, r in records.items()
                if k.seller_tax_id == seller
                and r.state is S.ISSUED
                and r.invoice_number
                and by_order[k.order_id].kind is InvoiceKind.SPECIAL
                and len(by_order[k.order_id].lines) == 2
            ),
            None,
        )
        if target is None:
            continue
        request = _red_request(by_order[target.key.order_id], target.invoice_number or "")
        try:
            outcome = await client.red_reverse(request, wait_seconds=5.0, poll_interval=0.1)
        except FapiaoError as exc:
            reds.append({"provider": provider, "order_id": request.order_id, "error": exc.code})
            continue
        red_keys.append(RequestKey(seller, request.order_id))
        reds.append(
            {
                "provider": provider,
                "blue_order_id": target.key.order_id,
                "blue_invoice_number": target.invoice_number,
                "red_order_id": request.order_id,
                "reversed_amount": str(request.lines[0].amount),
                "form": outcome.confirmation.confirmation_id if outcome.confirmation else None,
                "state": outcome.red.state.value,
            }
        )
    if red_keys:
        await _wait_settled(client, red_keys, options.settle_timeout)
        # the red invoice's callback finishes its blue invoice just after recording the red
        blue_keys = [
            RequestKey(sellers[e["provider"]], e["blue_order_id"])
            for e in reds
            if "red_order_id" in e
        ]
        await _wait_settled(client, blue_keys, options.settle_timeout, _RED_WORKFLOW)
        for entry in reds:
            if "red_order_id" not in entry:
                continue
            seller = sellers[entry["provider"]]
            red = await client.ledger.get(RequestKey(seller, entry["red_order_id"]))
            blue = await client.ledger.get(RequestKey(seller, entry["blue_order_id"]))
            if red is not None:
                entry["state"] = red.state.value
                entry["red_invoice_number"] = red.invoice_number
            if blue is not None:
                entry["blue_state"] = blue.state.value

    say("downloading PDF / OFD / XML / 下载版式文件")
    documents_dir = run_dir / "documents"
    all_keys = keys + red_keys
    records = await client.ledger.get_many(all_keys)
    gate = asyncio.Semaphore(8)
    saved: dict[str, int] = defaultdict(int)

    async def fetch(key: RequestKey) -> None:
        record = records[key]
        async with gate:
            files = await client.documents(
                key.seller_tax_id, key.order_id, dest_dir=documents_dir / record.provider_profile
            )
        saved[record.provider_profile] += len(files)

    await asyncio.gather(
        *(
            fetch(k)
            for k in all_keys
            if k in records and records[k].state in _HAS_INVOICE and records[k].invoice_number
        )
    )

    summaries = []
    registry = app.state.metrics.registry
    for provider, seller in sellers.items():
        profile = PROFILES[provider]
        summary = ProviderSummary(profile=profile, provider=provider, seller=mask_tax_id(seller))
        for key in keys:
            if key.seller_tax_id != seller:
                continue
            summary.invoices += 1
            record = records.get(key)
            if record is None:
                continue
            if record.state in _HAS_INVOICE:
                summary.issued += 1
            elif record.state is S.FAILED:
                summary.failed += 1
            elif record.state in _OPEN:
                summary.pending += 1
        summary.red = sum(
            1
            for key in red_keys
            if key.seller_tax_id == seller and records.get(key) and records[key].state is S.ISSUED
        )
        summary.callbacks = int(
            registry.get_sample_value(
                "fapiao_callbacks_total", {"profile": profile, "outcome": "applied"}
            )
            or 0
        )
        summary.documents = saved.get(profile, 0)
        durations = timer.durations.get((provider, "issue"), [])
        p50, p99 = _percentile(durations, 0.5), _percentile(durations, 0.99)
        summary.issue_p50_ms = round(p50 * 1000, 1) if p50 is not None else None
        summary.issue_p99_ms = round(p99 * 1000, 1) if p99 is not None else None
        summaries.append(summary)

    ok = (
        still_open == 0
        and all(s.failed == 0 and s.pending == 0 for s in summaries)
        and all(r.get("state") == S.ISSUED.value for r in reds)
        and len(reds) == len(sellers)
    )
    return DemoReport(
        run_dir=str(run_dir),
        config=str(run_dir / "fapiao.toml"),
        ledger=str(run_dir / "ledger.db"),
        documents_dir=str(documents_dir),
        invoices=len(invoices),
        elapsed_seconds=0.0,
        service_url=service_url,
        providers=summaries,
        red_reversals=reds,
        batch=batch.to_dict(),
        ok=ok,
    )

"""Batches: streamed JSONL/CSV, invalid rows skipped with line and path, pilot, resumable."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from fapiao.engine.batch import BatchProgress
from fapiao.engine.batch_files import write_csv
from fapiao.engine.client import run_batch
from fapiao.engine.ledger import RequestKey
from fapiao.models import Invoice, InvoiceState
from fapiao.testing.samples import sample_invoices, service_invoice


def mixed_invoices(env, per_vendor: int) -> list[Invoice]:
    out: list[Invoice] = []
    for name in ("nuonuo", "baiwang"):
        seller = env.vendors[name].seller()
        out.extend(sample_invoices(seller))
        out.extend(
            service_invoice(seller, amount=f"{100 + i}.00", order_id=f"B{uuid.uuid4().hex[:16]}")
            for i in range(per_vendor)
        )
    return out


def jsonl(invoice: Invoice) -> str:
    return invoice.model_dump_json(exclude_none=True)


async def test_jsonl_batch_skips_invalid_rows_and_issues_the_rest(
    engine_env_any_ledger, tmp_path: Path
) -> None:
    env = engine_env_any_ledger  # SQLite and PostgreSQL (a batch id did not fit PostgreSQL)
    invoices = mixed_invoices(env, 3)
    bad_rate = json.loads(jsonl(invoices[0]))
    bad_rate["order_id"] = "BAD-RATE-" + uuid.uuid4().hex[:8]
    bad_rate["lines"][0]["tax_rate"] = "0.07"
    bad_float = json.loads(jsonl(invoices[1]))
    bad_float["order_id"] = "BAD-FLOAT-" + uuid.uuid4().hex[:8]
    bad_float["lines"][0]["amount"] = 12.5
    rows = [jsonl(i) for i in invoices]
    rows.insert(2, "{not json")  # line 3
    rows.insert(4, json.dumps(bad_rate, ensure_ascii=False))  # line 5
    rows.insert(5, "")  # a blank line is not an item
    rows.insert(7, json.dumps(bad_float, ensure_ascii=False))  # line 8
    path = tmp_path / "invoices.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    seen: list[BatchProgress] = []
    async with env.client() as client:
        report = await run_batch(client, path, concurrency=4, progress=seen.append)
        assert report.total == len(invoices) + 3
        assert (report.issued, report.invalid, report.failed, report.pending) == (
            len(invoices),
            3,
            0,
            0,
        )
        assert report.complete
        paths = {row.line: [i.path for i in row.issues] for row in report.invalid_rows}
        assert paths[3] == ["line 3"]
        assert any(p.startswith("line 5: lines[0]") for p in paths[5])
        assert "line 8: lines[0].amount" in paths[8]
        assert seen[-1].done == report.total
        for invoice in invoices:
            record = await client.record(invoice.seller.tax_id or "", invoice.order_id)
            assert record.state is InvoiceState.ISSUED
        again = await run_batch(client, path, concurrency=4)
        assert again.complete and again.skipped == again.total and again.processed == 0
    for invoice in invoices:
        vendor = env.vendors[
            "nuonuo" if invoice.seller.tax_id == env.vendors["nuonuo"].seller_tax_id else "baiwang"
        ]
        assert vendor.issues(invoice.order_id) == 1


async def test_csv_batch_and_pilot(engine_env_any_ledger, tmp_path: Path) -> None:
    env = engine_env_any_ledger
    invoices = mixed_invoices(env, 2)
    path = tmp_path / "invoices.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_csv(invoices, handle)
    text = path.read_text(encoding="utf-8").splitlines()
    # a 2-line invoice whose second line has a bad tax code: its own row is named
    bad = invoices[0].model_copy(update={"order_id": "CSVBAD" + uuid.uuid4().hex[:8]})
    with (tmp_path / "bad.csv").open("w", encoding="utf-8", newline="") as handle:
        write_csv([bad], handle)
    bad_rows = (tmp_path / "bad.csv").read_text(encoding="utf-8").splitlines()[1:]
    bad_rows[1] = bad_rows[1].replace(bad.lines[1].tax_code, "12345")
    lines = [text[0], *bad_rows, *text[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with env.client() as client:
        pilot = await run_batch(client, path, pilot=2, concurrency=2)
        assert pilot.invalid == 1 and pilot.processed == 2
        (row,) = pilot.invalid_rows
        assert row.line == 2 and any(i.path == "line 3: lines[1].tax_code" for i in row.issues)
        assert pilot.pilot is not None and len(pilot.pilot) == 2
        assert all(r.matches and r.invoice_number for r in pilot.pilot), [
            r.to_dict() for r in pilot.pilot
        ]
        assert not pilot.complete
        rest = await run_batch(client, path, concurrency=4)
        assert rest.complete and rest.skipped >= 1
        assert rest.issued + pilot.issued == len(invoices)
    for invoice in invoices:
        vendor = env.vendors[
            "nuonuo" if invoice.seller.tax_id == env.vendors["nuonuo"].seller_tax_id else "baiwang"
        ]
        assert vendor.issues(invoice.order_id) == 1


RUNNER = textwrap.dedent(
    """
    import asyncio, sys
    from fapiao.engine.client import run_batch
    from fapiao.engine.client import AsyncClient

    async def main():
        async with AsyncClient.from_config(sys.argv[1]) as client:
            report = await run_batch(client, sys.argv[2], concurrency=4)
            print(report.issued, report.pending, report.failed, flush=True)

    asyncio.run(main())
    """
)


async def test_kill_9_midway_then_rerun_no_duplicate_no_loss(
    engine_env_any_ledger, tmp_path: Path
) -> None:
    env = engine_env_any_ledger
    profiles = {
        name: env.profile(vendor, timeout_seconds=1.0, limits={"resubmit_after_seconds": 0.5})
        for name, vendor in (("nn", "nuonuo"), ("bw", "baiwang"))
    }
    config = env.write_config(profiles=profiles)
    invoices = mixed_invoices(env, 30)
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(jsonl(i) for i in invoices) + "\n", encoding="utf-8")
    # faults on: some issue requests time out after the sandbox committed, some get a 5xx
    # before it did (both are unknown outcomes to the engine)
    for n, invoice in enumerate(invoices[::9]):
        vendor = env.vendors[
            "nuonuo" if invoice.seller.tax_id == env.vendors["nuonuo"].seller_tax_id else "baiwang"
        ]
        vendor.proxy.fault_next(
            vendor.issue_op, "timeout=2" if n % 2 else "5xx", order_id=invoice.order_id
        )
    for vendor in env.vendors.values():
        vendor.proxy.delay = 0.01  # slow enough to be killed midway
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    argv = [sys.executable, str(script), str(config), str(path)]
    try:
        returncode = await asyncio.to_thread(run_then_kill, argv, env, tmp_path, len(invoices) // 3)
    finally:
        for vendor in env.vendors.values():
            vendor.proxy.delay = 0.0
    assert returncode == -signal.SIGKILL
    async with env.client(config) as client:
        records = await client.ledger.get_many(
            [RequestKey(i.seller.tax_id or "", i.order_id) for i in invoices]
        )
        settled_before = sum(r.state is InvoiceState.ISSUED for r in records.values())
        report = await run_batch(client, path, concurrency=8)
        assert report.complete and report.pending == 0 and report.failed == 0, report.to_dict()
        # the re-run skips everything the ledger had settled (the saved position alone lags
        # behind the first unknown outcome), and does the rest
        assert settled_before <= report.skipped < len(invoices), report.to_dict()
        for invoice in invoices:
            record = await client.record(invoice.seller.tax_id or "", invoice.order_id)
            assert record.state is InvoiceState.ISSUED, (invoice.order_id, record.state)
    for invoice in invoices:
        vendor = env.vendors[
            "nuonuo" if invoice.seller.tax_id == env.vendors["nuonuo"].seller_tax_id else "baiwang"
        ]
        assert vendor.accepted(invoice.order_id) == 1, invoice.order_id  # 0 duplicates, 0 missing


async def test_a_resumed_batch_skips_what_the_ledger_settled(engine_env, tmp_path: Path) -> None:
    """The saved position cannot pass the first unknown outcome until it is settled, so after
    a kill it lags far behind what was done; the re-run asks the ledger instead and sends
    nothing twice. (Before, a re-run re-processed almost the whole file.)"""
    env = engine_env
    vendor = env.vendors["baiwang"]  # synchronous: an accepted invoice is issued at once
    config = env.write_config(
        profiles={"bw": env.profile("baiwang", timeout_seconds=1.0)},
        routing={vendor.seller_tax_id: "bw"},
    )
    seller = vendor.seller()
    invoices = [
        service_invoice(seller, amount=f"{10 + i}.00", order_id=f"R{uuid.uuid4().hex[:16]}")
        for i in range(40)
    ]
    path = tmp_path / "resume.jsonl"
    path.write_text("\n".join(jsonl(i) for i in invoices) + "\n", encoding="utf-8")
    vendor.proxy.fault_next(vendor.issue_op, "timeout=30", order_id=invoices[0].order_id)
    vendor.proxy.delay = 0.01
    argv = [sys.executable, str(tmp_path / "runner.py"), str(config), str(path)]
    (tmp_path / "runner.py").write_text(RUNNER)
    try:
        returncode = await asyncio.to_thread(run_then_kill, argv, env, tmp_path, 25)
    finally:
        vendor.proxy.delay = 0.0
        vendor.proxy.clear_faults()
    assert returncode == -signal.SIGKILL
    async with env.client(config) as client:
        keys = [RequestKey(seller.tax_id or "", i.order_id) for i in invoices]
        found = await client.ledger.get_many(keys)
        issued = {k for k, r in found.items() if r.state is InvoiceState.ISSUED}
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        saved = await client.ledger.get_batch(f"jsonl:{digest}")
        assert saved is not None and saved.position < len(issued) - 10, (saved, len(issued))
        sent_before = {i.order_id: vendor.issues(i.order_id) for i in invoices}
        report = await run_batch(client, path, concurrency=4)
        assert report.complete and report.failed == 0, report.to_dict()
        assert report.skipped >= len(issued), report.to_dict()
        assert report.processed <= len(invoices) - len(issued)
    for invoice in invoices:
        assert vendor.accepted(invoice.order_id) == 1, invoice.order_id
        if RequestKey(seller.tax_id or "", invoice.order_id) in issued:
            assert vendor.issues(invoice.order_id) == sent_before[invoice.order_id]


def run_then_kill(argv: list[str], env, tmp_path: Path, after_issues: int) -> int:
    """Run the batch in a child process and SIGKILL it once ``after_issues`` issue requests
    reached the sandboxes."""
    log_path = tmp_path / "child.log"

    def sent() -> int:
        return sum(v.proxy.count(v.issue_op) for v in env.vendors.values())

    with log_path.open("wb") as log:
        child = subprocess.Popen(argv, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            before = sent()
            while sent() - before < after_issues:
                output = log_path.read_text(errors="replace")[-3000:]
                assert child.poll() is None, output
                assert time.monotonic() < deadline, output
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=10)
    return child.returncode


async def test_hostile_rows_are_reported_and_skipped_never_abort_the_batch(
    engine_env, tmp_path: Path
) -> None:
    """Each of these rows once aborted the whole batch (RecursionError, int conversion,
    decimal errors, a serialisation error, csv's field limit) and the valid rows after it
    were never issued, on every re-run."""
    env = engine_env
    invoices = mixed_invoices(env, 1)
    template = json.loads(jsonl(invoices[0]))

    def variant(tag: str, **line: object) -> str:
        data = json.loads(json.dumps(template))
        data["order_id"] = f"H{tag}{uuid.uuid4().hex[:8]}"
        data["lines"][0].update(line)
        return json.dumps(data, ensure_ascii=False)

    deep_extra = json.loads(json.dumps(template))
    deep_extra["order_id"] = "HDEEP" + uuid.uuid4().hex[:8]
    deep_extra["provider_extra"] = {"x": json.loads("[" * 900 + "]" * 900)}
    hostile = [
        "[" * 100_000 + "]" * 100_000,
        "1" * 5000,
        variant("EXP", amount="1e999999"),
        variant("OVF", tax_rate="1E+999999999"),
        variant("TINY", quantity="1e-9999999", unit_price="1"),
        json.dumps(deep_extra),
        "{" + '"order_id": "' + "x" * (5 * 1024 * 1024) + '"}',  # a line over 4 MiB
    ]
    rows = [jsonl(i) for i in invoices]
    for position, row in enumerate(hostile):
        rows.insert(1 + 2 * position, row)
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    async with env.client() as client:
        report = await run_batch(client, path, concurrency=4)
        assert report.complete
        assert (report.invalid, report.issued, report.failed) == (len(hostile), len(invoices), 0)
        assert sorted(r.line for r in report.invalid_rows) == [2 + 2 * i for i in range(7)]
        for row in report.invalid_rows:
            assert row.issues and all(i.message_zh and i.message_en for i in row.issues)

    # CSV: one order with a 200 KB cell (over csv's default field limit) is refused alone
    csv_path = tmp_path / "hostile.csv"
    fresh = [i.model_copy(update={"order_id": "C" + uuid.uuid4().hex[:12]}) for i in invoices]
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        write_csv(fresh, handle)
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(fresh[0].lines[0].name, "长" * 200_000, 1)
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with env.client() as client:
        report = await run_batch(client, csv_path, concurrency=4)
        assert report.complete and report.invalid == 1 and report.failed == 0
        (row,) = report.invalid_rows
        assert row.line == 2 and any(i.path == "line 2: lines[0].name" for i in row.issues)
        assert report.issued == len(fresh) - 1

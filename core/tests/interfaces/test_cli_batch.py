"""``fapiao batch``: JSON Lines and CSV, invalid rows reported by line and field and skipped,
``--pilot`` reconciliation, resuming without sending anything twice."""

from __future__ import annotations

import io
import json
import uuid

from fapiao.engine.batch_files import write_csv


def _issued(inst) -> int:  # type: ignore[no-untyped-def]
    return int(inst.sandboxes["baiwang"].admin.state.counters.get("issued", 0))


def _invoices(inst, n: int, provider: str = "baiwang") -> list:  # type: ignore[no-untyped-def]
    run = uuid.uuid4().hex[:8].upper()
    return [inst.invoice(provider, f"CLI-B-{run}-{i:03d}", i) for i in range(n)]


def test_jsonl_batch_reports_bad_rows_and_resumes_without_resending(install, cli) -> None:
    inst = install()
    invoices = _invoices(inst, 6)
    lines = [i.model_dump_json(exclude_defaults=True) for i in invoices]
    bad = json.loads(lines[2])
    bad["lines"][1]["tax_rate"] = "0.07"  # not a rate of 数电
    lines[2] = json.dumps(bad, ensure_ascii=False)
    lines.insert(4, "{not json")
    path = inst.dir / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _issued(inst)

    result = cli("batch", path, "--config", inst.config, "--json")
    assert result.exit_code == 1  # two rows need attention
    report = json.loads(result.stdout)
    assert (report["total"], report["issued"], report["invalid"], report["failed"]) == (7, 5, 2, 0)
    assert report["complete"] is True
    rows = {row["line"]: row for row in report["invalid_rows"]}
    assert set(rows) == {3, 5}
    assert any(i["path"].startswith("line 3: lines[1].tax_rate") for i in rows[3]["issues"])
    assert rows[5]["issues"][0]["code"] == "MALFORMED_JSON"
    assert _issued(inst) == before + 5

    again = cli("batch", path, "--config", inst.config, "--json")
    resumed = json.loads(again.stdout)
    assert resumed["skipped"] == 7 and resumed["processed"] == 0
    assert _issued(inst) == before + 5  # nothing sent twice

    human = cli("batch", path, "--config", inst.config)
    assert "nothing sent again" in human.stdout


def test_pilot_prints_orders_against_invoices_then_the_rest_continues(install, cli) -> None:
    inst = install()
    invoices = _invoices(inst, 5)
    path = inst.dir / "orders.jsonl"
    path.write_text(
        "".join(i.model_dump_json(exclude_defaults=True) + "\n" for i in invoices),
        encoding="utf-8",
    )
    before = _issued(inst)
    result = cli("batch", path, "--pilot", "2", "--config", inst.config, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    pilot = json.loads(result.stdout)["pilot"]
    assert [row["order_id"] for row in pilot] == [invoices[0].order_id, invoices[1].order_id]
    assert [row["matches"] for row in pilot] == [True, True]
    assert all(len(row["invoice_number"]) == 20 for row in pilot)
    assert pilot[0]["expected_total_with_tax"] == pilot[0]["invoiced_total_with_tax"]
    assert _issued(inst) == before + 2

    # the same pilot again: the same first two orders, nothing sent again
    again = cli("batch", path, "--pilot", "2", "--config", inst.config, "--json")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert [row["order_id"] for row in json.loads(again.stdout)["pilot"]] == [
        invoices[0].order_id,
        invoices[1].order_id,
    ]
    assert _issued(inst) == before + 2

    result = cli("batch", path, "--config", inst.config, "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["issued"] == 3
    assert _issued(inst) == before + 5


def test_pilot_table_on_screen(install, cli) -> None:
    inst = install()
    invoices = _invoices(inst, 3)
    path = inst.dir / "few.jsonl"
    path.write_text(
        "".join(i.model_dump_json(exclude_defaults=True) + "\n" for i in invoices),
        encoding="utf-8",
    )
    result = cli("batch", path, "--pilot", "1", "--config", inst.config)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "pilot: orders vs invoices" in result.stdout
    assert invoices[0].order_id in result.stdout
    assert invoices[1].order_id not in result.stdout
    assert "✓" in result.stdout


def test_csv_batch_on_the_asynchronous_provider_settles(install, cli) -> None:
    inst = install()
    invoices = _invoices(inst, 3, provider="nuonuo")
    buffer = io.StringIO()
    write_csv(invoices, buffer)
    path = inst.dir / "orders.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = cli("batch", path, "--concurrency", "2", "--config", inst.config, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert (report["format"], report["issued"], report["pending"]) == ("csv", 3, 0)


def test_missing_batch_file_is_a_clear_error(install, cli) -> None:
    inst = install()
    result = cli("batch", inst.dir / "nope.jsonl", "--config", inst.config)
    assert result.exit_code == 1
    assert "nope.jsonl" in result.stderr and "Traceback" not in result.stderr

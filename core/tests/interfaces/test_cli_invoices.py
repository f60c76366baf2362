"""The engine's CLI commands end to end against the real sandboxes: issue, query, documents,
deliver, red, status, reconcile — each with ``--json``."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal

from fapiao.documents import verify_document
from fapiao.models import DocumentFormat


def _order(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def _issued_count(inst) -> int:  # type: ignore[no-untyped-def]
    return int(inst.sandboxes["baiwang"].admin.state.counters.get("issued", 0))


def test_issue_twice_sends_once_and_answers_the_same(install, cli) -> None:
    inst = install()
    invoice = inst.invoice("baiwang", _order("CLI-ISSUE"))
    path = inst.write_invoice(invoice)
    before = _issued_count(inst)

    first = cli("issue", path, "--config", inst.config, "--json")
    assert first.exit_code == 0, first.stdout + first.stderr
    status = json.loads(first.stdout)
    assert status["state"] == "issued"
    assert len(status["invoice_number"]) == 20
    assert status["total_with_tax"] == "27407.74" or Decimal(status["total_with_tax"]) > 0
    assert status["seller_tax_id"] == inst.baiwang_seller

    again = cli("issue", path, "--config", inst.config, "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["invoice_number"] == status["invoice_number"]
    assert _issued_count(inst) == before + 1  # the provider saw one issue, not two

    human = cli("issue", path, "--config", inst.config)
    assert status["invoice_number"] in human.stdout
    assert inst.baiwang_seller not in human.stdout  # tax IDs are masked on screen


def test_issue_waits_for_an_asynchronous_provider(install, cli) -> None:
    inst = install()  # no callback URL: --wait follows up by query
    path = inst.write_invoice(inst.invoice("nuonuo", _order("CLI-WAIT")))
    result = cli("issue", path, "--config", inst.config, "--wait", "10", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "issued"


def test_invalid_invoice_lists_every_field(install, cli) -> None:
    inst = install()
    data = json.loads(inst.invoice("baiwang", _order("CLI-BAD")).model_dump_json())
    data["buyer"]["tax_id"] = "91310000MA1FL8XQ30"  # wrong check character
    data["lines"][0]["amount"] = 12.5  # a float: refused for money
    path = inst.dir / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = cli("issue", path, "--config", inst.config, "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "INVALID_INVOICE"
    paths = {issue["path"] for issue in error["issues"]}
    assert "lines[0].amount" in paths
    human = cli("issue", path, "--config", inst.config)
    assert "lines[0].amount" in human.stderr and "Traceback" not in human.stderr


def test_query_documents_deliver_red_status(install, cli, tmp_path) -> None:
    inst = install()
    invoice = inst.invoice("baiwang", _order("CLI-FLOW"))
    issued = json.loads(
        cli("issue", inst.write_invoice(invoice), "--config", inst.config, "--json").stdout
    )
    seller, order = inst.baiwang_seller, invoice.order_id

    result = cli("query", seller, order, "--events", "--config", inst.config, "--json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["status"]["invoice_number"] == issued["invoice_number"]
    assert [e["to_state"] for e in body["events"]] == ["submitted", "issued"]

    out = tmp_path / "files"
    result = cli("documents", seller, order, "--out", out, "--config", inst.config, "--json")
    assert result.exit_code == 0, result.stderr
    files = json.loads(result.stdout)
    assert {f["format"] for f in files} == {"pdf", "ofd", "xml"}
    for item in files:
        content = (out / f"{issued['invoice_number']}.{item['format']}").read_bytes()
        assert hashlib.sha256(content).hexdigest() == item["sha256"]
        verify_document(
            DocumentFormat(item["format"]), content, invoice_number=issued["invoice_number"]
        )

    result = cli(
        "deliver",
        seller,
        issued["invoice_number"],
        "--email",
        "ap@example.com",
        "--order",
        order,
        "--config",
        inst.config,
    )
    assert result.exit_code == 0, result.stderr
    assert "a***@example.com" in result.stdout
    deliveries = inst.sandboxes["baiwang"].admin.state.deliveries
    assert any(
        d.get("email") == "ap@example.com" or "ap@example.com" in json.dumps(d) for d in deliveries
    )

    line = invoice.lines[1]
    result = cli(
        "red",
        "--seller",
        seller,
        "--order",
        order,
        "--reason",
        "sales_return",
        "--line",
        f"1:{line.unit_price}:1",
        "--config",
        inst.config,
        "--json",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["issued"] is True
    assert outcome["red"]["is_red"] is True
    assert Decimal(outcome["red"]["total_amount"]) == -line.unit_price
    assert outcome["blue"]["state"] == "partially_reversed"
    # the same command again continues the same reversal: no second red invoice
    again = json.loads(
        cli(
            "red",
            "--seller",
            seller,
            "--order",
            order,
            "--reason",
            "sales_return",
            "--line",
            f"1:{line.unit_price}:1",
            "--config",
            inst.config,
            "--json",
        ).stdout
    )
    assert again["red"]["invoice_number"] == outcome["red"]["invoice_number"]

    result = cli("status", "--config", inst.config, "--json")
    assert result.exit_code == 0
    status = json.loads(result.stdout)
    assert status["ledger"]["by_profile"]["bj"] == {"partially_reversed": 1, "issued": 1}
    assert status["profiles"] == {"hz": "nuonuo", "bj": "baiwang"}
    assert inst.baiwang_seller not in result.stdout  # routing shown masked


def test_reconcile_settles_what_a_fault_left_open(install, cli) -> None:
    inst = install()
    sandbox = inst.sandboxes["baiwang"]
    invoice = inst.invoice("baiwang", _order("CLI-RECON"))
    path = inst.write_invoice(invoice)
    assert sandbox.set_faults is not None
    sandbox.set_faults({"reset_rate": 1.0, "reset_after_commit": True})
    try:
        result = cli("issue", path, "--config", inst.config, "--json")
    finally:
        sandbox.set_faults({"reset_rate": 0.0, "reset_after_commit": False})
    # the request reached the provider but the answer was lost (and queries failed too):
    # recorded as sent, never as failed
    assert result.exit_code == 1, result.stdout
    assert json.loads(result.stdout)["error"]["code"] == "OUTCOME_UNKNOWN"
    assert _invoices_for(inst, invoice.order_id) == 1
    status = json.loads(
        cli(
            "query",
            inst.baiwang_seller,
            invoice.order_id,
            "--no-refresh",
            "--config",
            inst.config,
            "--json",
        ).stdout
    )
    assert status["state"] == "submitted"

    result = cli("reconcile", "--config", inst.config, "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["settled"] == {"issued": 1}
    final = json.loads(
        cli(
            "query",
            inst.baiwang_seller,
            invoice.order_id,
            "--no-refresh",
            "--config",
            inst.config,
            "--json",
        ).stdout
    )
    assert final["state"] == "issued"
    assert _invoices_for(inst, invoice.order_id) == 1  # settled by query, never resent


def _invoices_for(inst, order_id: str) -> int:  # type: ignore[no-untyped-def]
    state = inst.sandboxes["baiwang"].admin.state
    with state.lock:
        return sum(1 for r in state.invoices.values() if r.invoice.order_id == order_id)

"""`fapiao validate FILE`: totals, 大写, issues with paths, exit codes, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fapiao.cli.app import app
from fapiao.errors import ValidationIssue
from fapiao.hookspecs import hookimpl
from fapiao.plugins import get_plugin_manager

from .conftest import invoice_data, line

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, ["validate", *args])
    assert "Traceback" not in result.output
    return result


def run_json(path: Path | str):
    result = run(str(path), "--json")
    return result.exit_code, json.loads(result.stdout)


def test_valid_examples_exit_zero_with_totals_and_words() -> None:
    code, report = run_json(EXAMPLES / "invoices.jsonl")
    assert code == 0
    assert report["summary"] == {"invoices": 8, "valid": 8, "invalid": 0, "warnings": 1}
    first = report["invoices"][0]
    assert first["line"] == 1 and first["order_id"] == "EX-2026-0001"
    assert first["totals"]["total_with_tax"] == "13217.75"
    assert first["totals"]["amount_in_words"] == "壹万叁仟贰佰壹拾柒圆柒角伍分"
    assert first["totals"]["lines"][1]["kind"] == "discount"
    inclusive = report["invoices"][1]["totals"]
    assert (inclusive["total_amount"], inclusive["total_tax"]) == ("139.73", "12.57")
    legacy = report["invoices"][7]["issues"]
    assert [(i["code"], i["path"], i["warning"]) for i in legacy] == [
        ("LEGACY_TAX_ID", "line 8: buyer.tax_id", True)
    ]


EXPECTED_INVALID = {
    1: "MALFORMED_JSON",
    2: "UNKNOWN_FIELD",
    3: "MISSING_FIELD",
    4: "INVALID_FIELD",
    5: "FLOAT_NOT_ALLOWED",
    6: "INVALID_TAX_ID",
    7: "INVALID_TAX_ID",
    8: "UNKNOWN_TAX_CODE",
    9: "INVALID_TAX_CODE",
    10: "TAX_CODE_IS_SUMMARY",
    11: "RATE_NOT_ALLOWED",
    12: "RATE_NOT_ALLOWED",
    13: "ZERO_AMOUNT",
    14: "NEGATIVE_AMOUNT",
    15: "DISCOUNT_WITHOUT_PARENT",
    16: "DISCOUNT_TOO_LARGE",
    17: "DISCOUNT_MISMATCH",
    18: "TAX_OUT_OF_TOLERANCE",
    19: "TOTAL_TAX_OUT_OF_TOLERANCE",
    20: "AMOUNT_MISMATCH",
    21: "TOO_MANY_DECIMALS",
    22: "SPECIAL_NEEDS_ENTITY_BUYER",
    23: "TREATMENT_MISMATCH",
}


def test_invalid_examples_each_report_their_problem_and_keep_going() -> None:
    code, report = run_json(EXAMPLES / "invalid-invoices.jsonl")
    assert code == 1
    assert report["summary"]["invoices"] == report["summary"]["invalid"] == 23
    for entry in report["invoices"]:
        codes = {i["code"] for i in entry["issues"]}
        assert EXPECTED_INVALID[entry["line"]] in codes, entry
        assert all(i["path"].startswith(f"line {entry['line']}") for i in entry["issues"])
        assert all(i["message_zh"] and i["message_en"] for i in entry["issues"])


def test_human_output_shows_table_words_and_paths() -> None:
    result = run(str(EXAMPLES / "invalid-invoices.jsonl"))
    assert result.exit_code == 1
    assert "line 7: seller.tax_id" in result.output
    assert "INVALID_TAX_ID" in result.output
    ok = run(str(EXAMPLES / "invoices.jsonl"))
    assert ok.exit_code == 0
    assert "壹万叁仟贰佰壹拾柒圆柒角伍分" in ok.output and "*电子计算机*笔记本电脑" in ok.output


def test_single_object_and_array_files(tmp_path: Path) -> None:
    single = tmp_path / "one.json"
    single.write_text(json.dumps(invoice_data(), ensure_ascii=False, indent=2), encoding="utf-8")
    code, report = run_json(single)
    assert code == 0 and report["invoices"][0]["position"] is None
    array = tmp_path / "many.json"
    array.write_text(
        json.dumps([invoice_data(), invoice_data(line(tax_rate="0.17")), 5], indent=1),
        encoding="utf-8",
    )
    code, report = run_json(array)
    assert code == 1
    assert [r["valid"] for r in report["invoices"]] == [True, False, False]
    assert report["invoices"][1]["issues"][0]["path"] == "invoices[1]: lines[0].tax_rate"
    assert report["invoices"][2]["issues"][0]["code"] == "INVALID_FIELD"


def test_malformed_array_and_garbage_lines(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"order_id": ', encoding="utf-8")
    code, report = run_json(broken)
    assert code == 1 and report["invoices"][0]["issues"][0]["code"] == "MALFORMED_JSON"
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"not json\n\n\xff\xfe\n" + json.dumps(invoice_data()).encode() + b"\n")
    code, report = run_json(garbage)
    assert code == 1
    assert [(r["line"], r["valid"]) for r in report["invoices"]] == [
        (1, False),
        (3, False),
        (4, True),
    ]


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "empty-array"])
def test_unreadable_files_exit_two(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "x.jsonl"
    if kind == "directory":
        target.mkdir()
    elif kind == "empty":
        target.write_text("  \n", encoding="utf-8")
    elif kind == "empty-array":
        target.write_text("[]", encoding="utf-8")
    result = run(str(target))
    assert result.exit_code == 2
    json_result = run(str(target), "--json")
    assert json_result.exit_code == 2
    assert "error" in json.loads(json_result.stdout)


class CompanyRules:
    @hookimpl
    def fapiao_validate_invoice(self, invoice):
        if not invoice.remarks:
            return [
                ValidationIssue("REMARKS_REQUIRED", "remarks", "须填写备注", "remarks required")
            ]
        return []


class BrokenRules:
    @hookimpl
    def fapiao_validate_invoice(self, invoice):
        raise RuntimeError("boom")


def test_plugin_validation_hooks_are_run_and_isolated(tmp_path: Path) -> None:
    pm = get_plugin_manager()
    good, bad = CompanyRules(), BrokenRules()
    pm.register(good)
    pm.register(bad)
    try:
        path = tmp_path / "one.jsonl"
        path.write_text(json.dumps(invoice_data()) + "\n", encoding="utf-8")
        code, report = run_json(path)
    finally:
        pm.unregister(good)
        pm.unregister(bad)
    assert code == 1
    found = {(i["code"], i["path"]) for i in report["invoices"][0]["issues"]}
    assert ("REMARKS_REQUIRED", "line 1: remarks") in found
    assert any(c == "HOOK_FAILED" for c, _ in found)


def test_installed_console_script_never_shows_a_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("fapiao")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"order_id": 1}\nnope\n', encoding="utf-8")
    done = subprocess.run(
        [str(script), "validate", str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "line 2" in done.stdout and "MALFORMED_JSON" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_hostile_files_get_canonical_reports_not_a_traceback(tmp_path: Path) -> None:
    """Each of these lines once ended ``fapiao validate`` in a traceback (RecursionError,
    int conversion, decimal errors)."""
    good = invoice_data()
    hostile = [
        "[" * 100_000 + "]" * 100_000,
        "1" * 5000,
        json.dumps({**good, "order_id": "H-EXP", "lines": [line(amount="1e999999")]}),
        json.dumps({**good, "provider_extra": {"x": json.loads("[" * 900 + "]" * 900)}}),
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join([json.dumps(good), *hostile]) + "\n", encoding="utf-8")
    code, result = run_json(path)
    assert code == 1
    reports = result["invoices"]
    assert [r["valid"] for r in reports] == [True, False, False, False, False]
    codes = {i["code"] for r in reports[1:] for i in r["issues"]}
    assert codes <= {"MALFORMED_JSON", "INVALID_FIELD"}, codes
    # a whole-file array nested too deep is one malformed document, reported once
    deep = tmp_path / "deep.json"
    deep.write_text("[" + json.dumps(good) + "," + "[" * 5000 + "]" * 5000 + "]")
    code, result = run_json(deep)
    assert code == 1
    (report,) = result["invoices"]
    assert [i["code"] for i in report["issues"]] == ["MALFORMED_JSON"]

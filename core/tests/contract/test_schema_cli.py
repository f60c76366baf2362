"""``fapiao schema`` prints JSON Schema that other languages can generate types from."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fapiao.cli.app import app


def test_schema_of_invoice_has_money_as_string_or_integer() -> None:
    result = CliRunner().invoke(app, ["schema", "invoice"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema["title"] == "Invoice"
    assert "order_id" in schema["required"]
    line = schema["$defs"]["InvoiceLine"]
    assert line["additionalProperties"] is False


def test_schema_unknown_model_is_refused() -> None:
    result = CliRunner().invoke(app, ["schema", "nope"])
    assert result.exit_code != 0
    assert "unknown model" in result.output

"""Writing outcomes back: an UPDATE of the source table, or a record appended to a file.

Both are idempotent, because the sync retries a write-back whose answer it did not see: the
UPDATE sets the same values again (one statement, one transaction: the row is never half
written); the file writer skips a record identical to the last one it holds for that document,
so readers that take the latest record per document see one outcome.
"""

from __future__ import annotations

import csv
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fapiao.connectors.custom.expressions import ExpressionError, MissingField
from fapiao.connectors.custom.spec import Constant, MappingSpec
from fapiao.contract import WriteBack
from fapiao.errors import ConfigError, NotFound

__all__ = ["FileWriter", "TableWriter", "outcome_values"]


def _scope(outcome: WriteBack) -> dict[str, Any]:
    return {
        "source_id": outcome.source_id,
        "order_id": outcome.order_id,
        "state": outcome.state.value,
        "invoice_number": outcome.invoice_number,
        "issued_at": outcome.issued_at.isoformat() if outcome.issued_at else None,
        "document_urls": dict(outcome.document_urls),
        "error_code": outcome.error_code,
        "error_message": outcome.error_message,
    }


def outcome_values(spec: MappingSpec, outcome: WriteBack) -> dict[str, Any]:
    """Column → value for one outcome (missing optional fields become NULL)."""
    scope = [_scope(outcome)]
    values: dict[str, Any] = {}
    for column, rule in spec.writeback_columns.items():
        if isinstance(rule, Constant):
            values[column] = rule.value
            continue
        try:
            value = rule.evaluate(scope)
        except MissingField:  # e.g. document_urls.pdf before any document exists
            value = None
        except ExpressionError as exc:
            raise ConfigError(
                f"{spec.file}: writeback.columns.{column}: {exc}",
                message_zh=f"{spec.file}：writeback.columns.{column} 求值失败：{exc}",
            ) from None
        values[column] = format(value, "f") if isinstance(value, Decimal) else value
    return values


class TableWriter:
    def __init__(self, spec: MappingSpec) -> None:
        assert spec.writeback is not None
        self.spec = spec
        url = spec.writeback.url or spec.source.url
        if not url:
            raise ConfigError(
                f"{spec.file}: writeback.url is required when the source is not SQL",
                message_zh=f"{spec.file}：数据源不是 SQL 时须给出 writeback.url",
            )
        self.engine = sa.create_engine(spec.resolve_url(url))
        quote = self.engine.dialect.identifier_preparer.quote
        columns = list(spec.writeback_columns)
        assignments = ", ".join(f"{quote(c)} = :v{i}" for i, c in enumerate(columns))
        self.columns = columns
        self.statement = sa.text(
            f"UPDATE {quote(spec.writeback.table or '')} SET {assignments} "
            f"WHERE {quote(spec.writeback.key or '')} = :fapiao_key"
        )

    def write(self, outcome: WriteBack) -> None:
        values = outcome_values(self.spec, outcome)
        params = {f"v{i}": values[c] for i, c in enumerate(self.columns)}
        params["fapiao_key"] = outcome.source_id
        try:
            with self.engine.begin() as conn:
                result = conn.execute(self.statement, params)
        except sa.exc.SQLAlchemyError as exc:
            raise ConfigError(
                f"{self.spec.file}: write-back failed: {type(exc).__name__}: {exc.args[0] if exc.args else ''}",
                message_zh=f"{self.spec.file}：回写失败：{type(exc).__name__}",
            ) from None
        if result.rowcount == 0:
            raise NotFound(
                f"write-back matched no row for document {outcome.source_id}",
                message_zh=f"回写时未找到单据 {outcome.source_id} 对应的行",
            )

    def dispose(self) -> None:
        self.engine.dispose()


class FileWriter:
    def __init__(self, spec: MappingSpec) -> None:
        assert spec.writeback is not None
        path = spec.resolve(spec.writeback.path)
        assert path is not None
        self.spec = spec
        self.path: Path = path
        self.kind = spec.writeback.kind
        self.columns = ["source_id", *[c for c in spec.writeback_columns if c != "source_id"]]
        self._last: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._last is not None:
            return self._last
        last: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            with self.path.open(encoding="utf-8", newline="") as handle:
                if self.kind == "csv":
                    for row in csv.DictReader(handle):
                        last[row["source_id"]] = {k: (v if v != "" else None) for k, v in row.items()}
                else:
                    for line in handle:
                        if line.strip():
                            record = json.loads(line)
                            last[str(record["source_id"])] = record
        self._last = last
        return last

    def write(self, outcome: WriteBack) -> None:
        record = {"source_id": outcome.source_id, **outcome_values(self.spec, outcome)}
        last = self._load()
        comparable = record if self.kind == "jsonl" else {k: _csv_cell(v) for k, v in record.items()}
        if last.get(outcome.source_id) == comparable:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", encoding="utf-8", newline="") as handle:
            if self.kind == "jsonl":
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            else:
                writer = csv.DictWriter(handle, fieldnames=self.columns)
                if new_file:
                    writer.writeheader()
                writer.writerow({k: record.get(k) for k in self.columns})
            handle.flush()
            os.fsync(handle.fileno())
        last[outcome.source_id] = comparable

    def dispose(self) -> None:
        return None


def _csv_cell(value: Any) -> Any:
    if value is None or value == "":
        return None
    return str(value)

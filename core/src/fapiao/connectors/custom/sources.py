"""Reading billing documents from CSV, JSON Lines or any SQL database.

A document is its header fields plus its lines: either one row per line grouped by the id
column (CSV, SQL, flat JSONL), or one JSON object per document with a nested list of lines.
Documents come out in resume order — ``(changed_at, id)`` — and strictly after the cursor.

SQL is read in keyset pages (``WHERE (changed_at, id) > cursor ORDER BY … LIMIT n``), each in a
short transaction: the sync writes results back into the same database while it iterates, so a
long-lived read cursor would block SQLite writers, and offset paging over rows that leave the
pending set would skip documents.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fapiao.connectors.custom.expressions import ExpressionError
from fapiao.connectors.custom.spec import MappingSpec
from fapiao.errors import ConfigError

__all__ = [
    "RawDocument",
    "SqlSource",
    "decode_cursor",
    "encode_cursor",
    "is_pending",
    "read_file_documents",
]


@dataclass
class RawDocument:
    id: Any
    order: Any
    document: dict[str, Any]
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cursor(self) -> str:
        return encode_cursor(self.order, self.id)


def encode_cursor(order: Any, doc_id: Any) -> str:
    return json.dumps([_plain(order), _plain(doc_id)], ensure_ascii=False)


def decode_cursor(cursor: str | None) -> tuple[Any, Any] | None:
    if not cursor:
        return None
    try:
        order, doc_id = json.loads(cursor)
    except (ValueError, TypeError):
        raise ConfigError(
            f"cursor {cursor!r} was not written by the custom connector",
            message_zh=f"游标 {cursor!r} 不是 custom 连接器写入的",
        ) from None
    return order, doc_id


def _plain(value: Any) -> Any:
    """Cursor and payload values as JSON types (dates as ISO text, decimals as text)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return value.hex()
    return value


def _row(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, Decimal) else _plain(v)) for k, v in values.items()}


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (2, str(value))
    if isinstance(value, int | Decimal):
        return (0, Decimal(value))
    if isinstance(value, str):
        try:
            return (0, Decimal(value)) if value.strip() else (1, value)
        except ArithmeticError:
            return (1, value)
    return (1, str(value))


def _after(order: Any, doc_id: Any, cursor: tuple[Any, Any] | None) -> bool:
    if cursor is None:
        return True
    return (_sort_key(order), _sort_key(doc_id)) > (_sort_key(cursor[0]), _sort_key(cursor[1]))


# -- files ---------------------------------------------------------------------------------
def _file_rows(spec: MappingSpec) -> Iterator[dict[str, Any]]:
    path = spec.resolve(spec.source.path)
    assert path is not None
    try:
        handle = path.open(encoding=spec.source.encoding, newline="")
    except OSError as exc:
        raise ConfigError(
            f"cannot read source {path}: {exc.strerror}", message_zh=f"无法读取数据源 {path}：{exc.strerror}"
        ) from None
    with handle:
        if spec.source.kind == "csv":
            reader = csv.DictReader(handle, delimiter=spec.source.delimiter)
            for row in reader:
                # An empty CSV cell means "no value", like NULL in SQL.
                yield {k: (v if v != "" else None) for k, v in row.items() if k is not None}
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, parse_float=Decimal)
            except ValueError as exc:
                raise ConfigError(
                    f"{path} line {number}: not JSON ({exc})", message_zh=f"{path} 第 {number} 行不是 JSON"
                ) from None
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{path} line {number}: not a JSON object", message_zh=f"{path} 第 {number} 行不是 JSON 对象"
                )
            yield value


def read_file_documents(spec: MappingSpec, cursor: str | None) -> list[RawDocument]:
    """All documents of a CSV/JSONL source after ``cursor``, in resume order."""
    source = spec.source
    after = decode_cursor(cursor)
    documents: dict[Any, RawDocument] = {}
    for position, row in enumerate(_file_rows(spec)):
        if source.id not in row or row[source.id] in (None, ""):
            raise ConfigError(
                f"{spec.resolve(source.path)}: row {position + 1} has no {source.id!r}",
                message_zh=f"{spec.resolve(source.path)}：第 {position + 1} 行缺少 {source.id}",
            )
        doc_id = row[source.id]
        if source.lines:
            lines = row.get(source.lines) or []
            header = {k: v for k, v in row.items() if k != source.lines}
            order = row.get(source.changed_at) if source.changed_at else f"{position:012d}"
            documents[doc_id] = RawDocument(doc_id, order, header, [dict(x) for x in lines])
            continue
        existing = documents.get(doc_id)
        if existing is None:
            order = row.get(source.changed_at) if source.changed_at else f"{position:012d}"
            documents[doc_id] = RawDocument(doc_id, order, dict(row), [dict(row)])
        else:
            existing.lines.append(dict(row))
    result = [d for d in documents.values() if _after(d.order, d.id, after)]
    result.sort(key=lambda d: (_sort_key(d.order), _sort_key(d.id)))
    if source.line_order:
        for doc in result:
            doc.lines.sort(key=lambda r: _sort_key(r.get(source.line_order or "")))
    return [d for d in result if is_pending(spec, d)]


def is_pending(spec: MappingSpec, doc: RawDocument) -> bool:
    if spec.pending is None:
        return True
    try:
        return bool(spec.pending.evaluate([doc.document]))
    except ExpressionError as exc:
        raise ConfigError(
            f"{spec.file}: source.pending failed on document {doc.id}: {exc}",
            message_zh=f"{spec.file}：source.pending 对单据 {doc.id} 求值失败：{exc}",
        ) from None


# -- SQL -----------------------------------------------------------------------------------
class SqlSource:
    def __init__(self, spec: MappingSpec) -> None:
        self.spec = spec
        source = spec.source
        assert source.url is not None
        self.engine = sa.create_engine(spec.resolve_url(source.url))
        quote = self.engine.dialect.identifier_preparer.quote
        inner = source.query.strip().rstrip(";") if source.query else f"SELECT * FROM {quote(source.table or '')}"
        self.subquery = f"({inner}) AS fapiao_src"
        self.id_col = quote(source.id)
        self.order_col = quote(source.changed_at) if source.changed_at else None
        self.line_col = quote(source.line_order) if source.line_order else None

    def page(self, cursor: str | None, limit: int) -> list[RawDocument]:
        """The next ``limit`` documents after ``cursor`` (fewer at the end)."""
        after = decode_cursor(cursor)
        keys_cols = f"{self.order_col}, {self.id_col}" if self.order_col else self.id_col
        where, params = "", {"limit": limit}
        if after is not None:
            if self.order_col:
                where = (
                    f"WHERE {self.order_col} > :c OR ({self.order_col} = :c AND {self.id_col} > :k)"
                )
                params.update(c=after[0], k=after[1])
            else:
                where = f"WHERE {self.id_col} > :k"
                params.update(k=after[1])
        keys_sql = sa.text(
            f"SELECT DISTINCT {keys_cols} FROM {self.subquery} {where} ORDER BY {keys_cols} LIMIT :limit"
        )
        order_by = keys_cols + (f", {self.line_col}" if self.line_col else "")
        rows_sql = sa.text(
            f"SELECT * FROM {self.subquery} WHERE {self.id_col} IN :ids ORDER BY {order_by}"
        ).bindparams(sa.bindparam("ids", expanding=True))
        try:
            with self.engine.connect() as conn:
                keys = conn.execute(keys_sql, params).all()
                if not keys:
                    return []
                ids = list(dict.fromkeys(k[-1] for k in keys))
                rows = conn.execute(rows_sql, {"ids": ids}).mappings().all()
        except sa.exc.SQLAlchemyError as exc:
            raise ConfigError(
                f"{self.spec.file}: source query failed: {type(exc).__name__}: {exc.args[0] if exc.args else ''}",
                message_zh=f"{self.spec.file}：数据源查询失败：{type(exc).__name__}",
            ) from None
        documents: dict[Any, RawDocument] = {}
        id_name = self.spec.source.id
        order_name = self.spec.source.changed_at
        for mapping in rows:
            row = _row(dict(mapping))
            doc_id = mapping[id_name]
            existing = documents.get(doc_id)
            if existing is None:
                order = mapping[order_name] if order_name else doc_id
                documents[doc_id] = RawDocument(_plain(doc_id), _plain(order), row, [row])
            else:
                existing.lines.append(row)
        return [documents[i] for i in ids if i in documents]

    def dispose(self) -> None:
        self.engine.dispose()

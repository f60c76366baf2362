"""Batch files: reading JSON Lines and CSV invoices item by item, and writing the CSV layout.

Why apart from the runner (``batch.py``): the file formats are a contract with the people who
prepare batches (docs/config.md documents the CSV layout), while the runner is about
exactly-once and resuming. Everything here streams: a file is never held in memory whole.

CSV layout (one row per invoice line; consecutive rows with the same ``order_id`` form one
invoice; invoice-level columns are read from the group's first row and may be repeated or
left empty on the following rows): see :data:`CSV_INVOICE_COLUMNS`,
:data:`CSV_PARTY_COLUMNS` and :data:`CSV_LINE_COLUMNS`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fapiao.errors import InvalidInvoice, InvalidRequest, ValidationIssue
from fapiao.models import Invoice
from fapiao.models.limits import MAX_JSON_BYTES

__all__ = [
    "CSV_COLUMNS",
    "CSV_INVOICE_COLUMNS",
    "CSV_LINE_COLUMNS",
    "CSV_PARTY_COLUMNS",
    "FileItem",
    "Format",
    "detect_format",
    "open_error",
    "parse_item",
    "read_items",
    "relocate",
    "scan",
    "write_csv",
]

Format = Literal["jsonl", "csv"]

CSV_INVOICE_COLUMNS = (
    "order_id",
    "kind",
    "prices_include_tax",
    "remarks",
    "issuer",
    "payee",
    "reviewer",
    "special_business",
)
CSV_PARTY_FIELDS = (
    "name",
    "tax_id",
    "natural_person",
    "address",
    "phone",
    "bank",
    "account",
    "email",
    "mobile",
)
CSV_PARTY_COLUMNS = tuple(f"{p}_{f}" for p in ("seller", "buyer") for f in CSV_PARTY_FIELDS)
CSV_LINE_FIELDS = (
    "name",
    "tax_code",
    "spec",
    "unit",
    "quantity",
    "unit_price",
    "amount",
    "tax_rate",
    "tax",
    "treatment",
    "preferential_policy",
    "kind",
)
CSV_LINE_COLUMNS = tuple(f"line_{f}" for f in CSV_LINE_FIELDS)
CSV_COLUMNS = CSV_INVOICE_COLUMNS + CSV_PARTY_COLUMNS + CSV_LINE_COLUMNS
_BOOLEAN_COLUMNS = {"prices_include_tax", "seller_natural_person", "buyer_natural_person"}
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


# -- reading ----------------------------------------------------------------------------------


@dataclass
class FileItem:
    """One invoice of a batch file: where it is, and its raw or pre-shaped data."""

    ordinal: int  # 0-based position among the file's items
    line: int  # first physical line
    data: bytes | dict[str, Any]
    row_lines: tuple[int, ...] = ()  # CSV: the physical line of each invoice line


def open_error(path: Path, exc: OSError) -> InvalidRequest:
    return InvalidRequest(
        f"cannot read the batch file {path}: {exc.strerror or exc}",
        message_zh=f"无法读取批量文件 {path}：{exc.strerror or exc}",
        field="path",
    )


def scan(path: Path, fmt: Format) -> tuple[str, int]:
    """One streaming pass: the file's sha256 and how many items it holds."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    count = sum(1 for _ in read_items(path, fmt))
    return digest.hexdigest(), count


def read_items(path: Path, fmt: Format, *, parse: bool = False) -> Iterator[FileItem]:
    if fmt == "jsonl":
        yield from _jsonl_items(path)
    else:
        yield from _csv_items(path, parse=parse)


def _jsonl_items(path: Path) -> Iterator[FileItem]:
    """One item per non-blank line. A line longer than one invoice may be is not read into
    memory whole: its first ``MAX_JSON_BYTES + 1`` bytes stand for it (and are refused as too
    large when parsed), the rest is skipped."""
    ordinal = 0
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(MAX_JSON_BYTES + 1):
            number += 1
            if len(raw) > MAX_JSON_BYTES and not raw.endswith(b"\n"):
                while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
            if raw.strip():
                yield FileItem(ordinal, number, raw)
                ordinal += 1


def _csv_header(reader: Any, path: Path) -> list[str]:
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return []
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0].removeprefix("\ufeff")
    unknown = [h for h in header if h and h not in CSV_COLUMNS]
    if unknown or "order_id" not in header:
        what = f"unknown columns {unknown}" if unknown else "no order_id column"
        raise InvalidRequest(
            f"{path}: line 1: {what}; see the CSV layout in docs/config.md",
            message_zh=f"{path}：第 1 行：{'未知列 ' + str(unknown) if unknown else '缺少 order_id 列'}；"
            "CSV 格式见 docs/config.md",
            field="line 1",
        )
    return header


def _csv_items(path: Path, *, parse: bool) -> Iterator[FileItem]:
    """One item per order (consecutive rows with the same ``order_id``). A field is read up to
    the size of a whole invoice (the models then refuse what is too long, naming line and
    field); a file the csv module cannot read at all stops with the line where it failed."""
    # process-wide, only ever raised: the default (128 KiB) would abort the whole batch on
    # one long cell instead of refusing that order
    csv.field_size_limit(max(csv.field_size_limit(), MAX_JSON_BYTES))
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            yield from _csv_groups(reader, path, parse)
        except (csv.Error, UnicodeDecodeError) as exc:
            line = reader.line_num
            raise InvalidRequest(
                f"{path}: line {line}: not readable as CSV ({exc}); the batch stops here, "
                "orders before it are kept",
                message_zh=f"{path}：第 {line} 行：无法按 CSV 读取（{exc}）；批量在此停止，"
                "此前的订单不受影响",
                field=f"line {line}",
            ) from None


def _csv_groups(reader: Any, path: Path, parse: bool) -> Iterator[FileItem]:
    """The rows of ``reader`` after the header, grouped into orders."""
    header = _csv_header(reader, path)
    group: list[tuple[int, dict[str, str]]] = []
    ordinal = 0
    start = reader.line_num + 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: value.strip() for name, value in zip(header, row, strict=False)}
        if group and cells.get("order_id", "") != group[0][1].get("order_id", ""):
            yield _group_item(ordinal, group, parse)
            ordinal += 1
            group = []
        group.append((line, cells))
    if group:
        yield _group_item(ordinal, group, parse)


def _group_item(ordinal: int, group: list[tuple[int, dict[str, str]]], parse: bool) -> FileItem:
    lines = tuple(line for line, _ in group)
    if not parse:
        return FileItem(ordinal, lines[0], {}, lines)
    return FileItem(ordinal, lines[0], _csv_invoice(group), lines)


def _cell(name: str, value: str) -> Any:
    if name in _BOOLEAN_COLUMNS:
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


def _csv_invoice(group: list[tuple[int, dict[str, str]]]) -> dict[str, Any]:
    """The canonical invoice object of one order's rows (conflicts noted for the parser)."""
    first = group[0][1]
    data: dict[str, Any] = {}
    conflicts: list[ValidationIssue] = []
    for name in CSV_INVOICE_COLUMNS:
        if first.get(name):
            data[name] = _cell(name, first[name])
    for party in ("seller", "buyer"):
        values = {
            f: _cell(f"{party}_{f}", first[f"{party}_{f}"])
            for f in CSV_PARTY_FIELDS
            if first.get(f"{party}_{f}")
        }
        if values:
            data[party] = values
    for line, cells in group[1:]:
        for name in CSV_INVOICE_COLUMNS + CSV_PARTY_COLUMNS:
            value = cells.get(name, "")
            if value and value != first.get(name, ""):
                conflicts.append(
                    ValidationIssue(
                        code="INVALID_FIELD",
                        path=f"line {line}: {name}",
                        message_zh=f"同一订单的各行 {name} 须一致（首行为 {first.get(name, '') or '空'}）",
                        message_en=f"rows of one order must agree on {name} (the first row has "
                        f"{first.get(name, '') or 'nothing'})",
                    )
                )
    data["lines"] = [
        {
            f: _cell(f"line_{f}", cells[f"line_{f}"])
            for f in CSV_LINE_FIELDS
            if cells.get(f"line_{f}")
        }
        for _, cells in group
    ]
    if conflicts:
        data["__conflicts__"] = conflicts
    return data


def relocate(issues: tuple[ValidationIssue, ...], item: FileItem) -> tuple[ValidationIssue, ...]:
    """Prefix each issue's path with the line it comes from (a CSV line → its own row)."""
    out = []
    for found in issues:
        path = found.path
        if path.startswith("line "):
            out.append(found)
            continue
        line = item.line
        if item.row_lines and path.startswith("lines["):
            index = path[len("lines[") :].split("]", 1)[0]
            if index.isdigit() and int(index) < len(item.row_lines):
                line = item.row_lines[int(index)]
        out.append(
            ValidationIssue(
                code=found.code,
                path=f"line {line}: {path}" if path else f"line {line}",
                message_zh=found.message_zh,
                message_en=found.message_en,
                expected=found.expected,
                warning=found.warning,
            )
        )
    return tuple(out)


def parse_item(item: FileItem) -> Invoice:
    from fapiao.rules import parse_invoice

    if isinstance(item.data, bytes):
        try:
            return parse_invoice(item.data)
        except InvalidInvoice as exc:
            raise InvalidInvoice(relocate(exc.issues, item)) from None
    data = dict(item.data)
    conflicts: list[ValidationIssue] = data.pop("__conflicts__", [])
    try:
        invoice = parse_invoice(data)
    except InvalidInvoice as exc:
        raise InvalidInvoice((*conflicts, *relocate(exc.issues, item))) from None
    if conflicts:
        raise InvalidInvoice(conflicts)
    return invoice


def detect_format(path: Path, fmt: Format | None) -> Format:
    if fmt is not None:
        return fmt
    return "csv" if path.suffix.lower() == ".csv" else "jsonl"


def write_csv(invoices: list[Invoice], handle: io.TextIOBase | Any) -> None:
    """Write invoices in the batch CSV layout (used by examples and tests)."""
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS)
    for invoice in invoices:
        data = invoice.model_dump(mode="json", exclude_none=True)
        for line in data["lines"]:
            row: list[str] = []
            for column in CSV_COLUMNS:
                if column.startswith("line_"):
                    value = line.get(column[len("line_") :], "")
                elif column.startswith(("seller_", "buyer_")):
                    party, _, name = column.partition("_")
                    value = data.get(party, {}).get(name, "")
                else:
                    value = data.get(column, "")
                row.append(str(value).lower() if isinstance(value, bool) else str(value))
            writer.writerow(row)

"""The national 商品和服务税收分类编码表 (tax classification codes), shipped as package data.

Every 数电 line must carry a 19-digit leaf code from this table, and its printed item name is
``*简称*名称``; looking the code up locally catches a wrong code before the provider does and
gives the short name without a network call. The table is read once, lazily, from
``fapiao/data/tax_codes.csv.gz`` whose ``#`` header lines record its source and version.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from fapiao.models import InvoiceLine

__all__ = [
    "TAX_CODE_RE",
    "TaxCodeEntry",
    "TaxCodeTable",
    "item_display_name",
    "tax_code_table",
]

TAX_CODE_RE = re.compile(r"\d{19}")
DATA_FILE = "tax_codes.csv.gz"
_PREFIX_RE = re.compile(r"^\*[^*]+\*")


@dataclass(frozen=True)
class TaxCodeEntry:
    """One row of the national table.

    ``rates`` is the set of VAT rates/征收率 the table lists for the code (``None`` when the
    table gives none); ``summary`` marks a 汇总项 (a category that is not itself invoiceable).
    """

    code: str
    name: str
    short_name: str
    rates: frozenset[Decimal] | None = None
    summary: bool = False
    exempt_allowed: bool = False
    not_taxable: bool = False
    note: str = ""

    @property
    def category(self) -> str:
        """First digit: 1 货物, 2 劳务, 3 销售服务, 4 无形资产, 5 不动产, 6 未发生销售行为的不征税项目."""
        return self.code[0]


@dataclass(frozen=True)
class TaxCodeTable:
    """The loaded table: look a code up, and know where the data came from."""

    entries: dict[str, TaxCodeEntry]
    version: str
    source: str

    def lookup(self, code: str) -> TaxCodeEntry | None:
        return self.entries.get(code)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def __iter__(self) -> Iterator[TaxCodeEntry]:
        return iter(self.entries.values())


def _parse_rates(text: str) -> frozenset[Decimal] | None:
    text = text.strip()
    if not text:
        return None
    return frozenset(Decimal(part) for part in text.split("|") if part)


def _read(stream: io.TextIOBase) -> TaxCodeTable:
    meta: dict[str, str] = {}
    body: list[str] = []
    for line in stream:
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            meta[key.strip().lower()] = value.strip()
        else:
            body.append(line)
    entries: dict[str, TaxCodeEntry] = {}
    for row in csv.DictReader(body):
        code = row["code"]
        entries[code] = TaxCodeEntry(
            code=code,
            name=row["name"],
            short_name=row["short_name"],
            rates=_parse_rates(row.get("rates") or ""),
            summary=row.get("summary") == "Y",
            exempt_allowed=row.get("exempt") == "Y",
            not_taxable=row.get("not_taxable") == "Y",
            note=row.get("note") or "",
        )
    return TaxCodeTable(
        entries=entries, version=meta.get("version", "unknown"), source=meta.get("source", "")
    )


@lru_cache(maxsize=1)
def tax_code_table() -> TaxCodeTable:
    """The national table, loaded once per process."""
    raw = resources.files("fapiao.data").joinpath(DATA_FILE).read_bytes()
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="utf-8") as text:
        return _read(text)


def item_display_name(line: InvoiceLine) -> str:
    """``*简称*名称`` as printed on the invoice; a name already carrying a prefix keeps it
    only when it is the right one, so a caller that pre-formats is never double-prefixed."""
    entry = tax_code_table().lookup(line.tax_code)
    if entry is None or not entry.short_name:
        return line.name
    bare = _PREFIX_RE.sub("", line.name, count=1) or line.name
    return f"*{entry.short_name}*{bare}"

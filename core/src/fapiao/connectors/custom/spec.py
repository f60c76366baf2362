"""The mapping file of the ``custom`` connector (TOML): where documents come from, how their
fields become a canonical invoice, and where the outcome goes.

Every value in ``[invoice]``, ``[seller]``, ``[buyer]``, ``[lines]``, ``[red]``, ``[red_lines]``
and ``[writeback.columns]`` is an expression (see ``expressions``) when it is a TOML string, a
constant when it is a boolean or integer, and a constant string when written ``{ const = "…" }``.
TOML floats are refused: ``0.13`` in TOML is a binary float, and money must stay exact — write
``"0.13"`` (an expression whose literal is read as a decimal) instead.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fapiao.connectors.custom.expressions import Expression, ExpressionError
from fapiao.errors import ConfigError

__all__ = ["Constant", "FieldRule", "MappingSpec", "SourceSpec", "WritebackSpec", "load_mapping"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Strict):
    kind: Literal["csv", "jsonl", "sql"]
    path: Path | None = Field(default=None, description="csv/jsonl file, relative to the mapping")
    url: str | None = Field(default=None, description="SQLAlchemy URL (sql)")
    query: str | None = Field(default=None, description="a SELECT (sql); or give table")
    table: str | None = None
    id: str = Field(description="column/field holding the document id (the idempotency key)")
    changed_at: str | None = Field(default=None, description="column giving the resume order")
    line_order: str | None = Field(default=None, description="orders a document's line rows")
    lines: str | None = Field(
        default=None, description="jsonl: field holding the list of lines (else one row per line)"
    )
    pending: str | None = Field(default=None, description="expression: the document still needs an invoice")
    red: str | None = Field(default=None, description="expression: the document is a red reversal")
    encoding: str = "utf-8"
    delimiter: str = ","

    @model_validator(mode="after")
    def _complete(self) -> SourceSpec:
        if self.kind in ("csv", "jsonl") and self.path is None:
            raise ValueError(f"source.path is required for kind {self.kind!r}")
        if self.kind == "sql":
            if not self.url:
                raise ValueError("source.url (a SQLAlchemy URL) is required for kind 'sql'")
            if bool(self.query) == bool(self.table):
                raise ValueError("give exactly one of source.query and source.table for kind 'sql'")
        return self


class WritebackSpec(_Strict):
    kind: Literal["table", "jsonl", "csv"]
    url: str | None = Field(default=None, description="table: SQLAlchemy URL (default: source.url)")
    table: str | None = None
    key: str | None = Field(default=None, description="table: column matched with the document id")
    path: Path | None = Field(default=None, description="jsonl/csv file, relative to the mapping")
    columns: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> WritebackSpec:
        if self.kind == "table" and not (self.table and self.key):
            raise ValueError("writeback.table and writeback.key are required for kind 'table'")
        if self.kind in ("jsonl", "csv") and self.path is None:
            raise ValueError(f"writeback.path is required for kind {self.kind!r}")
        if not self.columns:
            raise ValueError("writeback.columns must name at least one column")
        return self


@dataclass(frozen=True)
class Constant:
    value: Any


FieldRule = Expression | Constant


@dataclass(frozen=True)
class MappingSpec:
    file: Path
    source: SourceSpec
    invoice: dict[str, FieldRule]
    seller: dict[str, FieldRule]
    buyer: dict[str, FieldRule]
    lines: dict[str, FieldRule]
    red: dict[str, FieldRule]
    red_lines: dict[str, FieldRule]
    writeback: WritebackSpec | None
    writeback_columns: dict[str, FieldRule]
    pending: Expression | None
    is_red: Expression | None

    def resolve(self, path: Path | None) -> Path | None:
        if path is None:
            return None
        return path if path.is_absolute() else (self.file.parent / path)

    def resolve_url(self, url: str) -> str:
        """A relative SQLite path is relative to the mapping file, not to the working dir."""
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str((self.file.parent / url[len(prefix) :]).resolve())
        return url


_SECTIONS = ("invoice", "seller", "buyer", "lines", "red", "red_lines")
_KNOWN = {*_SECTIONS, "source", "writeback"}


def _rule(file: Path, key: str, value: Any) -> FieldRule:
    def problem(en: str, zh: str) -> ConfigError:
        return ConfigError(f"{file}: {key}: {en}", message_zh=f"{file}：{key}：{zh}", field=key)

    if isinstance(value, str):
        try:
            return Expression.parse(value)
        except ExpressionError as exc:
            raise problem(str(exc), f"表达式无效：{exc}") from None
    if isinstance(value, bool | int):
        return Constant(value)
    if isinstance(value, float):
        raise problem(
            f"TOML float {value!r} is not exact; write it as a string expression, e.g. \"{value}\"",
            f"TOML 浮点数 {value!r} 不精确，请写成字符串表达式，如 \"{value}\"",
        )
    if isinstance(value, dict) and set(value) == {"const"}:
        return Constant(value["const"])
    raise problem(
        "expected an expression string, a boolean/integer, or { const = … }",
        "应为表达式字符串、布尔/整数，或 { const = … }",
    )


def load_mapping(path: str | Path) -> MappingSpec:
    """Read and check a mapping file; every problem names the file and the key."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(
            f"cannot read mapping file {file}: {exc.strerror}",
            message_zh=f"无法读取映射文件 {file}：{exc.strerror}",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file}: invalid TOML: {exc}", message_zh=f"{file}：TOML 格式错误：{exc}"
        ) from None
    unknown = set(data) - _KNOWN
    if unknown:
        names = ", ".join(sorted(unknown))
        raise ConfigError(
            f"{file}: unknown section(s) {names}; known: {', '.join(sorted(_KNOWN))}",
            message_zh=f"{file}：未知的节 {names}",
        )
    try:
        source = SourceSpec.model_validate(data.get("source") or {})
        writeback = (
            WritebackSpec.model_validate(data["writeback"]) if "writeback" in data else None
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(section)"
        section = "writeback" if exc.title == "WritebackSpec" else "source"
        raise ConfigError(
            f"{file}: {section}.{where}: {first['msg']}",
            message_zh=f"{file}：{section}.{where}：{first['msg']}",
            field=f"{section}.{where}",
        ) from None
    sections: dict[str, dict[str, FieldRule]] = {}
    for name in _SECTIONS:
        table = data.get(name) or {}
        if not isinstance(table, dict):
            raise ConfigError(f"{file}: [{name}] must be a table", message_zh=f"{file}：[{name}] 须为表")
        sections[name] = {k: _rule(file, f"{name}.{k}", v) for k, v in table.items()}
    for required in ("order_id",):
        if required not in sections["invoice"]:
            raise ConfigError(
                f"{file}: invoice.{required} is required",
                message_zh=f"{file}：缺少 invoice.{required}",
                field=f"invoice.{required}",
            )
    columns = (
        {k: _rule(file, f"writeback.columns.{k}", v) for k, v in writeback.columns.items()}
        if writeback
        else {}
    )

    def optional(expr: str | None, key: str) -> Expression | None:
        if expr is None:
            return None
        rule = _rule(file, key, expr)
        assert isinstance(rule, Expression)
        return rule

    return MappingSpec(
        file=file,
        source=source,
        writeback=writeback,
        writeback_columns=columns,
        pending=optional(source.pending, "source.pending"),
        is_red=optional(source.red, "source.red"),
        **sections,
    )

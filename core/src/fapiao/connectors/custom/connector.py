"""The ``custom`` connector: self-built systems described by one TOML mapping file.

The source, the field mapping and the write-back target all live in the mapping file (see
``spec``), so integrating a new shop or finance system is a file, not a plugin. Field values
go through :func:`fapiao.rules.parse_invoice`, so a value of the wrong shape is reported like
any other invalid invoice — with the document id, the canonical field and the mapping
expression that produced it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, ValidationError

from fapiao.connectors.custom.expressions import Expression, ExpressionError, MissingField
from fapiao.connectors.custom.sources import (
    RawDocument,
    SqlSource,
    is_pending,
    read_file_documents,
)
from fapiao.connectors.custom.spec import Constant, FieldRule, MappingSpec, load_mapping
from fapiao.connectors.custom.writeback import FileWriter, TableWriter
from fapiao.contract import ConnectorSettings, MappedDocument, SourceDocument, WriteBack
from fapiao.errors import ConfigError, InvalidInvoice, ValidationIssue
from fapiao.models import RedReversalRequest
from fapiao.rules import issues_from_validation_error, parse_invoice
from fapiao.transport import HttpClientFactory

__all__ = ["CustomConnector", "CustomSettings"]


class CustomSettings(ConnectorSettings):
    """Only the mapping file: it says where documents are and where outcomes go."""

    mapping: Path = Field(description="TOML mapping file (source, fields, write-back)")


class _Problems:
    def __init__(self, doc_id: Any) -> None:
        self.prefix = f"document {doc_id}"
        self.items: list[ValidationIssue] = []

    def add(self, code: str, path: str, zh: str, en: str) -> None:
        self.items.append(
            ValidationIssue(code=code, path=f"{self.prefix} / {path}", message_zh=zh, message_en=en)
        )


class CustomConnector:
    name: ClassVar[str] = "custom"
    settings_model: ClassVar[type[ConnectorSettings]] = CustomSettings

    def __init__(self, settings: CustomSettings, *, http: HttpClientFactory | None = None) -> None:
        self.settings = settings
        self.spec: MappingSpec = load_mapping(settings.mapping)
        self._sql = SqlSource(self.spec) if self.spec.source.kind == "sql" else None
        self._writer: TableWriter | FileWriter | None = None
        if self.spec.writeback is not None:
            table = self.spec.writeback.kind == "table"
            self._writer = TableWriter(self.spec) if table else FileWriter(self.spec)

    # -- pending -------------------------------------------------------------------------
    async def pending(self, cursor: str | None) -> AsyncIterator[SourceDocument]:
        if self._sql is None:
            for raw in await asyncio.to_thread(read_file_documents, self.spec, cursor):
                yield self._source_document(raw)
            return
        position = cursor
        while True:
            page = await asyncio.to_thread(self._sql.page, position, self.settings.page_size)
            if not page:
                return
            for raw in page:
                if is_pending(self.spec, raw):
                    yield self._source_document(raw)
            position = page[-1].cursor
            if len(page) < self.settings.page_size:
                return

    def _source_document(self, raw: RawDocument) -> SourceDocument:
        red = False
        if self.spec.is_red is not None:
            try:
                red = bool(self.spec.is_red.evaluate([raw.document]))
            except ExpressionError as exc:
                raise ConfigError(
                    f"{self.spec.file}: source.red failed on document {raw.id}: {exc}",
                    message_zh=f"{self.spec.file}：source.red 对单据 {raw.id} 求值失败：{exc}",
                ) from None
        return SourceDocument(
            id=str(raw.id),
            kind="red" if red else "invoice",
            cursor=raw.cursor,
            payload={"document": raw.document, "lines": raw.lines},
        )

    # -- map -----------------------------------------------------------------------------
    def map(self, document: SourceDocument) -> MappedDocument:
        header: dict[str, Any] = dict(document.payload.get("document") or {})
        lines: list[dict[str, Any]] = list(document.payload.get("lines") or [])
        problems = _Problems(document.id)
        scope = [header]
        if document.kind == "red":
            return MappedDocument(source_id=document.id, red=self._red(document, header, lines, problems))
        data = self._section("invoice", self.spec.invoice, scope, problems)
        data["seller"] = self._section("seller", self.spec.seller, scope, problems)
        data["buyer"] = self._section("buyer", self.spec.buyer, scope, problems)
        data["lines"] = [
            self._section(f"lines[{i}]", self.spec.lines, [line, header], problems)
            for i, line in enumerate(lines)
        ]
        if problems.items:
            raise InvalidInvoice(problems.items)
        _texts(data, _INVOICE_TEXT)
        _texts(data["seller"], _PARTY_TEXT)
        _texts(data["buyer"], _PARTY_TEXT)
        for line in data["lines"]:
            _texts(line, _LINE_TEXT)
        try:
            invoice = parse_invoice(_clean(data), path_prefix=problems.prefix)
        except InvalidInvoice as exc:
            raise InvalidInvoice([self._explain(i) for i in exc.issues]) from None
        return MappedDocument(source_id=document.id, invoice=invoice)

    def _section(
        self,
        where: str,
        rules: Mapping[str, FieldRule],
        scope: Sequence[Mapping[str, Any]],
        problems: _Problems,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, rule in rules.items():
            if isinstance(rule, Constant):
                result[key] = rule.value
                continue
            try:
                result[key] = rule.evaluate(scope)
            except MissingField as exc:
                problems.add(
                    "MISSING_FIELD",
                    f"{where}.{key}",
                    f"源数据缺少字段 {exc.path}（映射：{rule.source}）",
                    f"source field {exc.path} is missing (mapping: {rule.source})",
                )
            except ExpressionError as exc:
                problems.add(
                    "INVALID_FIELD",
                    f"{where}.{key}",
                    f"映射表达式求值失败：{exc}",
                    f"mapping expression failed: {exc}",
                )
        return result

    def _explain(self, issue: ValidationIssue) -> ValidationIssue:
        """Name the document, the canonical field and the mapping expression behind it."""
        prefix, _, canonical = issue.path.partition(": ")
        if not canonical:
            prefix, canonical = f"document {issue.path}", ""
        if canonical.startswith("lines["):
            rules, key = self.spec.lines, canonical.split(".", 1)[-1].split(".")[0]
        elif "." in canonical:
            section, key = canonical.split(".")[:2]
            rules = {"seller": self.spec.seller, "buyer": self.spec.buyer}.get(section, {})
        else:
            rules, key = self.spec.invoice, canonical
        rule = rules.get(key)
        suffix = f" ← {rule.source}" if isinstance(rule, Expression) else ""
        return ValidationIssue(
            code=issue.code,
            path=f"{prefix} / {canonical}{suffix}",
            message_zh=issue.message_zh,
            message_en=issue.message_en,
            expected=issue.expected,
            warning=issue.warning,
        )

    def _red(
        self,
        document: SourceDocument,
        header: dict[str, Any],
        lines: list[dict[str, Any]],
        problems: _Problems,
    ) -> RedReversalRequest:
        scope = [header]
        data = self._section("red", self.spec.red, scope, problems)
        data.setdefault("order_id", document.id)
        if "seller_tax_id" not in data and "tax_id" in self.spec.seller:
            tax_rule = {"tax_id": self.spec.seller["tax_id"]}
            data["seller_tax_id"] = self._section("seller", tax_rule, scope, problems).get("tax_id")
        if self.spec.red_lines:
            data["lines"] = [
                self._section(f"red_lines[{i}]", self.spec.red_lines, [line, header], problems)
                for i, line in enumerate(lines)
            ]
        if problems.items:
            raise InvalidInvoice(problems.items)
        _texts(data, _RED_TEXT)
        try:
            return RedReversalRequest.model_validate(_clean(data))
        except ValidationError as exc:
            raise InvalidInvoice(issues_from_validation_error(exc, problems.prefix)) from None

    # -- write-back ----------------------------------------------------------------------
    async def write_back(self, outcome: WriteBack) -> None:
        if self._writer is None:
            return
        await asyncio.to_thread(self._writer.write, outcome)

    async def aclose(self) -> None:
        if self._sql is not None:
            self._sql.dispose()
        if self._writer is not None:
            self._writer.dispose()


# Text fields a database may hold as numbers (integer ids, 19-digit codes, phone numbers).
_INVOICE_TEXT = frozenset({"order_id", "remarks", "issuer", "payee", "reviewer"})
_PARTY_TEXT = frozenset({"name", "tax_id", "address", "phone", "bank", "account", "email", "mobile"})
_LINE_TEXT = frozenset({"name", "tax_code", "spec", "unit", "preferential_policy"})
_RED_TEXT = frozenset({"order_id", "seller_tax_id", "buyer_tax_id", "original_invoice_number", "original_order_id"})


def _texts(data: dict[str, Any], names: frozenset[str]) -> None:
    for name in names & data.keys():
        value = data[name]
        if isinstance(value, int) and not isinstance(value, bool):
            data[name] = str(value)


def _clean(value: Any) -> Any:
    """Empty strings become absent values (CSV cells, SQL ''), so defaults apply."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value

"""ERP sync: pull pending documents → map → validate → issue exactly once → write back → cursor.

The guarantees come from where each step keeps its state:

* exactly once: the ERP document id is the invoice's order id, so the ledger's idempotency
  key (seller tax ID + order id) makes a re-pulled document return its recorded outcome
  instead of a second invoice — a crash anywhere, or a re-run, never issues twice;
* never half-written: only final outcomes (issued, failed, reversed) are written back, each
  write-back is idempotent and retried; a document whose outcome is not final yet, or whose
  write-back kept failing, *holds* the cursor, so the next run pulls it again and finishes it;
* resumable: after each finished document the connector's cursor is stored in the ledger
  (``sync:<connector>``), unless an earlier document holds it; documents after a held one are
  still processed (their re-pull later costs a ledger lookup, not an invoice).

A document that cannot be mapped or fails the 数电 rules is reported with its id and field
paths and skipped (the cursor moves past it: it comes back when the ERP changes it).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import SecretBytes, SecretStr, ValidationError

from fapiao.contract import Connector, ConnectorSettings, MappedDocument, SourceDocument, WriteBack
from fapiao.errors import (
    ConfigError,
    FapiaoError,
    InvalidInvoice,
    OutcomeUnknown,
    ValidationIssue,
)
from fapiao.models import InvoiceState, InvoiceStatus
from fapiao.rules import ensure_valid

from .client import AsyncClient
from .config import ENV_PREFIX, SECRET_PREFIX, FapiaoConfig, open_secret_store

__all__ = ["SyncItem", "SyncReport", "build_connector", "cursor_name", "run_sync"]

_FINAL = {
    InvoiceState.ISSUED,
    InvoiceState.FAILED,
    InvoiceState.REVERSED,
    InvoiceState.PARTIALLY_REVERSED,
    InvoiceState.CANCELLED,
}


def cursor_name(connector: str) -> str:
    return f"sync:{connector}"


@dataclass
class SyncItem:
    """What happened to one ERP document."""

    source_id: str
    kind: str
    outcome: str  # issued | failed | skipped | pending | would_issue | writeback_failed
    order_id: str | None = None
    seller_tax_id: str | None = None
    state: str | None = None
    invoice_number: str | None = None
    total_with_tax: str | None = None
    error: dict[str, Any] | None = None
    issues: list[dict[str, Any]] = field(default_factory=list)
    written_back: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class SyncReport:
    connector: str
    dry_run: bool
    cursor_before: str | None
    cursor_after: str | None = None
    items: list[SyncItem] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for item in self.items:
            result[item.outcome] = result.get(item.outcome, 0) + 1
        return result

    @property
    def ok(self) -> bool:
        return not any(i.outcome in {"pending", "writeback_failed"} for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "dry_run": self.dry_run,
            "cursor_before": self.cursor_before,
            "cursor_after": self.cursor_after,
            "counts": self.counts(),
            "seconds": round(self.seconds, 3),
            "items": [i.to_dict() for i in self.items],
        }


# -- building the connector from the config ----------------------------------------------------
def _mentions(tp: Any, *targets: type) -> bool:
    return tp in targets or any(_mentions(arg, *targets) for arg in get_args(tp))


def build_connector(config: FapiaoConfig, name: str, registry: Any = None) -> Connector:
    """Instantiate connector ``name`` from ``[connectors.<name>]`` (secrets by reference,
    relative paths from the config file's directory)."""
    if registry is None:
        from fapiao.plugins import discover

        registry = discover()
    plugin = registry.connector_class(name)
    model: type[ConnectorSettings] = getattr(plugin, "settings_model", ConnectorSettings)
    raw = config.connectors.get(name)
    label = config.file_label
    if raw is None:
        raise ConfigError(
            f"{label}: no [connectors.{name}] section with the connector's settings",
            message_zh=f"{label}：缺少 [connectors.{name}] 连接器配置",
            field=f"connectors.{name}",
        )
    values: dict[str, Any] = {}
    for key, value in raw.items():
        info = model.model_fields.get(key)
        annotation = info.annotation if info is not None else None
        where = f"connectors.{name}.{key}"
        if isinstance(value, str) and value.startswith(SECRET_PREFIX):
            value = open_secret_store(config).get(value[len(SECRET_PREFIX) :])
        elif isinstance(value, str) and value.startswith(ENV_PREFIX):
            var = value[len(ENV_PREFIX) :]
            if not os.environ.get(var):
                raise ConfigError(
                    f"{label}: {where}: environment variable {var} is not set",
                    message_zh=f"{label}：{where}：环境变量 {var} 未设置",
                    field=where,
                )
            value = os.environ[var]
        elif annotation is not None and _mentions(annotation, SecretStr, SecretBytes):
            raise ConfigError(
                f"{label}: {where}: a secret must not be written in clear: use secret:NAME or env:VAR",
                message_zh=f"{label}：{where}：密钥不得明文写在配置中，请用 secret:名称 或 env:变量名",
                field=where,
            )
        elif annotation is not None and isinstance(value, str) and _mentions(annotation, Path):
            value = str(config.relative(value))
        values[key] = value
    try:
        settings = model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = f"connectors.{name}." + ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{label}: {where}: {first['msg']}",
            message_zh=f"{label}：{where}：{first['msg']}",
            field=where,
        ) from None
    connector: Connector = plugin(settings)
    return connector


# -- the loop ------------------------------------------------------------------------------
ProgressCallback = Callable[[SyncItem], None]


def _issue_dicts(
    issues: tuple[ValidationIssue, ...] | list[ValidationIssue],
) -> list[dict[str, Any]]:
    return [i.to_dict() for i in issues]


def _prefixed(
    document: SourceDocument, issues: tuple[ValidationIssue, ...]
) -> list[ValidationIssue]:
    """Rule issues carry canonical paths; name the ERP document in front of them."""
    result = []
    for issue in issues:
        path = issue.path if document.id in issue.path else f"{document.id} / {issue.path}"
        result.append(
            ValidationIssue(
                code=issue.code,
                path=path,
                message_zh=issue.message_zh,
                message_en=issue.message_en,
                expected=issue.expected,
                warning=issue.warning,
            )
        )
    return result


async def run_sync(
    client: AsyncClient,
    connector: Connector,
    *,
    name: str,
    since: str | None = None,
    dry_run: bool = False,
    limit: int | None = None,
    settle_seconds: float = 30.0,
    poll_interval: float = 0.5,
    writeback_attempts: int = 3,
    writeback_backoff: float = 0.2,
    progress: ProgressCallback | None = None,
) -> SyncReport:
    """One sync pass over the connector's pending documents (see the module docstring)."""
    started = time.perf_counter()
    stored = await client.ledger.get_cursor(cursor_name(name))
    cursor = since if since is not None else stored
    report = SyncReport(connector=name, dry_run=dry_run, cursor_before=cursor, cursor_after=cursor)
    held = False
    seen = 0
    async for document in connector.pending(cursor):
        if limit is not None and seen >= limit:
            break
        seen += 1
        item = await _one(
            client,
            connector,
            document,
            dry_run=dry_run,
            settle_seconds=settle_seconds,
            poll_interval=poll_interval,
            writeback_attempts=writeback_attempts,
            writeback_backoff=writeback_backoff,
        )
        report.items.append(item)
        if progress is not None:
            progress(item)
        if item.outcome in {"pending", "writeback_failed"}:
            held = True
        if not held and not dry_run and document.cursor is not None:
            await client.ledger.set_cursor(cursor_name(name), document.cursor)
            report.cursor_after = document.cursor
    report.seconds = time.perf_counter() - started
    return report


async def _one(
    client: AsyncClient,
    connector: Connector,
    document: SourceDocument,
    *,
    dry_run: bool,
    settle_seconds: float,
    poll_interval: float,
    writeback_attempts: int,
    writeback_backoff: float,
) -> SyncItem:
    item = SyncItem(source_id=document.id, kind=document.kind, outcome="skipped")
    try:
        mapped: MappedDocument = connector.map(document)
    except InvalidInvoice as exc:
        item.issues = _issue_dicts(_prefixed(document, exc.issues))
        item.error = exc.to_info().model_dump(mode="json")
        return item
    if mapped.invoice is not None:
        invoice = mapped.invoice
        item.order_id, item.seller_tax_id = invoice.order_id, invoice.seller.tax_id
        try:
            totals = ensure_valid(invoice)
        except InvalidInvoice as exc:
            item.issues = _issue_dicts(_prefixed(document, exc.issues))
            item.error = exc.to_info().model_dump(mode="json")
            return item
        item.total_with_tax = format(totals.total_with_tax, "f")
        if dry_run:
            item.outcome = "would_issue"
            return item
        try:
            status = await client.issue(invoice)
            status = await _settle(client, status, settle_seconds, poll_interval)
        except FapiaoError as exc:
            return await _refused(
                connector, item, document, exc, writeback_attempts, writeback_backoff
            )
        return await _finish(
            connector, item, document, status, writeback_attempts, writeback_backoff
        )
    assert mapped.red is not None
    red = mapped.red
    item.order_id, item.seller_tax_id = red.order_id, red.seller_tax_id
    if dry_run:
        item.outcome = "would_issue"
        return item
    try:
        result = await client.red_reverse(
            red, wait_seconds=settle_seconds, poll_interval=poll_interval
        )
        status = await _settle(client, result.red, settle_seconds, poll_interval)
    except InvalidInvoice as exc:
        item.issues = _issue_dicts(_prefixed(document, exc.issues))
        item.error = exc.to_info().model_dump(mode="json")
        return item
    except FapiaoError as exc:
        return await _refused(connector, item, document, exc, writeback_attempts, writeback_backoff)
    return await _finish(connector, item, document, status, writeback_attempts, writeback_backoff)


async def _refused(
    connector: Connector,
    item: SyncItem,
    document: SourceDocument,
    exc: FapiaoError,
    attempts: int,
    backoff: float,
) -> SyncItem:
    """A request that raised: unknown or transient → pending (the next run settles it, never
    resends); a refusal → ``failed``, written back so the ERP user sees why."""
    item.error = exc.to_info().model_dump(mode="json")
    if isinstance(exc, OutcomeUnknown) or exc.retryable:
        item.outcome = "pending"
        return item
    item.state = InvoiceState.FAILED.value
    outcome = WriteBack(
        source_id=document.id,
        order_id=item.order_id or document.id,
        state=InvoiceState.FAILED,
        error_code=exc.code,
        error_message=exc.message_zh,
    )
    return await _write(connector, item, outcome, "failed", attempts, backoff)


async def _settle(
    client: AsyncClient, status: InvoiceStatus, settle_seconds: float, poll_interval: float
) -> InvoiceStatus:
    """Wait (by querying) for an asynchronous vendor's final answer, up to ``settle_seconds``."""
    deadline = time.monotonic() + settle_seconds
    while status.state not in _FINAL and time.monotonic() < deadline:
        await asyncio.sleep(poll_interval)
        status = await client.query(status.seller_tax_id, status.order_id)
    return status


async def _finish(
    connector: Connector,
    item: SyncItem,
    document: SourceDocument,
    status: InvoiceStatus,
    attempts: int,
    backoff: float,
) -> SyncItem:
    item.state = status.state.value
    item.invoice_number = status.invoice_number
    if status.state not in _FINAL:
        item.outcome = "pending"  # not final yet: the next run settles and writes it back
        return item
    urls = {d.format.value: d.url for d in status.documents if d.url}
    outcome = WriteBack(
        source_id=document.id,
        order_id=status.order_id,
        state=status.state,
        invoice_number=status.invoice_number,
        issued_at=status.issued_at,
        document_urls=urls,
        error_code=status.error.code if status.error else None,
        error_message=status.error.message_zh if status.error else None,
    )
    label = "failed" if status.state is InvoiceState.FAILED else "issued"
    if status.error is not None:
        item.error = status.error.model_dump(mode="json")
    return await _write(connector, item, outcome, label, attempts, backoff)


async def _write(
    connector: Connector,
    item: SyncItem,
    outcome: WriteBack,
    label: str,
    attempts: int,
    backoff: float,
) -> SyncItem:
    last: Exception | None = None
    for attempt in range(max(1, attempts)):
        if attempt:
            await asyncio.sleep(backoff * 2 ** (attempt - 1))
        try:
            await connector.write_back(outcome)
        except (FapiaoError, OSError) as exc:
            last = exc
            continue
        item.outcome, item.written_back = label, True
        return item
    item.outcome = "writeback_failed"
    if isinstance(last, FapiaoError):
        item.error = last.to_info().model_dump(mode="json")
    else:
        item.error = {
            "code": "WRITEBACK_FAILED",
            "message_en": repr(last),
            "message_zh": "回写失败",
        }
    return item

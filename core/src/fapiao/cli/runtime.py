"""What the engine's CLI commands share: running a command, logging, progress, a status.

Why here and not in each command: every command must fail the same way — a bilingual
message, the config file and key when the config is wrong, no traceback, a stable exit
status — and every log line of a long run (``serve``, ``batch``, ``demo``) must pass
through one scrubbing filter, whatever library wrote it.

Exit statuses: 0 done, 1 refused or failed (the error says why), 2 bad usage or input,
130 interrupted.

Only the standard library, typer and pydantic at the top: a command imports this module at
its own top, and rich (progress bars, tables) is imported by the functions that draw.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from fapiao.errors import FapiaoError, InvalidRequest
from fapiao.masking import Scrubber, mask_text

if TYPE_CHECKING:
    from fapiao.engine.batch import BatchProgress
    from fapiao.engine.client import AsyncClient
    from fapiao.models import InvoiceStatus

__all__ = [
    "ScrubbingFilter",
    "attempt",
    "batch_progress",
    "engine_client",
    "print_status",
    "report_error",
    "run",
    "setup_logging",
]

T = TypeVar("T")


def report_error(error: FapiaoError, *, as_json: bool = False) -> NoReturn:
    """Fail with the canonical error; a config error lists every problem with file and key."""
    from rich.markup import escape

    from fapiao.cli.output import emit_json, err_console, fail

    problems = getattr(error, "problems", None)
    if as_json:
        body: dict[str, Any] = {"error": error.to_info().model_dump(mode="json")}
        if problems:
            body["error"]["problems"] = [p.to_dict() for p in problems]
        issues = getattr(error, "issues", None)
        if issues:
            body["error"]["issues"] = [i.to_dict() for i in issues]
        emit_json(body)
        raise typer.Exit(1)
    if problems:
        err_console.print("[bold red]错误 / error:[/] 配置有误 / the configuration is invalid")
        for problem in problems:
            style = "yellow" if problem.warning else "red"
            err_console.print(
                f"  [{style}]{escape(str(problem))}[/]",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(1)
    issues = getattr(error, "issues", None)
    if issues:
        err_console.print(
            f"[bold red]错误 / error:[/] {error.code}", highlight=False, soft_wrap=True
        )
        for found in issues:
            err_console.print(f"  {found}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    fail(error, as_json=False)


def invalid_input(exc: ValidationError) -> InvalidRequest:
    """A model built from command-line input failed: every problem, with its field."""
    from fapiao.rules import issues_from_validation_error

    issues = issues_from_validation_error(exc)
    first = issues[0]
    error = InvalidRequest(first.message_en, message_zh=first.message_zh, field=first.path)
    error.issues = tuple(issues)  # type: ignore[attr-defined]
    return error


def run(main: Callable[[], Coroutine[Any, Any, T]], *, as_json: bool = False) -> T:
    """Run an async command body: canonical errors reported, no traceback (unless
    ``FAPIAO_DEBUG=1``), Ctrl-C exits 130."""
    return attempt(lambda: asyncio.run(main()), as_json=as_json)


def attempt(step: Callable[[], T], *, as_json: bool = False) -> T:
    """Run a synchronous step of a command with the same error reporting as :func:`run`."""
    from fapiao.cli.output import fail

    try:
        return step()
    except FapiaoError as exc:
        report_error(exc, as_json=as_json)
    except ValidationError as exc:
        report_error(invalid_input(exc), as_json=as_json)
    except KeyboardInterrupt:
        fail("已中断 / interrupted", as_json=as_json, code=130)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get("FAPIAO_DEBUG"):
            raise
        detail = mask_text(f"{type(exc).__name__}: {exc}")[:300]
        fail(
            f"内部错误 / internal error: {detail} (FAPIAO_DEBUG=1 shows the traceback)",
            as_json=as_json,
        )


@asynccontextmanager
async def engine_client(config: Path | None) -> AsyncIterator[AsyncClient]:
    """The engine client of ``config``; a bad config, a missing secret or an unknown provider
    stops here, before anything is sent, with the file and key named."""
    from fapiao.engine.client import AsyncClient

    if _handler is None:  # every log line of an engine command goes through the filter
        setup_logging("warning")
    client = AsyncClient.from_config(config)
    _filter.also(client.providers.scrubber)
    try:
        yield client
    finally:
        await client.aclose()


# -- logging ------------------------------------------------------------------------------------


class ScrubbingFilter(logging.Filter):
    """Scrub every record at the handler: known secrets, secret-looking values, tax IDs and
    phone numbers — so a library that logs a URL or a body cannot leak one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.scrubber = Scrubber(secrets)
        self._more: list[Scrubber] = []

    def also(self, scrubber: Scrubber) -> None:
        """Apply ``scrubber`` too (e.g. the engine's, which knows every configured secret)."""
        if scrubber not in self._more:
            self._more.append(scrubber)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if record.exc_info:
            formatter = logging.Formatter()
            message += "\n" + formatter.formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        for scrubber in self._more:
            message = scrubber.scrub(message)
        record.msg, record.args = self.scrubber.scrub(message), None
        return True


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (test runners swap it per command)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_filter = ScrubbingFilter()
_CHATTY = ("alembic", "httpx", "httpcore", "stevedore")
_handler: logging.Handler | None = None


def setup_logging(
    level: str = "warning", file: Path | None = None, *, secrets: Iterable[str] = ()
) -> ScrubbingFilter:
    """Send the process's logs (every library's) through the scrubbing filter, to ``file``
    or stderr. Returns the filter: add secrets learnt later with ``.scrubber.add``."""
    global _handler
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        from fapiao.cli.output import fail

        fail(f"未知日志级别 / unknown log level {level!r} (debug, info, warning, error)", code=2)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_filter)
    _filter.scrubber.add(secrets)
    root.addHandler(handler)
    root.setLevel(numeric)
    for chatty in _CHATTY:  # per-request and start-up chatter, unless debugging
        logging.getLogger(chatty).setLevel(
            logging.NOTSET if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
        )
    _handler = handler
    return _filter


# -- progress -----------------------------------------------------------------------------------


@contextmanager
def batch_progress(
    label: str, *, enabled: bool = True
) -> Iterator[Callable[[BatchProgress], None]]:
    """A rich progress bar (on stderr) fed by the batch's progress callback: done/total,
    rate, ETA, and the running counts."""
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from fapiao.cli.output import err_console

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[count]}"),
        TextColumn("[cyan]{task.fields[rate]}"),
        TextColumn("ETA {task.fields[eta]}"),
        TimeElapsedColumn(),
        TextColumn(
            "[green]✓{task.fields[issued]}[/] [yellow]…{task.fields[pending]}[/] "
            "[red]✗{task.fields[failed]}[/] [magenta]!{task.fields[invalid]}[/]"
        ),
        console=err_console,
        disable=not enabled,
        transient=False,
    )
    task = progress.add_task(
        label, total=None, count="", rate="-", eta="-", issued=0, pending=0, failed=0, invalid=0
    )

    def update(p: BatchProgress) -> None:
        eta = p.eta_seconds
        progress.update(
            task,
            total=p.total,
            completed=p.done,
            count=f"{p.done:,}/{p.total:,}",
            rate=f"{p.rate:,.0f}/s",
            eta=_clock(eta) if eta is not None else "-",
            issued=p.issued,
            pending=p.pending,
            failed=p.failed,
            invalid=p.invalid,
        )

    with progress:
        yield update


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# -- human output -------------------------------------------------------------------------------


def print_status(status: InvoiceStatus, *, title: str | None = None) -> None:
    """One invoice request's status as a two-column table (tax ID masked: screens are read
    over shoulders and pasted into tickets)."""
    from rich.table import Table

    from fapiao.cli.output import console
    from fapiao.masking import mask_tax_id

    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows: list[tuple[str, Any]] = [
        ("provider / 服务商", status.provider),
        ("seller / 销方", mask_tax_id(status.seller_tax_id)),
        ("order / 订单号", status.order_id),
        ("state / 状态", status.state.value),
        ("invoice number / 发票号码", status.invoice_number),
        ("issued at / 开票时间", status.issued_at),
        ("amount / 金额", status.total_amount),
        ("tax / 税额", status.total_tax),
        ("total / 价税合计", status.total_with_tax),
        ("red / 红票", "yes" if status.is_red else None),
        ("original / 原蓝票", status.original_invoice_number),
    ]
    if status.error is not None:
        rows.append(("error / 错误", f"{status.error.code}: {status.error.message_zh}"))
    for name, value in rows:
        if value is not None:
            table.add_row(name, str(value))
    console.print(table)

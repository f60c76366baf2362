"""``fapiao validate FILE``: check canonical invoices (JSON or JSON Lines) before issuing.

Reads one JSON object, a JSON array of objects, or JSON Lines (streamed line by line), and
for each invoice prints its computed totals, 大写金额 and every issue with its field path,
going on to the end of the file whatever it meets. Exit status: 0 all valid (warnings
allowed), 1 some invoice invalid, 2 the file cannot be read. The reading, checking and
rendering are ``fapiao.cli.validation``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from fapiao.cli.validation import InvoiceReport

__all__ = ["validate_command"]


def validate_command(
    file: Annotated[Path, typer.Argument(help="JSON (object or array) or JSON Lines file")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Validate canonical invoices against the 数电 rules (校验发票): totals, 大写 and issues."""
    from fapiao.cli.output import console, emit_json, fail
    from fapiao.cli.validation import UnreadableFile, iter_records, render_report, validate_record

    reports: list[InvoiceReport] = []
    counts = {"invoices": 0, "valid": 0, "invalid": 0, "warnings": 0}
    _load_plugin_hooks()
    try:
        with file.open("rb") as stream:
            for position, line, raw in iter_records(stream):
                report = validate_record(position, line, raw)
                counts["invoices"] += 1
                counts["valid" if report.valid else "invalid"] += 1
                counts["warnings"] += sum(1 for i in report.issues if i.warning)
                if as_json:
                    reports.append(report)
                else:
                    render_report(report)
    except (OSError, UnreadableFile) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        fail(f"无法读取 / cannot read {file}: {reason}", as_json=as_json, code=2)
    if as_json:
        emit_json(
            {
                "file": str(file),
                "summary": counts,
                "invoices": [r.to_dict() for r in reports],
            }
        )
    else:
        style = "green" if not counts["invalid"] else "red"
        console.print(
            f"[{style}]{counts['invoices']} invoice(s): {counts['valid']} valid, "
            f"{counts['invalid']} invalid, {counts['warnings']} warning(s)[/]",
            highlight=False,
        )
    if counts["invalid"]:
        raise typer.Exit(1)


def _load_plugin_hooks() -> None:
    """Register installed plugins' hook implementations, unless some are registered already
    (a test's own; the console script loads no plugin for a built-in command)."""
    from fapiao.cli.output import console

    try:
        from fapiao.plugins import discover, get_plugin_manager

        if not get_plugin_manager().get_plugins():
            discover()
    except Exception as exc:  # validation without plugins is still validation
        console.print(f"[yellow]plugins not loaded: {exc}[/]")

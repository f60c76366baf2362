"""``fapiao selftest``: the go-live readiness checklist of one profile (上线自测).

Exit status: 0 every check passed or was skipped with a reason, 1 some check failed,
2 the profile or sandbox could not be set up.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["selftest_command"]

_MARKS = {"pass": ("✔", "green"), "fail": ("✘", "red"), "skip": ("–", "yellow")}


def selftest_command(
    profile: Annotated[
        str | None, typer.Option("--profile", help="profile of the config to test")
    ] = None,
    sandbox: Annotated[
        str | None,
        typer.Option("--sandbox", help="start this provider's sandbox and test against it"),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="config file (default $FAPIAO_CONFIG)")
    ] = None,
    budget: Annotated[
        float, typer.Option("--budget", min=1, help="time budget for the whole run, seconds")
    ] = 300.0,
    seller: Annotated[
        str | None, typer.Option("--seller", help="seller tax ID (default: first routed)")
    ] = None,
    seller_name: Annotated[str | None, typer.Option("--seller-name")] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="address for e-mail delivery")
    ] = None,
    mobile: Annotated[str | None, typer.Option("--mobile", help="number for SMS delivery")] = None,
    callback_listen: Annotated[
        str | None,
        typer.Option("--callback-listen", help="HOST:PORT to receive the provider's callbacks"),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="sandbox fault switch KEY=VALUE (e.g. error_5xx_rate=1)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Run every declared capability against one environment and print the evidence
    (上线前全功能自测：开票、查询、版式文件、交付、红冲、回调、错误场景)."""
    from fapiao.cli.output import emit_json, fail
    from fapiao.contract.sandbox import SandboxOptions
    from fapiao.errors import FapiaoError
    from fapiao.tools.selftest import run_selftest
    from fapiao.tools.targets import config_target, parse_fault_options, sandbox_target

    if (profile is None) == (sandbox is None):
        fail(
            "请给出 --profile 或 --sandbox 之一 / give exactly one of --profile or --sandbox",
            as_json=as_json,
            code=2,
        )
    if fault and sandbox is None:
        fail("--fault 只适用于沙箱 / --fault applies to --sandbox only", as_json=as_json, code=2)
    try:
        if sandbox is not None:
            options = SandboxOptions(faults=parse_fault_options(fault or []))
            context = sandbox_target(sandbox, options)
        else:
            context = config_target(
                config,
                profile or "",
                seller_tax_id=seller,
                seller_name=seller_name,
                callback_listen=callback_listen,
            )
        with context as target:
            report = asyncio.run(run_selftest(target, budget=budget, email=email, mobile=mobile))
    except FapiaoError as exc:
        fail(exc, as_json=as_json, code=2)
    if as_json:
        emit_json(report.to_dict())
    else:
        _render(report)
    if not report.passed:
        raise typer.Exit(1)


def _render(report: object) -> None:
    from rich.text import Text

    from fapiao.cli.output import console
    from fapiao.tools.selftest import SelftestReport

    assert isinstance(report, SelftestReport)
    console.print(
        f"[bold]fapiao selftest[/] · profile [bold]{report.profile}[/] · provider "
        f"{report.provider} · {report.source}/{report.environment} · seller {report.seller}",
        highlight=False,
    )
    for check in report.checks:
        mark, style = _MARKS[check.status]
        line = Text.assemble((f"{mark} ", style), check.title, (f"  {check.seconds:.2f} s", "dim"))
        console.print(line)
        if check.status == "pass":
            for key, value in check.evidence.items():
                console.print(Text.assemble(("    " + key + ": ", "dim"), value))
        else:
            console.print(Text("    " + check.detail, style=style))
    for note in report.notes:
        console.print(f"  note: {note}", highlight=False)
    counts = report.counts()
    style = "green" if report.passed else "red"
    verdict = "PASSED / 通过" if report.passed else "FAILED / 未通过"
    console.print(
        f"[{style}]{verdict}[/]: {counts['pass']} passed, {counts['fail']} failed, "
        f"{counts['skip']} skipped in {report.elapsed_seconds:.1f} s "
        f"(budget {report.budget_seconds:.0f} s)",
        highlight=False,
    )

"""``fapiao compare``: run one scenario set through several provider profiles and write a
side-by-side report (HTML + JSON) for procurement (服务商选型对比报告).

Sandboxes by default (every installed provider's, or ``--profiles``); with ``--config`` the
named profiles of that configuration, i.e. their real environments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["compare_command"]


def compare_command(
    profiles: Annotated[
        str | None,
        typer.Option(
            "--profiles",
            help="comma-separated: sandbox providers, or config profiles with --config "
            "(default: all)",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="compare the profiles of this config, not sandboxes"),
    ] = None,
    pricing: Annotated[
        Path | None, typer.Option("--pricing", help="pricing table (TOML), see examples/")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="directory for compare.html/.json")] = Path(
        "compare-report"
    ),
    burst: Annotated[int, typer.Option("--burst", min=0, help="invoices in the burst")] = 50,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="burst requests in flight")
    ] = 16,
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON report")] = False,
) -> None:
    """Compare providers side by side: capabilities, scenario outcomes, canonical errors,
    latency, throughput and cost per 10,000 invoices (服务商对比)."""
    from fapiao.cli.output import console, emit_json, fail
    from fapiao.errors import FapiaoError
    from fapiao.tools.compare import compare_configured, compare_sandboxes, write_report
    from fapiao.tools.compare.pricing import load_pricing
    from fapiao.tools.targets import sandbox_names

    wanted = [p.strip() for p in (profiles or "").split(",") if p.strip()]
    try:
        table = load_pricing(pricing) if pricing is not None else None
        if config is not None:
            from fapiao.engine.config import load_config

            names = wanted or sorted(load_config(config).profiles)
            comparison = compare_configured(
                config, names, burst=burst, concurrency=concurrency, pricing=table
            )
        else:
            names = wanted or sandbox_names()
            if not names:
                fail(
                    "没有安装带沙箱的服务商插件 / no installed provider plugin offers a sandbox",
                    as_json=as_json,
                    code=2,
                )
            comparison = compare_sandboxes(
                names, burst=burst, concurrency=concurrency, pricing=table
            )
    except FapiaoError as exc:
        fail(exc, as_json=as_json, code=2)
    html_path, json_path = write_report(comparison, out)
    if as_json:
        emit_json(comparison.to_dict())
        return
    for profile in comparison.profiles:
        passed = sum(1 for s in profile.scenarios if s.outcome == "pass")
        unsupported = sum(1 for s in profile.scenarios if s.outcome == "unsupported")
        tp = profile.throughput
        rate = f"{tp.issued_per_second:.1f}/s" if tp else "–"
        cost = f"{profile.cost['total']} per 10,000" if profile.cost else "no price"
        console.print(
            f"[bold]{profile.profile}[/]: {passed}/{len(profile.scenarios)} scenarios passed, "
            f"{unsupported} unsupported, burst {rate}, {cost} ({profile.seconds:.1f} s)",
            highlight=False,
        )
    console.print(f"report: {html_path}\ndata:   {json_path}", highlight=False)

"""``fapiao compare``: the same scenario set through several provider profiles, one report.

Usage from code::

    from fapiao.tools.compare import compare_sandboxes, write_report
    comparison = compare_sandboxes(["nuonuo", "baiwang"], burst=50)
    html_path, json_path = write_report(comparison, Path("out"))

The JSON file is the data (schema ``fapiao.compare/1``); the HTML file is drawn from exactly
that data, self-contained (inline CSS and SVG, no script, no external asset).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fapiao.contract.sandbox import SandboxOptions
from fapiao.tools.compare.html import render_html
from fapiao.tools.compare.pricing import PricingTable, cost_per_10k, load_pricing
from fapiao.tools.compare.results import Comparison, ProfileResult
from fapiao.tools.compare.runner import ProfileRunner
from fapiao.tools.targets import Target, config_target, sandbox_target

__all__ = [
    "Comparison",
    "PricingTable",
    "compare_configured",
    "compare_sandboxes",
    "compare_targets",
    "load_pricing",
    "render_html",
    "write_report",
]


async def compare_targets(
    targets: Sequence[Target],
    *,
    burst: int = 50,
    concurrency: int = 16,
    pricing: PricingTable | None = None,
    settle_timeout: float = 30.0,
) -> Comparison:
    """Run every target in turn (never concurrently: one vendor's load must not colour
    another's latencies) and price each from the table."""
    import fapiao

    results: list[ProfileResult] = []
    for target in targets:
        runner = ProfileRunner(
            target, burst=burst, concurrency=concurrency, settle_timeout=settle_timeout
        )
        result = await runner.run()
        if pricing is not None:
            entry = pricing.entry_for(target.profile, target.provider_name)
            if entry is not None:
                cost = cost_per_10k(entry, pricing.assumptions, target.capabilities)
                result.cost = cost.model_dump(mode="json")
        results.append(result)
    notes = [
        "Sandboxes are this project's own servers speaking each vendor's documented protocol "
        "on loopback: latencies compare the protocols and plugins, not the vendors' real "
        "networks."
        if any(t.source == "sandbox" for t in targets)
        else "Profiles from the configuration: real environments.",
        "Exactly-once: an issue whose outcome was unknown was settled by querying, never resent.",
    ]
    for target in targets:
        notes.extend(f"{target.profile}: {n}" for n in target.notes)
    return Comparison(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        fapiao_version=fapiao.__version__,
        burst=burst,
        concurrency=concurrency,
        profiles=results,
        pricing=pricing.model_dump(mode="json", exclude={"providers"}) if pricing else None,
        notes=notes,
    )


def compare_sandboxes(
    providers: Sequence[str],
    *,
    burst: int = 50,
    concurrency: int = 16,
    pricing: PricingTable | None = None,
    options: SandboxOptions | None = None,
) -> Comparison:
    """Start each provider's sandbox and compare them."""
    with ExitStack() as stack:
        targets = [stack.enter_context(sandbox_target(name, options)) for name in providers]
        return asyncio.run(
            compare_targets(targets, burst=burst, concurrency=concurrency, pricing=pricing)
        )


def compare_configured(
    config_file: str | os.PathLike[str] | None,
    profiles: Sequence[str],
    *,
    burst: int = 50,
    concurrency: int = 16,
    pricing: PricingTable | None = None,
) -> Comparison:
    """Compare profiles of the engine's configuration (their real environments)."""
    with ExitStack() as stack:
        targets = [stack.enter_context(config_target(config_file, name)) for name in profiles]
        return asyncio.run(
            compare_targets(targets, burst=burst, concurrency=concurrency, pricing=pricing)
        )


def write_report(
    comparison: Comparison, out_dir: Path, *, stem: str = "compare"
) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.html`` into ``out_dir`` (created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = comparison.to_dict()
    json_path = out_dir / f"{stem}.json"
    html_path = out_dir / f"{stem}.html"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    html_path.write_text(render_html(data), encoding="utf-8")
    return html_path, json_path

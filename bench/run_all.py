"""Run every benchmark in ``bench/`` with small defaults and print their figures (tox ``bench``).

Each ``bench/*.py`` script (except this one and ``_*.py`` helpers) runs in its own process,
one after the other — they measure throughput, so they must not share the CPU. A script
that declares a size option (``--n`` or ``-n`` in its ``--help``) gets a small size so the
whole set finishes in minutes; ``--full`` runs each at its own defaults (and ``--large``
where a script offers it). The exit status is non-zero if any script failed.

    python bench/run_all.py                      # every script, small sizes
    python bench/run_all.py --only engine        # scripts whose name contains "engine"
    python bench/run_all.py --full
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMALL_N = 1000


def scripts(only: str | None) -> list[Path]:
    found = sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    )
    return [p for p in found if only is None or only in p.stem]


def size_arguments(script: Path, *, full: bool, n: int) -> list[str]:
    """The small-size arguments a script understands, read from its own ``--help``."""
    try:
        help_text = subprocess.run(
            [sys.executable, str(script), "--help"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    except subprocess.TimeoutExpired:
        return []
    if full:
        return ["--large"] if re.search(r"(^|\s)--large\b", help_text) else []
    if re.search(r"(^|\s)--n\b", help_text):
        return ["--n", str(n)]
    if re.search(r"(^|\s)-n\b", help_text):
        return ["-n", str(n)]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the scripts whose name contains this")
    parser.add_argument("--n", type=int, default=SMALL_N, help="size given to each script")
    parser.add_argument("--full", action="store_true", help="each script's own (large) sizes")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per script")
    args = parser.parse_args()
    selected = scripts(args.only)
    if not selected:
        print(f"no benchmark matches {args.only!r}", file=sys.stderr)
        return 2
    results: list[tuple[str, int | str, float]] = []
    for script in selected:
        command = [sys.executable, str(script), *size_arguments(script, full=args.full, n=args.n)]
        shown = " ".join([f"bench/{script.name}", *command[2:]])
        print(f"\n=== {shown}", flush=True)
        started = time.monotonic()
        try:
            code: int | str = subprocess.run(command, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        results.append((script.name, code, time.monotonic() - started))
    print("\n=== summary")
    for name, code, seconds in results:
        verdict = "ok" if code == 0 else f"FAILED ({code})"
        print(f"  {name:32s} {verdict:14s} {seconds:7.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

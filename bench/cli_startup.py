"""CLI start-up time: ``fapiao --help`` and ``fapiao validate --help`` against ``python -c pass``.

Why: the CLI is run from shells, cron and CI scripts many times a day, and a command that
takes most of a second before doing anything feels broken. Each command is run as its own
process through the entry the user runs (the ``fapiao`` console script beside this Python,
else ``python -c "from fapiao.cli import main; main()"``), the three commands taking turns so
a busy moment of the machine hits all of them alike. Printed per command: median, min and
max wall time, and the median's ratio to the bare interpreter's (compare ratios, not absolute
figures, across machines). ``import fapiao`` is shown too: every command pays for the
package (its models and errors) before the CLI's own code runs, so it is the floor.

    python bench/cli_startup.py              # 10 runs of each
    python bench/cli_startup.py --runs 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def fapiao_entry() -> list[str]:
    """The command line that starts the CLI as the user starts it."""
    script = Path(sys.executable).with_name("fapiao")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", "from fapiao.cli import main; main()"]


def commands() -> dict[str, list[str]]:
    entry = fapiao_entry()
    return {
        "fapiao --help": [*entry, "--help"],
        "fapiao validate --help": [*entry, "validate", "--help"],
        "python -c 'import fapiao'": [sys.executable, "-c", "import fapiao"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip()[-500:]
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {detail}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (default 10)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    measured = commands()
    times: dict[str, list[float]] = {name: [] for name in measured}
    for argv in measured.values():  # warm the OS caches once, untimed
        timed(argv)
    for _ in range(args.runs):
        for name, argv in measured.items():
            times[name].append(timed(argv))
    baseline = statistics.median(times["python -c pass"])
    print(f"CLI start-up, {args.runs} runs each ({' '.join(fapiao_entry())})")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:26s} median {median:6.3f} s   min {min(values):6.3f} s   "
            f"max {max(values):6.3f} s   {median / baseline:6.1f}x python -c pass"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

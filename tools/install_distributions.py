"""Install every distribution of the monorepo from its path, as a user would (no sys.path
tricks): core with its extras, then each plugin under plugins/. Used by tox and CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def distributions() -> list[str]:
    found = [f"{ROOT / 'core'}[postgres,sandbox]"]
    for pyproject in sorted(ROOT.glob("plugins/*/pyproject.toml")):
        found.append(str(pyproject.parent))
    return found


def main() -> int:
    dists = distributions()
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *dists], check=True)
    # Path installs of an unchanged version may be skipped: force the current sources in.
    bare = [d.split("[")[0] for d in dists]
    subprocess.run([*pip, "--no-deps", "--force-reinstall", *bare], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

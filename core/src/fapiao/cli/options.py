"""The options several commands share, spelt once so that each means the same everywhere.

Only typer and the standard library here: a command module imports these at its top, and
``fapiao CMD --help`` must not pay for anything more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ConfigOption", "JsonOption", "LogFileOption", "LogLevelOption"]

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="FAPIAO_CONFIG",
        show_envvar=True,
        help="config file (default: $FAPIAO_CONFIG, else ./fapiao.toml)",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
LogLevelOption = Annotated[
    str, typer.Option("--log-level", help="debug, info, warning or error (logs are scrubbed)")
]
LogFileOption = Annotated[
    Path | None, typer.Option("--log-file", help="write logs to this file instead of stderr")
]

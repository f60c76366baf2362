"""``fapiao new-plugin NAME``: scaffold a provider plugin distribution (生成服务商插件骨架)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["new_plugin_command"]


def new_plugin_command(
    name: Annotated[str, typer.Argument(help="provider name (entry point), e.g. acme_cloud")],
    directory: Annotated[
        Path, typer.Option("--dir", help="where to create the distribution's folder")
    ] = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="overwrite generated files in an existing folder")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Generate a provider plugin: pyproject with entry points, settings, a provider whose
    operations say "not implemented", a sandbox skeleton, README and conformance tests."""
    from fapiao.cli.output import console, emit_json, fail
    from fapiao.errors import FapiaoError
    from fapiao.tools.scaffold import generate

    try:
        plugin = generate(name, directory, force=force)
    except FapiaoError as exc:
        fail(exc, as_json=as_json, code=2)
    if as_json:
        emit_json(
            {
                "name": plugin.names.name,
                "distribution": plugin.names.dist,
                "package": plugin.names.package,
                "root": str(plugin.root),
                "files": [str(p.relative_to(plugin.root)) for p in plugin.files],
            }
        )
        return
    console.print(
        f"[green]created[/] {plugin.root} ({len(plugin.files)} files): distribution "
        f"[bold]{plugin.names.dist}[/], provider [bold]{plugin.names.name}[/]",
        highlight=False,
    )
    console.print(
        f"next / 下一步:\n  cd {plugin.root}\n  make check   "
        '# python -m pip install -e ".\\[test]" && python -m pytest  (fails until implemented)',
        highlight=False,
    )

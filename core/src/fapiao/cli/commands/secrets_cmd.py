"""``fapiao secrets``: the encrypted secrets file a config references (``secret:NAME``).

``set`` reads the value from a hidden prompt or standard input (never from the command
line, where shell history and ``ps`` would keep it); ``list`` shows names only; ``rotate``
re-encrypts every entry under a new key in one atomic rewrite and stores the new key where
the config finds it (its key file), or prints it once for an environment variable;
``keygen`` prints a new key. Values are never printed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fapiao.cli.lazy import MARKUP_MODE
from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import attempt, report_error
from fapiao.errors import ConfigError

if TYPE_CHECKING:
    from fapiao.engine.config import FapiaoConfig
    from fapiao.engine.secrets import SecretStore

__all__ = ["secrets_app"]

secrets_app = typer.Typer(
    name="secrets",
    help="Manage the encrypted secrets file (加密密钥文件): set, list, rotate, delete, keygen.",
    no_args_is_help=True,
    rich_markup_mode=MARKUP_MODE,
)


def _config(path: Path | None, as_json: bool) -> FapiaoConfig:
    """The config's structure only: secrets can be fixed even while a reference is broken."""
    from fapiao.engine.config import parse_config

    config, problems = parse_config(path)
    if config is None:
        first = problems[0]
        error = ConfigError(first.message_en, message_zh=str(first))
        error.problems = tuple(problems)  # type: ignore[attr-defined]
        report_error(error, as_json=as_json)
    return config


def _store(config: FapiaoConfig, as_json: bool) -> SecretStore:
    from fapiao.engine.config import open_secret_store

    return attempt(lambda: open_secret_store(config), as_json=as_json)


@secrets_app.command("set")
def set_command(
    name: Annotated[str, typer.Argument(help="secret name, as in secret:NAME")],
    stdin: Annotated[
        bool, typer.Option("--stdin", help="read the value from standard input")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add or replace a secret (value from a hidden prompt or --stdin)."""
    from fapiao.cli.output import console, emit_json

    cfg = _config(config, as_json)
    store = _store(cfg, as_json)
    if stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        value = typer.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
    attempt(lambda: store.set(name, value), as_json=as_json)
    if as_json:
        emit_json({"set": name, "file": str(store.path)})
    else:
        console.print(
            f"[green]✓[/] {name} saved in {store.path} (encrypted)", highlight=False, soft_wrap=True
        )


@secrets_app.command("list")
def list_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List secret names (never values) and which config settings reference them."""
    from fapiao.cli.output import console, emit_json

    cfg = _config(config, as_json)
    store = _store(cfg, as_json)
    used: dict[str, list[str]] = {}
    for profile_name, profile in cfg.profiles.items():
        for key, raw in profile.settings.items():
            if isinstance(raw, str) and raw.startswith("secret:"):
                used.setdefault(raw.removeprefix("secret:"), []).append(
                    f"profiles.{profile_name}.settings.{key}"
                )
    names = store.names()
    missing = sorted(set(used) - set(names))
    if as_json:
        emit_json(
            {
                "file": str(store.path),
                "secrets": [{"name": n, "referenced_by": used.get(n, [])} for n in names],
                "missing": [{"name": n, "referenced_by": used[n]} for n in missing],
            }
        )
    else:
        for n in names:
            where = ", ".join(used.get(n, [])) or "(not referenced)"
            console.print(f"  {n}  [dim]{where}[/]", highlight=False, soft_wrap=True)
        for n in missing:
            console.print(
                f"  [red]{n}  missing / 缺失[/] referenced by {', '.join(used[n])}",
                highlight=False,
                soft_wrap=True,
            )
        console.print(f"{len(names)} secrets in {store.path}", highlight=False, soft_wrap=True)
    if missing:
        raise typer.Exit(1)


@secrets_app.command("delete")
def delete_command(
    name: Annotated[str, typer.Argument(help="secret name")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a secret."""
    from fapiao.cli.output import console, emit_json

    cfg = _config(config, as_json)
    store = _store(cfg, as_json)
    attempt(lambda: store.delete(name), as_json=as_json)
    if as_json:
        emit_json({"deleted": name})
    else:
        console.print(f"[green]✓[/] {name} deleted", highlight=False, soft_wrap=True)


@secrets_app.command("rotate")
def rotate_command(
    new_key_file: Annotated[
        Path | None, typer.Option("--new-key-file", help="write the new key here (mode 0600)")
    ] = None,
    print_key: Annotated[
        bool, typer.Option("--print-key", help="print the new key (for an environment variable)")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-encrypt every secret under a new key (atomic; the old key stops working)."""
    from fapiao.cli.output import console, emit_json, fail
    from fapiao.engine.secrets import generate_key

    cfg = _config(config, as_json)
    store = _store(cfg, as_json)
    key_env = cfg.secrets.key_env
    target = new_key_file
    if target is None and cfg.key_file_path() is not None and not os.environ.get(key_env):
        target = cfg.key_file_path()
    if target is None and not print_key:
        fail(
            f"密钥来自环境变量 {key_env}：请加 --print-key 或 --new-key-file / the key comes from "
            f"{key_env}: pass --print-key (then update the variable) or --new-key-file",
            as_json=as_json,
            code=2,
        )
    key = generate_key()
    staged: Path | None = None
    if target is not None:
        # the new key is on disk before the store changes, so it can never be lost
        staged = target.with_name(target.name + ".new")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    attempt(lambda: store.rotate(key), as_json=as_json)
    if staged is not None and target is not None:
        os.replace(staged, target)
    result: dict[str, object] = {"rotated": len(store.names()), "file": str(store.path)}
    if target is not None:
        result["key_file"] = str(target)
    if print_key:
        result["new_key"] = key
    if as_json:
        emit_json(result)
        return
    console.print(
        f"[green]✓[/] {result['rotated']} secrets re-encrypted in {store.path}", highlight=False
    )
    if target is not None:
        console.print(f"  new key written to {target}", highlight=False, soft_wrap=True)
    if print_key:
        console.print(f"  new key (set {key_env} to it now; shown once):")
        typer.echo(key)


@secrets_app.command("keygen")
def keygen_command(as_json: JsonOption = False) -> None:
    """Print a new random 256-bit key (base64) for FAPIAO_SECRETS_KEY or a key file."""
    from fapiao.cli.output import emit_json
    from fapiao.engine.secrets import generate_key

    key = generate_key()
    if as_json:
        emit_json({"key": key})
    else:
        typer.echo(key)

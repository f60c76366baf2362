"""The CLI starts light: the root app lists every command without importing any, a command's
module is imported when that command is used, and plugins are imported for their commands
only when the command line can need one. Structural checks (what is imported), never timed:
``bench/cli_startup.py`` measures the time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.core import TyperGroup
from typer.testing import CliRunner

from fapiao.cli.app import app, load_commands
from fapiao.cli.builtins import BUILTIN_NAMES, BUILTINS
from fapiao.cli.plugin_commands import (
    PLUGIN_GROUP_PREFIX,
    may_add_commands,
    needs_plugin_commands,
)
from fapiao.plugins import CONNECTOR_GROUP, HOOKS_GROUP, PROVIDER_GROUP

HEAVY = ("sqlalchemy", "fastapi", "uvicorn", "httpx", "fapiao.engine", "fapiao.service")

# runs the console script's main() with ARGS, then writes the imported module names to OUT
_PROBE = """
import json, sys
out, sys.argv = sys.argv[1], ["fapiao", *sys.argv[2:]]
from fapiao.cli import main
try:
    main()
except SystemExit:
    pass
open(out, "w").write(json.dumps(sorted(sys.modules)))
"""


def _imported_by(tmp_path: Path, *args: str, pythonpath: Path | None = None) -> set[str]:
    out = tmp_path / "modules.json"
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return set(json.loads(out.read_text()))


def _loaded(modules: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def test_importing_the_cli_app_imports_no_engine_web_stack_or_rich() -> None:
    code = "import json, sys; import fapiao.cli.app; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    modules = set(json.loads(done.stdout))
    for heavy in (*HEAVY, "rich", "stevedore", "fapiao.cli.commands.batch"):
        assert not _loaded(modules, heavy), heavy


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"]])
def test_help_imports_no_other_command_nor_what_commands_need(
    tmp_path: Path, args: list[str]
) -> None:
    modules = _imported_by(tmp_path, *args)
    for heavy in (*HEAVY, "rich", "fapiao.rules", "fapiao.cli.validation"):
        assert not _loaded(modules, heavy), heavy
    commands = {m for m in modules if m.startswith("fapiao.cli.commands.")}
    assert commands == ({"fapiao.cli.commands.validate"} if args[0] == "validate" else set())


def test_a_builtin_command_line_loads_no_plugin(tmp_path: Path) -> None:
    modules = _imported_by(tmp_path, "schema", "delivery")
    assert not _loaded(modules, "stevedore")
    assert not any(_loaded(modules, m) for m in ("fapiao_provider_a", "fapiao_provider_b"))


def test_every_builtin_loads_under_its_name_with_the_summary_listed() -> None:
    load_commands()
    for builtin in BUILTINS:
        command = builtin.command()
        assert command.name == builtin.name
        assert isinstance(command, TyperGroup) is builtin.group, builtin.name
        first_paragraph = (command.help or "").split("\n\n")[0]
        assert first_paragraph.split() == builtin.summary.split(), builtin.name


def test_help_lists_every_command_with_its_whole_summary() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    listed = " ".join(result.output.split())
    for builtin in BUILTINS:
        assert f"{builtin.name} {' '.join(builtin.summary.split())}" in listed


def test_a_command_keeps_its_options_and_errors_without_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["batch", "--help"])
    assert result.exit_code == 0
    for option in ("--config", "--format", "--concurrency", "--pilot", "--settle", "--json"):
        assert option in result.output
    wrong = CliRunner().invoke(app, ["validate", "--no-such-option"])
    assert wrong.exit_code == 2
    assert "No such option" in wrong.output and "Traceback" not in wrong.output
    typo = CliRunner().invoke(app, ["valdate"])
    assert typo.exit_code == 2 and "validate" in typo.output  # suggested


def test_every_group_discovery_loads_is_read_for_commands() -> None:
    assert all(g.startswith(PLUGIN_GROUP_PREFIX) for g in (PROVIDER_GROUP, CONNECTOR_GROUP))
    assert HOOKS_GROUP.startswith(PLUGIN_GROUP_PREFIX)


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        ([], True),
        (["--help"], True),
        (["--help", "validate"], True),
        (["--show-completion"], True),
        (["goodtest-hello"], True),
        (["valdate", "x.json"], True),
        (["validate", "--help"], False),
        (["secrets", "list"], False),
    ],
)
def test_plugins_are_needed_only_when_no_builtin_is_named(args: list[str], needed: bool) -> None:
    assert needs_plugin_commands(args, BUILTIN_NAMES) is needed


def _write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")


def test_whether_a_plugin_can_add_commands_is_read_from_its_package_unimported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path,
        {
            "cmdtest_hooked.py": "from fapiao.hookspecs import hookimpl\n"
            "@hookimpl\ndef fapiao_register_commands(cli): ...\n",
            "cmdtest_plain.py": "raise ImportError('must not be imported')\n",
            "cmdtest_pkg/__init__.py": "raise ImportError('must not be imported')\n",
            "cmdtest_pkg/provider.py": "from .hooks import Hooks\nclass P:\n    fapiao_hooks = Hooks()\n",
            "cmdtest_pkg/hooks.py": "class Hooks: ...\n",
            "cmdtest_quiet/__init__.py": "raise ImportError('must not be imported')\n",
            "cmdtest_quiet/provider.py": "class P: ...\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert may_add_commands("cmdtest_hooked")
    assert not may_add_commands("cmdtest_plain")
    assert may_add_commands("cmdtest_pkg.provider")  # a fapiao_hooks object, anywhere in it
    assert not may_add_commands("cmdtest_quiet.provider")
    assert may_add_commands("cmdtest_nowhere.provider")  # cannot tell: load it
    assert not any(m.startswith("cmdtest_") for m in sys.modules)


def _install_fake_plugin(
    root: Path, name: str, module_source: str, *, group: str = PROVIDER_GROUP
) -> None:
    info = root / f"{name}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    target = f"{name}_mod:Provider" if group == PROVIDER_GROUP else f"{name}_mod"
    (info / "entry_points.txt").write_text(f"[{group}]\n{name} = {target}\n")
    (info / "RECORD").write_text("")
    _write(root, {f"{name}_mod.py": module_source})


def _fapiao(args: list[str], pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(pythonpath) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", "from fapiao.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("group", [PROVIDER_GROUP, HOOKS_GROUP])
def test_help_lists_the_commands_a_plugin_adds(tmp_path: Path, group: str) -> None:
    _install_fake_plugin(
        tmp_path,
        "cmdtest_good",
        """
        from fapiao.hookspecs import hookimpl

        class Provider: ...

        @hookimpl
        def fapiao_register_commands(cli):
            @cli.command("cmdtest-hello")
            def hello() -> None:
                \"\"\"Say hello from a plugin.\"\"\"
        """,
        group=group,
    )
    done = _fapiao(["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    listed = " ".join(done.stdout.split())
    assert "cmdtest-hello Say hello from a plugin." in listed


def test_help_imports_no_plugin_that_cannot_add_a_command(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    _install_fake_plugin(plugins, "cmdtest_quiet", "raise ImportError('imported for --help')\n")
    done = _fapiao(["--help"], plugins)
    assert done.returncode == 0 and done.stderr == ""
    modules = _imported_by(tmp_path, "--help", pythonpath=plugins)
    assert not _loaded(modules, "stevedore") and "cmdtest_quiet_mod" not in modules


def test_a_plugin_whose_commands_fail_does_not_take_the_cli_down(tmp_path: Path) -> None:
    _install_fake_plugin(
        tmp_path,
        "cmdtest_bad",
        """
        from fapiao.hookspecs import hookimpl

        class Provider: ...

        @hookimpl
        def fapiao_register_commands(cli):
            raise RuntimeError("no [bold]commands[/] today")
        """,
    )
    done = _fapiao(["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "validate" in done.stdout
    assert (
        "plugin commands not loaded" in done.stderr and "no [bold]commands[/] today" in done.stderr
    )
    assert "Traceback" not in done.stderr

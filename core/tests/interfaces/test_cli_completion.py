"""Shell completion through ``fapiao completion SHELL`` (the root no longer carries typer's
``--install-completion`` options, whose parsing cost every invocation a pydantic import)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _fapiao() -> list[str]:
    """The console script's own entry point, in this interpreter."""
    return [sys.executable, "-c", "from fapiao.cli import main; main()"]


def test_completion_script_calls_fapiao_back() -> None:
    run = subprocess.run([*_fapiao(), "completion", "bash"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "_FAPIAO_COMPLETE=complete_bash" in run.stdout
    assert "complete " in run.stdout and "fapiao" in run.stdout


def test_the_completion_script_completes_command_names() -> None:
    env = {**os.environ, "COMP_WORDS": "fapiao val", "COMP_CWORD": "1"}
    env["_FAPIAO_COMPLETE"] = "complete_bash"
    run = subprocess.run(_fapiao(), capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["validate"]


@pytest.mark.parametrize("shell", ["tcsh", ""])
def test_an_unknown_shell_is_refused_bilingually(shell: str) -> None:
    run = subprocess.run([*_fapiao(), "completion", shell], capture_output=True, text=True)
    assert run.returncode == 2
    assert "不支持的 shell / unsupported shell" in run.stderr
    assert "Traceback" not in run.stderr

"""``fapiao new-plugin``: a provider plugin distribution that installs and runs its tests in
one command, failing honestly until the operations are written.

The templates (package data under ``templates/``) are ``string.Template`` files: ``$name``,
``$package``, ``$cls``, ``$dist``, ``$title`` and a few generated values; a path segment
``__package__`` becomes the import package. What is generated mirrors provider_b, the
worked example of docs/plugin-authors.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from fapiao.errors import ConfigError

__all__ = ["GeneratedPlugin", "PluginNames", "generate", "plugin_names"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True)
class PluginNames:
    name: str  # entry point name, e.g. "acme"
    dist: str  # distribution, e.g. "fapiao-provider-acme"
    package: str  # import package, e.g. "fapiao_provider_acme"
    cls: str  # class prefix, e.g. "Acme"
    title: str  # display name, e.g. "Acme"


@dataclass(frozen=True)
class GeneratedPlugin:
    names: PluginNames
    root: Path
    files: tuple[Path, ...]


def plugin_names(name: str) -> PluginNames:
    """Derive every name from the provider's entry-point name (a lowercase identifier)."""
    if not _NAME.match(name) or name.endswith("_") or "__" in name:
        raise ConfigError(
            f"plugin name {name!r} must be a lowercase identifier of 2-40 characters "
            "(letters, digits, single underscores; starting with a letter), e.g. acme_cloud",
            message_zh=f"插件名 {name!r} 须为 2–40 个字符的小写标识符（字母开头，可含数字与单个下划线），如 acme_cloud",
            field="NAME",
        )
    parts = name.split("_")
    return PluginNames(
        name=name,
        dist="fapiao-provider-" + name.replace("_", "-"),
        package="fapiao_provider_" + name,
        cls="".join(p.capitalize() for p in parts),
        title=" ".join(p.capitalize() for p in parts),
    )


def _demo_tax_id(name: str) -> str:
    """A valid USCC for the sandbox's demo seller, different for every plugin name."""
    from fapiao.rules import USCC_ALPHABET, uscc_check_char

    digest = hashlib.sha256(name.encode()).digest()
    letters = "".join(USCC_ALPHABET[b % len(USCC_ALPHABET)] for b in digest[:7])
    first17 = "91110108MA" + letters
    return first17 + uscc_check_char(first17)


def _templates() -> Traversable:
    return files("fapiao.tools.scaffold").joinpath("templates")


def _walk(node: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                found.extend(_walk(child, (*prefix, child.name)))
        elif child.name.endswith(".tmpl"):
            found.append(((*prefix, child.name.removesuffix(".tmpl")), child.read_text("utf-8")))
    return found


def generate(name: str, directory: Path, *, force: bool = False) -> GeneratedPlugin:
    """Write the distribution into ``directory/<dist>``; refuses a non-empty target unless
    ``force`` (then generated files are overwritten, others left alone)."""
    import fapiao

    names = plugin_names(name)
    root = directory / names.dist
    if root.exists() and any(root.iterdir()) and not force:
        raise ConfigError(
            f"{root} exists and is not empty (use --force to overwrite the generated files)",
            message_zh=f"{root} 已存在且非空（如需覆盖生成的文件请加 --force）",
            field="--dir",
        )
    values = {
        "name": names.name,
        "dist": names.dist,
        "package": names.package,
        "cls": names.cls,
        "title": names.title,
        "fapiao_version": fapiao.__version__,
        "seller_tax_id": _demo_tax_id(names.name),
        "demo_secret": f"{names.name}-sandbox-secret-"
        + hashlib.sha256(names.name.encode()).hexdigest()[:12],
    }
    written: list[Path] = []
    for parts, text in _walk(_templates()):
        path = root.joinpath(*(names.package if p == "__package__" else p for p in parts))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(values), encoding="utf-8")
        written.append(path)
    return GeneratedPlugin(names, root, tuple(written))

"""A complete fapiao installation on loopback: provider sandboxes, config, encrypted secrets.

The demo, the interface tests and the benchmark all need the same thing a real deployment
has — a TOML config routing subsidiaries to provider profiles, secrets only *referenced*
from it and kept in an AES-GCM file, an SQLite ledger — wired to the providers' own
sandboxes, which plugins advertise in the ``fapiao.sandboxes`` entry-point group (core
never imports a plugin). Settings the plugin declares secret (``SecretStr``) go to the
secrets file as ``<profile>.<setting>``; everything else is written in clear.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, SecretBytes, SecretStr

from fapiao.contract.sandbox import RunningSandbox, SandboxOptions
from fapiao.engine.secrets import SecretStore, generate_key
from fapiao.errors import ConfigError

__all__ = [
    "DEMO_KEY_ENV",
    "ProfileSpec",
    "StartedSandboxes",
    "secret_setting_names",
    "start_sandboxes",
    "toml_dumps",
    "write_installation",
]

DEMO_KEY_ENV = "FAPIAO_DEMO_SECRETS_KEY"
"""The key variable demo configs name: a user's own ``FAPIAO_SECRETS_KEY`` (which wins over a
key file) must not shadow the demo's key file."""


# -- sandboxes --------------------------------------------------------------------------------


@dataclass
class StartedSandboxes:
    """Running sandboxes by provider name; stopped when the ``with`` block ends."""

    sandboxes: dict[str, RunningSandbox]

    def __getitem__(self, provider: str) -> RunningSandbox:
        return self.sandboxes[provider]


@contextlib.contextmanager
def start_sandboxes(
    wanted: Mapping[str, SandboxOptions | None],
) -> Iterator[StartedSandboxes]:
    """Start each wanted provider's sandbox through its advertised starter."""
    from fapiao.plugins import sandbox_starters

    starters, broken = sandbox_starters()
    missing = [name for name in wanted if name not in starters]
    if missing:
        why = "; ".join(b.error for b in broken if b.name in missing)
        installed = ", ".join(sorted(starters)) or "none"
        raise ConfigError(
            f"no sandbox for provider(s) {', '.join(missing)} (installed: {installed})"
            + (f": {why}" if why else "")
            + "; install the provider plugins (pip install -e plugins/provider_a "
            "plugins/provider_b)",
            message_zh=f"缺少服务商沙箱：{', '.join(missing)}（已安装：{installed}）；"
            "请安装服务商插件",
        )
    with contextlib.ExitStack() as stack:
        running = {
            name: stack.enter_context(starters[name](options)) for name, options in wanted.items()
        }
        yield StartedSandboxes(running)


# -- secrets in settings ----------------------------------------------------------------------


def _mentions_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_mentions_secret(arg) for arg in get_args(annotation))


def secret_setting_names(settings_model: type[BaseModel]) -> frozenset[str]:
    """The settings a plugin declares secret (typed ``SecretStr``)."""
    return frozenset(
        name
        for name, info in settings_model.model_fields.items()
        if _mentions_secret(info.annotation)
    )


# -- the config file ---------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def toml_dumps(document: Mapping[str, Any], _prefix: str = "") -> str:
    """TOML for the config's shapes (tables of scalars and lists, nested tables)."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in document.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif value is not None:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    out = "\n".join(lines)
    for key, table in tables:
        name = f"{_prefix}.{_toml_key(key)}" if _prefix else _toml_key(key)
        body = toml_dumps(table, name)
        has_scalars = any(not isinstance(v, Mapping) for v in table.values())
        header = f"[{name}]\n" if has_scalars or not table else ""
        out += ("\n\n" if out else "") + header + body
    return out.strip("\n") + ("\n" if not _prefix else "")


@dataclass(frozen=True)
class ProfileSpec:
    """One provider profile of the installation and the sellers routed to it."""

    name: str
    sandbox: RunningSandbox
    sellers: Sequence[str]
    settings: Mapping[str, Any] = field(default_factory=dict)  # added or overriding
    limits: Mapping[str, Any] = field(default_factory=dict)


def write_installation(
    directory: Path,
    profiles: Sequence[ProfileSpec],
    *,
    ledger_url: str = "sqlite:///ledger.db",
    key_env: str = DEMO_KEY_ENV,
    engine: Mapping[str, Any] | None = None,
    monitoring: Mapping[str, Any] | None = None,
) -> tuple[Path, list[str]]:
    """Write ``fapiao.toml``, ``secrets.enc`` and ``secrets.key`` (mode 0600) into
    ``directory``; returns the config path and every secret value written (for tests that
    grep logs and outputs for them)."""
    from fapiao.plugins import discover

    directory.mkdir(parents=True, exist_ok=True)
    key_file = directory / "secrets.key"
    key = generate_key()
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    (directory / "secrets.enc").unlink(missing_ok=True)  # a new key starts a new store
    store = SecretStore.open(directory / "secrets.enc", key)
    registry = discover()
    secrets: list[str] = []
    profile_tables: dict[str, Any] = {}
    routing: dict[str, str] = {}
    for spec in profiles:
        plugin = registry.provider_class(spec.sandbox.provider)
        secret_names = secret_setting_names(plugin.settings_model)
        settings: dict[str, Any] = {}
        for name, value in {**spec.sandbox.settings, **spec.settings}.items():
            if value is None:
                continue
            if name in secret_names:
                store.set(f"{spec.name}.{name}", str(value))
                secrets.append(str(value))
                settings[name] = f"secret:{spec.name}.{name}"
            else:
                settings[name] = value
        table: dict[str, Any] = {
            "provider": spec.sandbox.provider,
            "environment": "sandbox",
            "settings": settings,
        }
        if spec.limits:
            table["limits"] = dict(spec.limits)
        profile_tables[spec.name] = table
        for seller in spec.sellers:
            routing[seller] = spec.name
    document: dict[str, Any] = {
        "ledger": {"url": ledger_url},
        "secrets": {"file": "secrets.enc", "key_file": "secrets.key", "key_env": key_env},
        "engine": dict(engine or {}),
        "monitoring": dict(monitoring or {}),
        "profiles": profile_tables,
        "routing": routing,
    }
    document = {k: v for k, v in document.items() if v != {}}
    path = directory / "fapiao.toml"
    header = (
        "# fapiao config written by `fapiao demo`: two subsidiaries on two providers.\n"
        "# Secrets are referenced (secret:NAME) from secrets.enc, never written here.\n\n"
    )
    path.write_text(header + toml_dumps(document), encoding="utf-8")
    return path, secrets

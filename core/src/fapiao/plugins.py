"""Plugin discovery with stevedore: providers and connectors from entry points.

A plugin that fails to import is recorded with its error and never breaks the others;
``fapiao plugins`` shows it as broken. Loading a plugin also registers its hook
implementations with the shared pluggy manager (the same entry point serves both).
"""

from __future__ import annotations

import importlib.metadata as md
import sys
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import pluggy
from stevedore import ExtensionManager

from fapiao import hookspecs
from fapiao.errors import ConfigError

__all__ = [
    "CONNECTOR_GROUP",
    "PROVIDER_GROUP",
    "BrokenPlugin",
    "LoadedPlugin",
    "PluginRegistry",
    "discover",
    "get_plugin_manager",
    "sandbox_starters",
]

PROVIDER_GROUP = "fapiao.providers"
CONNECTOR_GROUP = "fapiao.connectors"
Kind = Literal["provider", "connector"]


@dataclass(frozen=True)
class LoadedPlugin:
    kind: Kind
    name: str
    obj: Any
    distribution: str | None
    version: str | None


@dataclass(frozen=True)
class BrokenPlugin:
    kind: Kind
    name: str
    entry_point: str
    distribution: str | None
    error: str
    detail: str


@dataclass
class PluginRegistry:
    providers: dict[str, LoadedPlugin] = field(default_factory=dict)
    connectors: dict[str, LoadedPlugin] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)

    def provider_class(self, name: str) -> Any:
        return self._get(self.providers, "provider", name).obj

    def connector_class(self, name: str) -> Any:
        return self._get(self.connectors, "connector", name).obj

    def _get(self, table: dict[str, LoadedPlugin], kind: Kind, name: str) -> LoadedPlugin:
        if name in table:
            return table[name]
        broken = [b for b in self.broken if b.kind == kind and b.name == name]
        if broken:
            raise ConfigError(
                f"{kind} plugin {name!r} is installed but failed to load: {broken[0].error}",
                message_zh=f"插件 {name} 已安装但加载失败：{broken[0].error}",
            )
        known = ", ".join(sorted(table)) or "none"
        raise ConfigError(
            f"unknown {kind} {name!r}; installed: {known}",
            message_zh=f"未知的{'服务商' if kind == 'provider' else '连接器'}插件 {name}；已安装：{known}",
        )


@lru_cache(maxsize=1)
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide hook manager (hooks from every loaded plugin)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


@lru_cache(maxsize=1)
def _entry_point_owners() -> dict[tuple[str, str, str], tuple[str, str]]:
    """(group, name, value) -> (distribution, version); stevedore's cached entry points
    don't always carry their distribution."""
    owners: dict[tuple[str, str, str], tuple[str, str]] = {}
    for dist in md.distributions():
        for ep in dist.entry_points:
            if ep.group in (PROVIDER_GROUP, CONNECTOR_GROUP):
                owners[(ep.group, ep.name, ep.value)] = (dist.metadata["Name"], dist.version)
    return owners


def _dist_of(ep: md.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is not None:
        return dist.metadata["Name"], dist.version
    owner = _entry_point_owners().get((ep.group, ep.name, ep.value))
    return owner if owner is not None else (None, None)


def _register_hooks(pm: pluggy.PluginManager, obj: Any) -> None:
    target = getattr(obj, "fapiao_hooks", None)
    if target is None:
        module_name = getattr(obj, "__module__", None)
        target = sys.modules.get(module_name) if module_name else None
    if target is not None and not pm.is_registered(target):
        pm.register(target)


def _load_group(group: str, kind: Kind, registry: PluginRegistry, pm: pluggy.PluginManager) -> None:
    failures: list[tuple[md.EntryPoint, BaseException]] = []

    def on_failure(_manager: Any, ep: md.EntryPoint, exc: BaseException) -> None:
        failures.append((ep, exc))

    manager = ExtensionManager(
        namespace=group,
        invoke_on_load=False,
        on_load_failure_callback=on_failure,
    )
    table = registry.providers if kind == "provider" else registry.connectors
    for ext in manager:
        dist_name, version = _dist_of(ext.entry_point)
        table[ext.name] = LoadedPlugin(kind, ext.name, ext.plugin, dist_name, version)
        try:
            _register_hooks(pm, ext.plugin)
        except Exception as exc:  # a bad hookimpl signature must not break discovery
            registry.broken.append(
                BrokenPlugin(
                    kind,
                    ext.name,
                    ext.entry_point.value,
                    dist_name,
                    f"hook registration failed: {exc}",
                    traceback.format_exc(),
                )
            )
    for ep, failure in failures:
        dist_name, _ = _dist_of(ep)
        registry.broken.append(
            BrokenPlugin(
                kind,
                ep.name,
                ep.value,
                dist_name,
                f"{type(failure).__name__}: {failure}",
                "".join(traceback.format_exception(failure)),
            )
        )


def discover() -> PluginRegistry:
    """Load every installed provider and connector plugin (cheap: classes, not instances)."""
    registry = PluginRegistry()
    pm = get_plugin_manager()
    _load_group(PROVIDER_GROUP, "provider", registry, pm)
    _load_group(CONNECTOR_GROUP, "connector", registry, pm)
    return registry


def sandbox_starters() -> tuple[dict[str, Any], list[BrokenPlugin]]:
    """Sandbox starters advertised by provider plugins (group ``fapiao.sandboxes``)."""
    from fapiao.contract.sandbox import SANDBOX_GROUP

    failures: list[tuple[md.EntryPoint, BaseException]] = []

    def on_failure(_manager: Any, ep: md.EntryPoint, exc: BaseException) -> None:
        failures.append((ep, exc))

    manager = ExtensionManager(
        namespace=SANDBOX_GROUP, invoke_on_load=False, on_load_failure_callback=on_failure
    )
    starters = {ext.name: ext.plugin for ext in manager}
    broken = [
        BrokenPlugin(
            "provider", ep.name, ep.value, None, f"sandbox: {type(exc).__name__}: {exc}", ""
        )
        for ep, exc in failures
    ]
    return starters, broken

"""Plugin discovery with stevedore: providers, connectors and hook plugins from entry points.

Three groups: ``fapiao.providers`` and ``fapiao.connectors`` name a class; loading one also
registers the hook implementations of its module (or of its ``fapiao_hooks`` object) with the
shared pluggy manager. ``fapiao.hooks`` names a module or object that holds hook
implementations and nothing else, so a plugin that only extends (archives invoices to object
storage, adds a CLI command, a company's own validation rule) installs like any other.

A plugin that fails to import, or whose hooks pluggy refuses (a wrong signature, a hook name
fapiao does not define), is recorded with its error and never breaks the others;
``fapiao plugins`` shows it as broken.
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
    "HOOKS_GROUP",
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
HOOKS_GROUP = "fapiao.hooks"
Kind = Literal["provider", "connector", "hooks"]
_GROUPS: dict[Kind, str] = {
    "provider": PROVIDER_GROUP,
    "connector": CONNECTOR_GROUP,
    "hooks": HOOKS_GROUP,
}


@dataclass(frozen=True)
class LoadedPlugin:
    kind: Kind
    name: str
    obj: Any
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...] = ()
    """The hooks it implements (``fapiao_archive_invoice``, ...)."""


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
    hooks: dict[str, LoadedPlugin] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)

    def table(self, kind: Kind) -> dict[str, LoadedPlugin]:
        """The loaded plugins of one kind, by entry-point name."""
        return {"provider": self.providers, "connector": self.connectors, "hooks": self.hooks}[kind]

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
            if ep.group in _GROUPS.values():
                owners[(ep.group, ep.name, ep.value)] = (dist.metadata["Name"], dist.version)
    return owners


def _dist_of(ep: md.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is not None:
        return dist.metadata["Name"], dist.version
    owner = _entry_point_owners().get((ep.group, ep.name, ep.value))
    return owner if owner is not None else (None, None)


def _hook_target(kind: Kind, obj: Any) -> Any:
    """What holds a plugin's hook implementations: a hooks entry point names it; a provider or
    connector keeps them in its module (or in that module's ``fapiao_hooks`` object)."""
    if kind == "hooks":
        return obj
    target = getattr(obj, "fapiao_hooks", None)
    if target is None:
        module_name = getattr(obj, "__module__", None)
        target = sys.modules.get(module_name) if module_name else None
    return target


def _unknown_hooks(pm: pluggy.PluginManager, target: Any) -> list[str]:
    """Hook implementations of ``target`` naming no fapiao hook (a typo would never be called)."""
    return sorted(
        caller.name
        for caller in pm.get_hookcallers(target) or []
        if not caller.has_spec()
        and any(impl.plugin is target and not impl.optionalhook for impl in caller.get_hookimpls())
    )


def _register_hooks(pm: pluggy.PluginManager, kind: Kind, obj: Any) -> tuple[str, ...]:
    """Register the plugin's hook implementations; the names of the hooks it implements.

    Raises (and registers nothing) when pluggy refuses them, when one names no fapiao hook, or
    when a hooks entry point holds none at all."""
    target = _hook_target(kind, obj)
    if target is None:
        return ()
    if not pm.is_registered(target):
        try:
            pm.register(target)
        except Exception:
            if pm.is_registered(target):  # pluggy keeps what it took before refusing one hook
                pm.unregister(target)
            raise
        unknown = _unknown_hooks(pm, target)
        if unknown:
            pm.unregister(target)
            known = ", ".join(sorted(n for n in dir(hookspecs) if n.startswith("fapiao_")))
            raise ConfigError(
                f"unknown hook(s) {', '.join(unknown)}; fapiao's hooks: {known}",
                message_zh=f"未知的钩子 {'、'.join(unknown)}；fapiao 的钩子有：{known}",
            )
    implemented = tuple(sorted(caller.name for caller in pm.get_hookcallers(target) or []))
    if kind == "hooks" and not implemented:
        pm.unregister(target)
        raise ConfigError(
            f"{obj!r} holds no fapiao hook implementation (functions marked @hookimpl)",
            message_zh=f"{obj!r} 中没有 fapiao 钩子实现（以 @hookimpl 标记的函数）",
        )
    return implemented


def _load_group(kind: Kind, registry: PluginRegistry, pm: pluggy.PluginManager) -> None:
    failures: list[tuple[md.EntryPoint, BaseException]] = []

    def on_failure(_manager: Any, ep: md.EntryPoint, exc: BaseException) -> None:
        failures.append((ep, exc))

    manager = ExtensionManager(
        namespace=_GROUPS[kind],
        invoke_on_load=False,
        on_load_failure_callback=on_failure,
    )
    table = registry.table(kind)
    for ext in manager:
        dist_name, version = _dist_of(ext.entry_point)
        try:
            hooks = _register_hooks(pm, kind, ext.plugin)
        except Exception as exc:  # a bad hookimpl must not break discovery
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
            if kind == "hooks":
                continue  # nothing else to use: a provider or connector class stays usable
            hooks = ()
        table[ext.name] = LoadedPlugin(kind, ext.name, ext.plugin, dist_name, version, hooks)
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
    """Load every installed provider, connector and hook plugin (cheap: classes, not
    instances) and register their hook implementations."""
    registry = PluginRegistry()
    pm = get_plugin_manager()
    for kind in _GROUPS:
        _load_group(kind, registry, pm)
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
